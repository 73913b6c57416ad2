"""`make demo`'s command, run for real: collector, simulated hosts, this host's agent, report."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tasseograph.demo import SIMULATED_HOSTS


def test_demo_runs_the_whole_system(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "tasseograph", "demo", "--workdir", str(workdir),
                             "--rounds", "2"], capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Tasseograph pilot report" in result.stdout
    db = sqlite3.connect(workdir / "results.db")
    per_host = dict(db.execute("SELECT hostname, COUNT(*) FROM results GROUP BY hostname"))
    # two rounds per simulated host, each one batch analyzed once; the real host may add one
    assert {host: per_host.get(host) for host in SIMULATED_HOSTS} == dict.fromkeys(SIMULATED_HOSTS, 2)
    assert db.execute("SELECT COUNT(*) FROM results WHERE status = 'error'").fetchone()[0] == 0
    html = (workdir / "report.html").read_text()
    assert "<img" in html or "<svg" in html
    assert str(workdir / "results.db") in result.stderr


def test_demo_without_fixtures_says_so(tmp_path: Path) -> None:
    probe = ("import os, sys; os.chdir(sys.argv[1]); import tasseograph.demo as d; "
             "d.__file__ = sys.argv[1] + '/x/y.py'; d.find_corpus()")
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and "fixtures/dev not found" in result.stderr
