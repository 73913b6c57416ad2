"""The files an eval run writes (DESIGN.md "Eval run output"), as pydantic models.

``compare`` and the reports read runs back through these same models, so the writer and the
readers cannot drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SUMMARY_FILE = "summary.json"
CASES_FILE = "cases.jsonl"
SUITE_FILE = "suite.yaml"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"


class CaseRecord(BaseModel):
    """One line of cases.jsonl: one case × prompt/model × repeat, with its provenance."""

    model_config = ConfigDict(extra="ignore")

    id: str
    label: str
    predicted: str  # ok | warning | critical | error
    issues: list[dict[str, Any]] = Field(default_factory=list)
    latency_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached: bool = False
    error: str | None = None
    # provenance
    corpus: str = ""
    corpus_hash: str = ""
    categories: list[str] = Field(default_factory=list)
    repeat: int = 0
    run: str = ""
    prompt: str = ""
    prompt_version: str = ""  # NAME@VERSION#hash8 as the backend reported it
    prompt_hash: str = ""
    backend: str = ""
    model: str = ""
    base_url: str | None = None
    git_commit: str | None = None
    cost_usd: float = 0.0
    timestamp: str = ""  # UTC, when this answer was obtained (a cache hit: when it was read)

    @property
    def key(self) -> tuple[str, str]:
        """How a case is identified across runs: corpus name and id."""
        return (self.corpus, self.id)


class StatusScores(BaseModel):
    precision: float | None
    precision_ci95: list[float]
    recall: float | None
    recall_ci95: list[float]
    f1: float | None
    support: int


class Latency(BaseModel):
    p50: float | None
    p95: float | None


class CorpusInfo(BaseModel):
    name: str
    path: str | None
    manifest_hash: str
    cases: int


class RunSummary(BaseModel):
    """Metrics of one prompt × backend/model combination over every corpus of the run."""

    model_config = ConfigDict(extra="allow")

    run: str
    prompt: str
    prompt_version: str
    backend: str
    model: str
    cases: int
    repeats: int
    predictions: int
    accuracy: float | None
    accuracy_ci95: list[float]
    false_positive_rate: float | None
    false_positive_rate_ci95: list[float]
    critical_recall: float | None
    critical_recall_ci95: list[float]
    critical_called_ok: int
    error_rate: float | None
    error_rate_ci95: list[float]
    errors: int
    per_status: dict[str, StatusScores]
    confusion: dict[str, dict[str, int]]
    label_flip_rate: float | None
    label_flip_rate_ci95: list[float]
    per_repeat_accuracy: list[float | None]
    cached: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cost_per_1000_cases: float | None
    latency_ms: Latency
    corpora: list[CorpusInfo]
    git_commit: str | None
    started_at: str = ""
    finished_at: str = ""


class SummaryFile(BaseModel):
    """summary.json: with one combination its metrics sit at the top level too."""

    model_config = ConfigDict(extra="allow")

    runs: list[RunSummary]
    suite: str | None = None
    git_commit: str | None = None
    started_at: str
    finished_at: str

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        if len(self.runs) == 1:
            data = {**data["runs"][0], **data}
        return json.dumps(data, indent=2) + "\n"


class RunDir(BaseModel):
    """A finished run read back from disk: its summary and its case records."""

    path: str
    summary: SummaryFile
    records: list[CaseRecord]

    def records_of(self, run: str) -> list[CaseRecord]:
        return [r for r in self.records if r.run == run]


def write_cases(path: Path, records: Iterable[CaseRecord]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(record.model_dump_json() + "\n")


def read_run(directory: str | Path) -> RunDir:
    """Load summary.json and cases.jsonl; raise RunDirError (one line naming the file)."""
    root = Path(directory)
    summary_path, cases_path = root / SUMMARY_FILE, root / CASES_FILE
    for needed in (summary_path, cases_path):
        if not needed.is_file():
            raise RunDirError(f"{needed}: not found (is {root} an eval run directory?)")
    try:
        summary = SummaryFile.model_validate_json(summary_path.read_text(encoding="utf-8"))
    except (ValidationError, OSError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{summary_path}: not a valid summary: {_first_line(exc)}") from None
    records: list[CaseRecord] = []
    with cases_path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                records.append(CaseRecord.model_validate_json(line))
            except ValidationError as exc:
                raise RunDirError(f"{cases_path}: line {number}: {_first_line(exc)}") from None
    return RunDir(path=str(root), summary=summary, records=records)


class RunDirError(Exception):
    """A run directory that cannot be read back."""


def _first_line(exc: Exception) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
