"""``tasseograph eval run`` from the command line: flags, suites, one-line usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tasseograph.cli import app
from tasseograph.evals.suite import load_suite
from tests.evals.helpers import MINI
from tests.support import fake_inference as fake
from tests.support.fake_inference import FakeInferenceServer

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["eval", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["run", "--corpus", "{tmp}/missing", "--out", "{tmp}/o"], 2, "corpus directory not found"),
        (["run", "--corpus", str(MINI), "--prompt", "nope@v9", "--out", "{tmp}/o"], 2,
         "unknown prompt 'nope@v9'"),
        (["run", "--corpus", str(MINI), "--prompt", "no-version", "--out", "{tmp}/o"], 2,
         "NAME@VERSION"),
        (["run", "--corpus", str(MINI), "--backend", "magic", "--out", "{tmp}/o"], 2,
         "--backend must be one of"),
        (["run", "--corpus", str(MINI), "--backend", "anthropic", "--out", "{tmp}/o"], 2,
         "TASSEOGRAPH_LLM_API_KEY"),
        (["run", "--corpus", str(MINI), "--backend", "openai", "--out", "{tmp}/o"], 2,
         "needs a model"),
        (["run", "--corpus", str(MINI), "--backend", "openai", "--model", "m", "--out", "{tmp}/o"],
         2, "needs a base URL"),
        (["run", "--suite", "{tmp}/missing.yaml"], 2, "missing.yaml: file not found"),
        (["run", "--suite", "{tmp}/bad.yaml"], 2, "key 'repeats'"),
        (["run", "--out", "{tmp}/o"], 2, "no corpus"),
        (["run", "--corpus", str(MINI), "--out", "{tmp}/o"], 0,
         "dmesg_triage@v1 rules:rules: 8 cases, accuracy 75.0%"),
        (["run", "--corpus", str(MINI), "--corpus", str(MINI), "--repeats", "2", "--out", "{tmp}/o"],
         0, "16 cases"),
    ],
)
def test_run_cli(tmp_path: Path, args: list[str], code: int, fragment: str) -> None:
    (tmp_path / "bad.yaml").write_text(f"corpora: [{MINI}]\nrepeats: 0\n")
    exit_code, out, err = invoke(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert exit_code == code, out + err
    if code == 2:
        assert fragment in err and len(err.strip().splitlines()) == 1, err
        assert "Traceback" not in err
    else:
        assert fragment in out


def test_suite_file_with_flag_overrides(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"name: s\ncorpora: [{MINI}]\nprompts: [dmesg_triage@v1]\n"
                     "models: [{backend: rules}]\nrepeats: 2\nout: out-dir\n")
    code, _out, err = invoke("run", "--suite", str(suite), "--repeats", "1")
    assert code == 0, err
    written = tmp_path / "out-dir"   # relative to the suite file, not the cwd
    summary = json.loads((written / "summary.json").read_text())
    assert summary["repeats"] == 1 and summary["suite"] == str(suite)
    again = load_suite(written / "suite.yaml")   # the resolved suite reproduces the run
    assert again.corpora == [str(MINI)] and again.repeats == 1


def test_shipped_suites_are_valid() -> None:
    baseline = load_suite(ROOT / "evals" / "baseline.yaml")
    assert [m.backend for m in baseline.models] == ["rules"]
    assert baseline.prompts == ["dmesg_triage@v1"]
    assert baseline.corpora == [str(ROOT / "fixtures" / "dev")]
    haiku = load_suite(ROOT / "evals" / "haiku.yaml")
    assert haiku.models[0].backend == "anthropic" and haiku.repeats == 3


@pytest.mark.skipif(not (ROOT / "fixtures" / "dev" / "labels.yaml").is_file(),
                    reason="fixtures/dev not written yet")
def test_rules_baseline_runs_on_the_real_fixtures(tmp_path: Path) -> None:
    code, _out, err = invoke("run", "--suite", str(ROOT / "evals" / "baseline.yaml"),
                            "--out", str(tmp_path / "baseline"))
    assert code == 0, err
    summary = json.loads((tmp_path / "baseline" / "summary.json").read_text())
    assert summary["cases"] >= 50 and summary["errors"] == 0


def test_run_where_every_call_fails_exits_1(tmp_path: Path, fake_llm: FakeInferenceServer) -> None:
    fake_llm.default = fake.http_error(500)
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"corpora: [{MINI}]\nmax_retries: 0\nretry_backoff: 0\nmodels:\n"
                     f"  - {{backend: openai, model: m, base_url: '{fake_llm.base_url}'}}\n")
    code, out, err = invoke("run", "--suite", str(suite), "--out", str(tmp_path / "o"))
    assert code == 1 and "every call failed" in err
    assert "errors 8" in out
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["confusion"]["ok"]["error"] == 3
