"""``tasseograph review``: verdicts land in ``reviews`` at once and survive interruption."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tasseograph import db as results_db
from tasseograph.report.review import pending

from .conftest import plain

ROOT = Path(__file__).resolve().parents[2]


def _review(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tasseograph", "review", "--db", str(db), *args],
                          input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT)


def _unreviewed_newest_first(db: Path, where: str = "1", params: tuple = ()) -> list[int]:
    """The expected review order, computed without our code."""
    return [r["id"] for r in plain(db).execute(
        "SELECT id FROM results WHERE status IN ('warning','critical') AND id NOT IN"
        f" (SELECT result_id FROM reviews) AND {where} ORDER BY timestamp DESC, id DESC", params)]


def _reviews_after(db: Path, before: int) -> list[tuple]:
    return [tuple(r) for r in plain(db).execute(
        "SELECT result_id, verdict, note FROM reviews WHERE id > ? ORDER BY id", (before,))]


def _max_review_id(db: Path) -> int:
    return plain(db).execute("SELECT coalesce(max(id), 0) FROM reviews").fetchone()[0]


def test_interactive_session_through_a_pipe(small_db: Path) -> None:
    order = _unreviewed_newest_first(small_db)
    before = _max_review_id(small_db)
    result = _review(small_db, stdin="t\nf\nx\nn\nlooks benign\nu\ns\nq\n")
    assert result.returncode == 0, result.stderr
    assert _reviews_after(small_db, before) == [
        (order[0], "tp", None), (order[1], "fp", None), (order[2], "unsure", "looks benign")]
    assert "unknown key 'x'" in result.stdout
    assert "raw lines:" in result.stdout and "3 verdict(s) saved" in result.stdout
    # the skipped one is still pending, and comes first next time
    assert _unreviewed_newest_first(small_db)[0] == order[3]


def test_end_of_input_after_two_verdicts_keeps_both(small_db: Path) -> None:
    order = _unreviewed_newest_first(small_db)
    before = _max_review_id(small_db)
    result = _review(small_db, stdin="f\nt\n")
    assert result.returncode == 0, result.stderr
    assert _reviews_after(small_db, before) == [(order[0], "fp", None), (order[1], "tp", None)]


def test_ctrl_c_after_two_verdicts_keeps_both(small_db: Path) -> None:
    order = _unreviewed_newest_first(small_db)
    before = _max_review_id(small_db)
    process = subprocess.Popen([sys.executable, "-m", "tasseograph", "review", "--db", str(small_db)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT)
    try:
        process.stdin.write("t\nt\n")
        process.stdin.flush()
        deadline = time.monotonic() + 30  # wait for a condition, not a timing
        while len(_reviews_after(small_db, before)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert _reviews_after(small_db, before) == [(order[0], "tp", None), (order[1], "tp", None)]


def _hosts_and_categories(db: Path) -> tuple[str, str]:
    rows = plain(db).execute("SELECT hostname, issues FROM results WHERE status = 'warning'").fetchall()
    return rows[0]["hostname"], json.loads(rows[0]["issues"])[0]["category"]


@pytest.mark.parametrize("field", ["host", "status", "category", "all three"])
def test_filters(small_db: Path, field: str) -> None:
    host, category = _hosts_and_categories(small_db)
    filters = {"host": host if field in ("host", "all three") else None,
               "status": "warning" if field in ("status", "all three") else None,
               "category": category if field in ("category", "all three") else None}
    got = [r["id"] for r in pending(results_db.connect(small_db), **filters)]
    expected = [i for i in _unreviewed_newest_first(small_db)
                if (filters["host"] is None or _value(small_db, i, "hostname") == host)
                and (filters["status"] is None or _value(small_db, i, "status") == "warning")
                and (filters["category"] is None
                     or category in {x["category"] for x in json.loads(_value(small_db, i, "issues"))})]
    assert got == expected and got


def _value(db: Path, result_id: int, column: str) -> str:
    return plain(db).execute(f"SELECT {column} FROM results WHERE id = ?", (result_id,)).fetchone()[0]


def test_filter_through_the_command(small_db: Path) -> None:
    host = _value(small_db, _unreviewed_newest_first(small_db, "status = 'critical'")[0], "hostname")
    expected = _unreviewed_newest_first(small_db, "hostname = ? AND status = 'critical'", (host,))
    before = _max_review_id(small_db)
    result = _review(small_db, "--host", host, "--status", "critical", stdin="f\n" * 50)
    assert result.returncode == 0, result.stderr
    assert _reviews_after(small_db, before) == [(i, "fp", None) for i in expected]
    assert expected and "nothing left to review" in result.stdout


def test_nothing_to_review(small_db: Path) -> None:
    result = _review(small_db, "--host", "no-such-host")
    assert result.returncode == 0 and "no unreviewed" in result.stdout


def _first(db: Path, status: str) -> int:
    return plain(db).execute("SELECT min(id) FROM results WHERE status = ?", (status,)).fetchone()[0]


@pytest.mark.parametrize(("args", "fragment", "code", "stored"), [
    (["--id", "{warning}", "--verdict", "fp", "--note", "benign"], "= fp", 0, ("fp", "benign")),
    (["--id", "{critical}", "--verdict", "tp"], "= tp", 0, ("tp", None)),
    (["--id", "{warning}", "--verdict", "unsure"], "= unsure", 0, ("unsure", None)),
    (["--id", "99999999", "--verdict", "tp"], "no result with id 99999999", 1, None),
    (["--id", "{ok}", "--verdict", "tp"], "only warning/critical", 1, None),
    (["--id", "{warning}", "--verdict", "maybe"], "'maybe' is not one of", 2, None),
    (["--id", "{warning}"], "--id and --verdict go together", 2, None),
    (["--verdict", "tp"], "--id and --verdict go together", 2, None),
    (["--status", "ok"], "'ok' is not one of", 2, None),
])
def test_non_interactive(small_db: Path, args: list[str], fragment: str, code: int,
                         stored: tuple | None) -> None:
    ids = {s: _first(small_db, s) for s in ("ok", "warning", "critical")}
    args = [a.format(**ids) for a in args]
    before = _max_review_id(small_db)
    result = _review(small_db, *args)
    assert result.returncode == code, result.stderr
    assert fragment in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    saved = _reviews_after(small_db, before)
    assert saved == ([] if stored is None else [(int(args[1]), *stored)])


def test_missing_database_is_exit_2_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    result = _review(path, "--id", "1", "--verdict", "tp")
    assert result.returncode == 2 and "no such database file" in result.stderr
    assert not path.exists()


def test_reviews_feed_the_report(small_db: Path) -> None:
    from tasseograph.report.assess import assess

    flagged = _unreviewed_newest_first(small_db)[:3]
    before = assess(small_db).reviews
    for result_id in flagged:
        assert _review(small_db, "--id", str(result_id), "--verdict", "fp").returncode == 0
    after = assess(small_db).reviews
    assert (after.fp, after.reviewed) == (before.fp + 3, before.reviewed + 3)

