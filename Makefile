# The README's first two commands: `make demo` and `make test`. Everything installs from this repo.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-all bench build build-linux lint format lock clean

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/tasseograph demo

lint: $(STAMP)
	$(BIN)/ruff check tasseograph tests

test: lint
	$(BIN)/pytest

# everything, slow soak/load tests included
test-all: lint
	$(BIN)/pytest -m ''

bench: $(STAMP)
	$(BIN)/python -m tests.bench

build: $(STAMP)
	$(BIN)/python -m tasseograph.build --arch native

build-linux: $(STAMP)
	$(BIN)/python -m tasseograph.build --arch amd64 --arch arm64

format: $(STAMP)
	$(BIN)/ruff format tasseograph tests
	$(BIN)/ruff check --fix tasseograph tests

# regenerate the pinned versions CI installs (after changing dependencies in pyproject.toml)
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^tasseograph' > requirements/constraints.txt

clean:
	rm -rf $(VENV) dist build evals/runs .pytest_cache
