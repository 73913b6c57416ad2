"""Labelled corpora (DESIGN.md "Fixture corpora"): load, validate, and fingerprint.

A corpus problem is a :class:`CorpusError` whose message is one line naming the file, so the
CLI can print it and exit 2. The manifest hash identifies exactly which labels and log text a
run was scored on; it is computed from content, so a corpus read from disk and the same
corpus built in memory (from reviewed pilot results) hash the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tasseograph.protocol import CATEGORIES, Status

LABELS_FILE = "labels.yaml"
CASES_DIR = "cases"


class CorpusError(Exception):
    """A corpus that cannot be used, phrased as one line naming the file."""


class LabelEntry(BaseModel):
    """One row of labels.yaml. Keys beyond the named ones are kept as metadata, never an error."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=200)
    status: Status
    categories: list[str] = Field(default_factory=list)
    source: str | None = None
    rationale: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        # YAML reads `id: 0042` as an int; ids are names, not numbers.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"unknown categories {unknown} (see tasseograph.protocol.CATEGORIES)")
        return value

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Case(BaseModel):
    """A labelled case ready to replay: the label and the lines an agent would send."""

    corpus: str
    id: str
    label: Status
    categories: list[str]
    lines: list[str]
    entry: LabelEntry


class Corpus(BaseModel):
    name: str
    path: str | None
    manifest_hash: str
    cases: list[Case]

    @classmethod
    def from_entries(cls, name: str, path: str | None,
                     entries: Iterable[tuple[LabelEntry, list[str]]]) -> Corpus:
        cases = [
            Case(corpus=name, id=entry.id, label=entry.status, categories=entry.categories,
                 lines=lines, entry=entry)
            for entry, lines in entries
        ]
        return cls(name=name, path=path, manifest_hash=manifest_hash(cases), cases=cases)


def manifest_hash(cases: Iterable[Case]) -> str:
    """sha256 over every label (metadata included) and every log's text, in id order."""
    digest = hashlib.sha256()
    for case in sorted(cases, key=lambda c: c.id):
        label = case.entry.model_dump(mode="json")
        log_hash = hashlib.sha256("\n".join(case.lines).encode()).hexdigest()
        digest.update(json.dumps([label, log_hash], sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _read_labels(labels_path: Path) -> list[Any]:
    try:
        text = labels_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CorpusError(f"{labels_path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{labels_path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        raise CorpusError(f"{labels_path}: YAML syntax error at line {line}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise CorpusError(f"{labels_path}: YAML error: {exc}") from None
    if not isinstance(data, list):
        raise CorpusError(f"{labels_path}: expected a list of cases at the top level")
    return data


def _parse_entry(labels_path: Path, index: int, raw: object) -> LabelEntry:
    where = f"{labels_path}: entry {index + 1}"
    if isinstance(raw, dict) and "id" in raw:
        where += f" (id {raw['id']!r})"
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: expected a mapping with id and status")
    try:
        return LabelEntry.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "?"
        message = error["msg"].removeprefix("Value error, ")
        raise CorpusError(f"{where}: key '{key}': {message}") from None


def read_log(path: Path) -> list[str]:
    """The lines of a case file; undecodable bytes are replaced, as an agent would send them."""
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def load_corpus(directory: str | Path) -> Corpus:
    """Load and validate ``directory`` (labels.yaml + cases/<id>.log); raise CorpusError."""
    root = Path(directory)
    if not root.is_dir():
        raise CorpusError(f"{root}: corpus directory not found")
    labels_path = root / LABELS_FILE
    entries = [_parse_entry(labels_path, i, raw) for i, raw in enumerate(_read_labels(labels_path))]
    if not entries:
        raise CorpusError(f"{labels_path}: no cases")
    seen: set[str] = set()
    loaded: list[tuple[LabelEntry, list[str]]] = []
    for entry in entries:
        if entry.id in seen:
            raise CorpusError(f"{labels_path}: duplicate id {entry.id!r}")
        seen.add(entry.id)
        log_path = root / CASES_DIR / f"{entry.id}.log"
        if not log_path.is_file():
            raise CorpusError(f"{log_path}: case file missing for id {entry.id!r}")
        loaded.append((entry, read_log(log_path)))
    return Corpus.from_entries(root.resolve().name, str(root), loaded)


def write_corpus(corpus_dir: Path, entries: Iterable[tuple[LabelEntry, list[str]]]) -> int:
    """Write entries in the fixtures format; returns how many cases were written."""
    cases_dir = corpus_dir / CASES_DIR
    cases_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for entry, lines in entries:
        (cases_dir / f"{entry.id}.log").write_text("".join(f"{line}\n" for line in lines),
                                                   encoding="utf-8")
        rows.append(entry.model_dump(mode="json", exclude_none=True))
    (corpus_dir / LABELS_FILE).write_text(
        yaml.safe_dump(rows, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8"
    )
    return len(rows)
