"""compare on constructed runs with known flips, McNemar p and the --fail-if-worse gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tasseograph.cli import app
from tasseograph.evals.compare import Gate, compare, select_runs
from tasseograph.evals.schema import read_run
from tests.evals.helpers import write_run

# 20 ok cases, 10 critical cases; A gets them all right.
OK_IDS = [f"ok{i}" for i in range(20)]
CRIT_IDS = [f"crit{i}" for i in range(10)]
BASE = [(cid, "ok", "ok") for cid in OK_IDS] + [(cid, "critical", "critical") for cid in CRIT_IDS]


def variant(changes: dict[str, str]) -> list[tuple[str, str, str]]:
    return [(cid, label, changes.get(cid, predicted)) for cid, label, predicted in BASE]


def test_known_flips_and_p_value(tmp_path: Path) -> None:
    # A: 1 ok case wrong (FP) + 9 critical called warning; B fixes all 9 and breaks one other.
    a_changes = {"ok0": "warning", **{f"crit{i}": "warning" for i in range(1, 10)}}
    b_changes = {"ok0": "warning", "crit0": "ok"}
    a = read_run(write_run(tmp_path / "a", variant(a_changes)))
    b = read_run(write_run(tmp_path / "b", variant(b_changes)))
    result = compare(a, a.summary.runs[0].run, b, b.summary.runs[0].run)
    assert [f.id for f in result.worse] == ["crit0"]
    assert sorted(f.id for f in result.better) == sorted(f"crit{i}" for i in range(1, 10))
    assert result.changed == []
    assert result.mcnemar_p == pytest.approx(0.021484375)   # b=1, c=9
    assert result.shared_cases == 30
    assert result.false_positive_rate.delta == 0.0
    assert result.critical_recall.a == pytest.approx(0.1)
    assert result.critical_recall.b == pytest.approx(0.9)
    lo, hi = result.critical_recall.delta_ci95
    assert 0 < lo < 0.8 < hi <= 1
    # significant, but in B's favour, and recall rose overall: the gate passes
    assert result.gate_failures == []


def test_worse_correctness_fails_the_gate(tmp_path: Path) -> None:
    b_changes = {f"ok{i}": "ok" for i in range(20)} | {f"crit{i}": "warning" for i in range(9)}
    a = read_run(write_run(tmp_path / "a", BASE))
    b = read_run(write_run(tmp_path / "b", variant(b_changes)))
    result = compare(a, a.summary.runs[0].run, b, b.summary.runs[0].run)
    assert len(result.worse) == 9 and not result.better
    assert result.mcnemar_p == pytest.approx(2 / 2**9)
    assert any("significantly worse" in f for f in result.gate_failures)
    assert any("critical recall down" in f for f in result.gate_failures)


@pytest.mark.parametrize(
    ("b_changes", "gate", "fails"),
    [
        ({}, Gate(), False),
        ({"ok0": "warning"}, Gate(), True),                      # FPR +5 pp > 2 pp
        ({"ok0": "warning"}, Gate(fpr_tolerance=0.05), False),   # exactly at the tolerance
        ({"crit0": "ok"}, Gate(), True),                         # one critical lost
        ({"crit0": "ok"}, Gate(recall_tolerance=0.1), False),
        ({"ok0": "error"}, Gate(), False),                       # an error is not an alarm
    ],
)
def test_gate_tolerances(tmp_path: Path, b_changes: dict[str, str], gate: Gate,
                         fails: bool) -> None:
    a = read_run(write_run(tmp_path / "a", BASE))
    b = read_run(write_run(tmp_path / "b", variant(b_changes)))
    result = compare(a, a.summary.runs[0].run, b, b.summary.runs[0].run, gate)
    assert bool(result.gate_failures) is fails


def test_pairs_only_shared_cases(tmp_path: Path) -> None:
    a = read_run(write_run(tmp_path / "a", BASE[:25]))
    b = read_run(write_run(tmp_path / "b", BASE[5:]))
    result = compare(a, a.summary.runs[0].run, b, b.summary.runs[0].run)
    assert (result.shared_cases, result.only_in_a, result.only_in_b) == (20, 5, 5)


def test_select_runs_matches_combinations(tmp_path: Path) -> None:
    a = read_run(write_run(tmp_path / "a", BASE, run="p@v1 openai:m"))
    b = read_run(write_run(tmp_path / "b", BASE, run="p@v2 openai:m"))
    assert select_runs(a, b) == [("p@v1 openai:m", "p@v2 openai:m")]
    assert select_runs(a, b, b_run="v2") == [("p@v1 openai:m", "p@v2 openai:m")]


@pytest.mark.parametrize(
    ("b_changes", "flags", "code", "fragment"),
    [
        ({}, ["--fail-if-worse"], 0, "gate: pass"),
        ({"ok0": "critical"}, [], 0, "gate: FAIL"),
        ({"ok0": "critical"}, ["--fail-if-worse"], 1, "false-positive rate up +5.0 pp"),
        ({"crit3": "ok"}, ["--fail-if-worse"], 1, "c/crit3  label critical: A critical -> B ok"),
        ({"crit3": "ok"}, ["--fail-if-worse", "--recall-tolerance", "0.2"], 0, "turned wrong in B (1)"),
        ({}, ["--json"], 0, '"mcnemar_p": 1.0'),
    ],
)
def test_compare_cli(tmp_path: Path, b_changes: dict[str, str], flags: list[str], code: int,
                     fragment: str) -> None:
    a = write_run(tmp_path / "a", BASE)
    b = write_run(tmp_path / "b", variant(b_changes))
    result = CliRunner().invoke(app, ["eval", "compare", str(a), str(b), *flags])
    assert result.exit_code == code, result.output
    assert fragment in result.stdout


def test_compare_cli_bad_run_dir(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", BASE)
    result = CliRunner().invoke(app, ["eval", "compare", str(a), str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "summary.json: not found" in result.stderr and len(result.stderr.splitlines()) == 1
