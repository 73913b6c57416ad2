"""``tasseograph report`` through the real command: formats, exit codes, one-line failures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tasseograph.cli import app
from tasseograph.report.model import Report

runner = CliRunner()


def _run(args: list[str]):
    return runner.invoke(app, ["report", *args])


@pytest.mark.parametrize(("args", "fragment", "code"), [
    ([], "# Tasseograph pilot report — 2026-W06", 0),
    ([], "| all_hosts_reporting | NO |", 0),
    (["--week", "2026-W05"], "No data in the previous period", 0),
    (["--week", "2026-W06"], "Week over week (vs 2026-W05)", 0),
    (["--week", "2025-W40"], "no results in 2025-W40", 0),
    (["--since", "2026-02-02", "--until", "2026-02-03"], "2026-02-02..2026-02-04", 0),
    (["--since", "2026-02-02", "--until", "2026-02-08"], "Week over week (vs 2026-01-26..2026-02-02)", 0),
    (["--format", "json"], '"checks":', 0),
    (["--poll-interval", "3h"], "| all_hosts_reporting | yes |", 0),
    (["--week", "2026-6"], "--week must look like 2026-W06", 2),
    (["--week", "2026-W60"], "is not an ISO week", 2),
    (["--week", "2026-W06", "--since", "2026-02-02"], "either --week or --since/--until", 2),
    (["--since", "2026-02-02"], "--since and --until go together", 2),
    (["--since", "2026-02-05", "--until", "2026-02-01"], "--until must be after --since", 2),
    (["--since", "yesterday", "--until", "2026-02-01"], "not a date", 2),
    (["--poll-interval", "soon"], "--poll-interval", 2),
    (["--format", "pdf"], "pdf", 2),
])
def test_report_cli(two_weeks, args: list[str], fragment: str, code: int) -> None:
    result = _run(["--db", str(two_weeks[0]), *args])
    assert result.exit_code == code, result.output
    assert fragment in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "no such database file"),
    (b"this is not sqlite at all, just some bytes to fill a page" * 100, "not a SQLite database"),
])
def test_bad_database_is_one_line_exit_2(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    path = tmp_path / "results.db"
    if content is not None:
        path.write_bytes(content)
    result = subprocess.run([sys.executable, "-m", "tasseograph", "report", "--db", str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not path.exists() or content is not None  # never created by the report


def test_empty_database_gives_a_clear_report(make_db) -> None:
    path = make_db([])
    for fmt in ("md", "html", "json"):
        result = _run(["--db", str(path), "--format", fmt])
        assert result.exit_code == 0, result.output
        assert "the database has no results yet" in result.output


def test_json_validates_against_the_model(two_weeks) -> None:
    result = _run(["--db", str(two_weeks[0]), "--format", "json"])
    report = Report.model_validate_json(result.output)
    assert report.checks > 0 and report.period.label == "2026-W06"
    for key in ("period", "hosts", "checks", "by_status", "error_rate", "latency_ms", "reviews",
                "per_host", "top_categories"):
        assert f'"{key}":' in result.output


def test_html_is_self_contained_with_the_charts(two_weeks, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = _run(["--db", str(two_weeks[0]), "--format", "html", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.count('<img alt="') == 5
    assert page.count("src=\"data:image/png;base64,") == 5
    for title in ("Status per day", "Checks per host", "LLM latency distribution", "Top categories",
                  "False-positive rate"):
        assert title in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "http://" not in page and "https://" not in page


def test_markdown_to_file(two_weeks, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    assert _run(["--db", str(two_weeks[0]), "--out", str(out)]).exit_code == 0
    assert out.read_text().startswith("# Tasseograph pilot report")
