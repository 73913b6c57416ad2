"""The pilot loop: reviewed results in a real results.db become a corpus and a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tasseograph.cli import app
from tasseograph.db import connect
from tasseograph.evals.corpus import load_corpus
from tasseograph.evals.pilot import corpus_from_db

EDAC = "[Mon Feb  3 12:25:01 2026] EDAC MC0: 1 CE memory read error on DIMM0"
OOPS = "[ 4411.2] BUG: kernel NULL pointer dereference, address: 0000000000000008"
NOISE = "[    0.4] ACPI Error: AE_NOT_FOUND, While resolving a named reference"


def _issues(severity: str, category: str) -> str:
    return json.dumps([{"severity": severity, "category": category, "summary": "s",
                        "evidence": ["e"]}])


@pytest.fixture
def results_db(tmp_path: Path) -> Path:
    path = tmp_path / "results.db"
    db = connect(path)
    rows = [  # (status, issues, raw_dmesg, reviews...)
        ("warning", _issues("warning", "memory_ecc"), EDAC, ["tp"]),
        ("critical", _issues("critical", "firmware"), NOISE, ["tp", "fp"]),  # latest wins
        ("critical", _issues("critical", "kernel_oops"), OOPS + "\n", ["tp"]),
        ("warning", _issues("warning", "usb"), "[1.0] usb 1-1: meh", ["unsure"]),
        ("error", None, "[1.0] x", ["fp"]),
        ("warning", _issues("warning", "oom"), None, ["fp"]),                              # no lines
        ("critical", _issues("critical", "nvme"), "[1.0] nvme", []),          # unreviewed
    ]
    for number, (status, issues, raw, reviews) in enumerate(rows, start=1):
        db.execute("INSERT INTO results (timestamp, hostname, status, issues, raw_dmesg) "
                   "VALUES (?, ?, ?, ?, ?)",
                   (f"2026-02-0{number}T12:00:00Z", f"web-{number:02d}", status, issues, raw))
        for verdict in reviews:
            db.execute("INSERT INTO reviews (result_id, verdict, note) VALUES (?, ?, ?)",
                       (number, verdict, f"note {number}"))
    db.close()
    return path


def test_export_reviews_writes_a_loadable_corpus(results_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "pilot"
    result = CliRunner().invoke(app, ["eval", "export-reviews", "--db", str(results_db),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 3 cases" in result.stdout
    assert "1 unsure" in result.stdout and "1 status error" in result.stdout
    assert "1 no stored lines" in result.stdout
    corpus = load_corpus(out)
    labels = {c.id: (c.label.value, c.categories) for c in corpus.cases}
    assert labels == {"pilot-1": ("warning", ["memory_ecc"]), "pilot-2": ("ok", []),
                      "pilot-3": ("critical", ["kernel_oops"])}
    by_id = {c.id: c for c in corpus.cases}
    assert by_id["pilot-1"].lines == [EDAC] and by_id["pilot-3"].lines == [OOPS]
    assert by_id["pilot-2"].entry.metadata["hostname"] == "web-02"
    assert by_id["pilot-2"].entry.metadata["review"] == "fp"
    assert by_id["pilot-2"].entry.rationale == "note 2"
    raw = yaml.safe_load((out / "labels.yaml").read_text())
    assert all(entry["source"].startswith("pilot review of results.db") for entry in raw)


def test_corpus_from_db_hashes_like_its_export(results_db: Path, tmp_path: Path) -> None:
    CliRunner().invoke(app, ["eval", "export-reviews", "--db", str(results_db),
                             "--out", str(tmp_path / "pilot")])
    assert corpus_from_db(results_db).manifest_hash == load_corpus(tmp_path / "pilot").manifest_hash


def test_run_with_corpus_from_db(results_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["eval", "run", "--corpus-from-db", str(results_db),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["cases"] == 3
    # the rules get the EDAC and the oops right and keep quiet on the ACPI noise
    assert summary["accuracy"] == 1.0
    assert summary["corpora"][0]["name"] == "pilot-results"


def test_export_from_a_missing_db(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "export-reviews", "--db", str(tmp_path / "no.db"),
                                      "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "results database not found" in result.stderr
