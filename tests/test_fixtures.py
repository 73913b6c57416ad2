"""The labelled corpora in fixtures/ are well-formed, balanced, and what the generator makes."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CORPORA = [FIXTURES / "dev", FIXTURES / "test"]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"fixtures_{name}", FIXTURES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


checker = _load("check_corpus")


@pytest.fixture(scope="module")
def checked() -> tuple[list, list[str]]:
    return checker.check_corpora(CORPORA)


def test_corpora_have_no_problems(checked: tuple[list, list[str]]) -> None:
    _, problems = checked
    assert problems == []


def test_size_and_split(checked: tuple[list, list[str]]) -> None:
    reports, _ = checked
    sizes = {r.name: len(r.labels) for r in reports}
    assert sum(sizes.values()) >= 240
    assert 0.50 <= sizes["dev"] / sum(sizes.values()) <= 0.60


@pytest.mark.parametrize("corpus", ["dev", "test"])
def test_every_status_present_in_roughly_planned_mix(checked: tuple[list, list[str]], corpus: str) -> None:
    report = next(r for r in checked[0] if r.name == corpus)
    counts = report.by_status()
    total = sum(counts.values())
    assert all(counts[s] > 0 for s in ("ok", "warning", "critical"))
    assert 0.38 <= counts["ok"] / total <= 0.52
    assert 0.22 <= counts["warning"] / total <= 0.36
    assert 0.18 <= counts["critical"] / total <= 0.32


def test_families_present_at_warning_and_critical(checked: tuple[list, list[str]]) -> None:
    levels: dict[str, set[str]] = {"warning": set(), "critical": set()}
    for report in checked[0]:
        for status, families in report.families_by_status().items():
            if status in levels:
                levels[status] |= families
    assert len(levels["warning"] & levels["critical"]) >= 8


def test_eval_harness_loads_corpora_with_same_manifest(checked: tuple[list, list[str]]) -> None:
    corpus_module = pytest.importorskip("tasseograph.evals.corpus")
    for report in checked[0]:
        loaded = corpus_module.load_corpus(report.path)
        assert len(loaded.cases) == len(report.labels)
        assert loaded.manifest_hash == report.manifest()


@pytest.mark.parametrize("split", ["dev", "test"])
def test_committed_files_are_what_the_generator_makes(split: str) -> None:
    builder = _load("build_corpora")
    cases = builder.build_split(split)
    on_disk = yaml.safe_load((FIXTURES / split / "labels.yaml").read_text(encoding="utf-8"))
    assert [label for label, _ in cases] == on_disk
    for label, lines in cases:
        assert (FIXTURES / split / "cases" / f"{label['id']}.log").read_text(encoding="utf-8").splitlines() == lines


# --- the checker itself catches each kind of problem -------------------------------------

def _mini_corpus(root: Path, name: str, ids: list[str]) -> Path:
    """A small copy of dev cases to break on purpose."""
    corpus = root / name
    (corpus / "cases").mkdir(parents=True)
    labels = [lb for lb in yaml.safe_load((FIXTURES / "dev" / "labels.yaml").read_text()) if lb["id"] in ids]
    for label in labels:
        shutil.copy(FIXTURES / "dev" / "cases" / f"{label['id']}.log", corpus / "cases")
    (corpus / "labels.yaml").write_text(yaml.safe_dump(labels, sort_keys=False))
    return corpus


MINI_IDS = ["dev-boot-kvm-guest-01", "dev-edac-ce-01", "dev-xfs-shutdown-01"]


def _edit_labels(corpus: Path, edit) -> None:
    labels = yaml.safe_load((corpus / "labels.yaml").read_text())
    edit(labels)
    (corpus / "labels.yaml").write_text(yaml.safe_dump(labels, sort_keys=False))


BREAKAGES = [
    ("missing case file", lambda c: (c / "cases" / "dev-edac-ce-01.log").unlink(), "case file missing"),
    ("orphan log", lambda c: (c / "cases" / "stray.log").write_text("[    1.000000] hello\n"), "no label"),
    ("unknown category", lambda c: _edit_labels(c, lambda lb: lb[1].update(categories=["dimm"])), "unknown categories"),
    ("ok with category", lambda c: _edit_labels(c, lambda lb: lb[0].update(categories=["other"])), "must have no categories"),
    ("warning without category", lambda c: _edit_labels(c, lambda lb: lb[1].update(categories=[])), "needs at least one category"),
    ("bad status", lambda c: _edit_labels(c, lambda lb: lb[1].update(status="minor")), "status"),
    ("no rationale", lambda c: _edit_labels(c, lambda lb: lb[2].pop("rationale")), "rationale"),
    ("duplicate id", lambda c: _edit_labels(c, lambda lb: lb.append(dict(lb[0]))), "duplicate id"),
    ("no timestamp", lambda c: (c / "cases" / "dev-edac-ce-01.log").write_text("EDAC MC0: 1 CE\n"), "without a dmesg timestamp"),
    ("not a list", lambda c: (c / "labels.yaml").write_text("id: x\n"), "expected a list"),
]


@pytest.mark.parametrize(("breakage", "expected"), [(b[1], b[2]) for b in BREAKAGES], ids=[b[0] for b in BREAKAGES])
def test_checker_reports_each_problem(tmp_path: Path, breakage, expected: str) -> None:
    corpus = _mini_corpus(tmp_path, "mini", MINI_IDS)
    assert checker.check_corpora([corpus])[1] == []
    breakage(corpus)
    problems = checker.check_corpora([corpus])[1]
    assert any(expected in p for p in problems), problems


def test_checker_reports_ids_and_logs_shared_across_corpora(tmp_path: Path) -> None:
    ids = ["dev-boot-kvm-guest-01", "dev-edac-ce-01"]
    a, b = _mini_corpus(tmp_path, "a", ids), _mini_corpus(tmp_path, "b", ids)
    problems = checker.check_corpora([a, b])[1]
    assert any("also in corpus 'a'" in p for p in problems)
    assert any("is identical to" in p for p in problems)


@pytest.mark.parametrize(
    ("setup", "code", "fragment"),
    [("real", 0, "ok: no problems"), ("broken", 1, "case file missing"), ("none", 2, "usage")],
)
def test_checker_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, code: int, fragment: str) -> None:
    if setup == "real":
        args = [str(p) for p in CORPORA]
    elif setup == "broken":
        corpus = _mini_corpus(tmp_path, "mini", ["dev-edac-ce-01"])
        (corpus / "cases" / "dev-edac-ce-01.log").unlink()
        args = [str(corpus)]
    else:
        args = []
    assert checker.main(args) == code
    out = capsys.readouterr()
    assert fragment in out.out + out.err
    if setup == "real":
        assert out.out.count("manifest ") == 2
