"""Runs end to end: the rules baseline, both LLM backends against the fake server, the cache."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tasseograph.evals.cache import ResponseCache, default_cache_path
from tasseograph.evals.corpus import load_corpus
from tasseograph.evals.schema import read_run
from tasseograph.evals.suite import ModelSpec, Suite
from tests.evals.helpers import make_corpus, openai_suite, run_quietly
from tests.support import fake_inference as fake
from tests.support.fake_inference import FakeInferenceServer, RecordedRequest

DESIGN_SUMMARY_KEYS = {
    "cases", "accuracy", "false_positive_rate", "critical_recall", "per_status", "confusion",
    "errors", "input_tokens", "output_tokens", "latency_ms", "prompt", "backend", "model",
}
RATES = ["accuracy", "false_positive_rate", "critical_recall", "error_rate", "label_flip_rate"]
CASE_KEYS = {"id", "label", "predicted", "issues", "latency_ms", "input_tokens", "output_tokens",
             "cached", "error", "prompt", "model", "repeat"}

WARNING = {"status": "warning", "issues": [{"severity": "warning", "category": "network_link",
                                            "summary": "link down", "evidence": ["x"]}]}
CRITICAL = {"status": "critical", "issues": [{"severity": "critical", "category": "nvme",
                                              "summary": "nvme down", "evidence": ["x"]}]}


def by_content(request: RecordedRequest) -> fake.Reply:
    """An oracle that answers from the log text; one case gets garbage back."""
    prompt = request.prompt_text
    if "NIC Link is Down" in prompt:
        return fake.text("I think this is probably fine, no JSON for you")
    if "controller is down" in prompt or "NULL pointer" in prompt:
        return fake.verdict(CRITICAL)
    if "EDAC" in prompt:
        return fake.verdict(WARNING)
    return fake.verdict(fake.OK_VERDICT)


def test_rules_baseline_on_the_mini_corpus(mini: Path, tmp_path: Path) -> None:
    run_quietly(Suite(corpora=[str(mini)]), tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary.keys() >= DESIGN_SUMMARY_KEYS
    for rate in RATES:
        assert len(summary[f"{rate}_ci95"]) == 2
    assert summary["cases"] == 8 and summary["accuracy"] == 0.75
    assert summary["false_positive_rate"] == pytest.approx(1 / 3)
    assert summary["critical_recall"] == pytest.approx(2 / 3)
    assert summary["critical_called_ok"] == 1
    assert summary["confusion"]["ok"] == {"ok": 2, "warning": 0, "critical": 1, "error": 0}
    assert set(summary["per_status"]["warning"]) >= {"precision", "recall", "f1", "support"}
    assert summary["latency_ms"].keys() >= {"p50", "p95"}
    assert summary["backend"] == "rules" and summary["prompt"] == "dmesg_triage@v1"
    assert len(summary["runs"]) == 1 and summary["corpora"][0]["manifest_hash"]
    lines = (tmp_path / "run" / "cases.jsonl").read_text().splitlines()
    cases = [json.loads(line) for line in lines]
    assert len(cases) == 8 and all(c.keys() >= CASE_KEYS for c in cases)
    expected = {c.id: c.entry.metadata["rules_expect"] for c in load_corpus(mini).cases}
    assert {c["id"]: c["predicted"] for c in cases} == expected
    report = (tmp_path / "run" / "report.html").read_text()
    assert "<svg" in report and "critical recall" in report and "http" not in report.split("<svg")[0]
    markdown = (tmp_path / "run" / "report.md").read_text()
    assert "| false-positive rate | 33.3% |" in markdown
    assert "| mini/ok-tricky | ok | critical |" in markdown and "mini/ok-boot" not in markdown


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
def test_llm_backends_against_the_fake_server(backend: str, mini: Path, tmp_path: Path,
                                              fake_llm: FakeInferenceServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASSEOGRAPH_LLM_API_KEY", "sk-test")
    fake_llm.responder = by_content
    suite = Suite(corpora=[str(mini)], retry_backoff=0.0, models=[
        ModelSpec(backend=backend, model="claude-3-5-haiku-20241022", base_url=fake_llm.base_url)])
    result = run_quietly(suite, tmp_path / "run")
    run = result.summary.runs[0]
    records = {r.id: r for r in read_run(tmp_path / "run").records}
    assert records["warn-link"].predicted == "error"
    assert "invalid response" in (records["warn-link"].error or "")
    assert records["crit-nvme"].predicted == "critical"
    assert records["crit-nvme"].issues[0]["category"] == "nvme"
    assert run.confusion["warning"]["error"] == 1 and run.errors == 1
    assert run.input_tokens > 0 and run.output_tokens > 0 and run.cost_usd > 0
    assert run.prompt_version.startswith("dmesg_triage@v1#")
    assert all(r.prompt_hash and r.corpus_hash and r.timestamp for r in records.values())
    assert len(fake_llm.requests) == 8


def test_second_run_is_served_from_the_cache_but_errors_are_asked_again(
        mini: Path, tmp_path: Path, fake_llm: FakeInferenceServer) -> None:
    fake_llm.responder = by_content
    suite = openai_suite(mini, fake_llm.base_url)
    first = run_quietly(suite, tmp_path / "one")
    assert len(fake_llm.requests) == 8 and first.summary.runs[0].cached == 0
    assert default_cache_path().is_file()
    assert default_cache_path().parent == Path(os.environ["TASSEOGRAPH_HOME"])
    fake_llm.requests.clear()
    second = run_quietly(suite, tmp_path / "two")
    # only the case that failed is asked again; its error was never cached
    assert [r.prompt_text.count("NIC Link is Down") > 0 for r in fake_llm.requests] == [True]
    records = read_run(tmp_path / "two").records
    assert {r.id for r in records if r.cached} == {r.id for r in records} - {"warn-link"}
    assert second.summary.runs[0].cached == 7
    assert second.summary.runs[0].confusion == first.summary.runs[0].confusion
    fake_llm.requests.clear()
    run_quietly(suite, tmp_path / "three", use_cache=False)
    assert len(fake_llm.requests) == 8


def test_cache_key_follows_model_and_parameters(mini: Path, tmp_path: Path,
                                                fake_llm: FakeInferenceServer) -> None:
    run_quietly(openai_suite(mini, fake_llm.base_url), tmp_path / "a")
    fake_llm.requests.clear()
    other = openai_suite(mini, fake_llm.base_url, models=[
        ModelSpec(backend="openai", model="fake-model", base_url=fake_llm.base_url, max_tokens=64)])
    run_quietly(other, tmp_path / "b")
    assert len(fake_llm.requests) == 8
    assert len(ResponseCache(default_cache_path())) == 16


def test_backoff_on_429_and_5xx(tmp_path: Path, fake_llm: FakeInferenceServer) -> None:
    corpus = make_corpus(tmp_path / "c", [("one", "ok", ["[1.0] hello"])])
    fake_llm.enqueue(fake.rate_limited(retry_after=0), fake.http_error(503), fake.overloaded(),
                     fake.verdict(WARNING))
    result = run_quietly(openai_suite(corpus, fake_llm.base_url), tmp_path / "run")
    assert len(fake_llm.requests) == 4
    assert result.summary.runs[0].confusion["ok"]["warning"] == 1


def test_llm_down_after_retries_is_an_error_row(tmp_path: Path,
                                                fake_llm: FakeInferenceServer) -> None:
    corpus = make_corpus(tmp_path / "c", [("one", "ok", ["[1.0] hello"])])
    fake_llm.default = fake.http_error(500)
    result = run_quietly(openai_suite(corpus, fake_llm.base_url, max_retries=2), tmp_path / "run")
    record = read_run(tmp_path / "run").records[0]
    assert len(fake_llm.requests) == 3
    assert record.predicted == "error" and "HTTP 500" in (record.error or "")
    assert result.summary.runs[0].errors == 1


def test_repeats_give_a_flip_rate(tmp_path: Path, fake_llm: FakeInferenceServer) -> None:
    corpus = make_corpus(tmp_path / "c", [
        ("steady", "ok", ["[1.0] quokka-steady line"]),
        ("shaky", "warning", ["[1.0] quokka-shaky line"]),
        ("firm", "critical", ["[1.0] quokka-firm line"]),
    ])
    shaky_calls: list[int] = []

    def responder(request: RecordedRequest) -> fake.Reply:
        if "quokka-shaky" in request.prompt_text:
            shaky_calls.append(1)
            return fake.verdict(WARNING if len(shaky_calls) % 2 else fake.OK_VERDICT)
        if "quokka-firm" in request.prompt_text:
            return fake.verdict(CRITICAL)
        return fake.verdict(fake.OK_VERDICT)

    fake_llm.responder = responder
    result = run_quietly(openai_suite(corpus, fake_llm.base_url, repeats=3), tmp_path / "run")
    run = result.summary.runs[0]
    assert (run.repeats, run.predictions, run.cases) == (3, 9, 3)
    assert run.label_flip_rate == pytest.approx(1 / 3)   # one case of three flipped
    assert run.accuracy == 1.0                            # shaky: warning twice of three
    records = read_run(tmp_path / "run").records
    assert sorted(r.repeat for r in records if r.id == "shaky") == [0, 1, 2]


def test_several_combinations_go_under_runs(mini: Path, tmp_path: Path,
                                            fake_llm: FakeInferenceServer) -> None:
    suite = openai_suite(mini, fake_llm.base_url, models=[
        ModelSpec(backend="rules"),
        ModelSpec(backend="openai", model="fake-model", base_url=fake_llm.base_url)])
    run_quietly(suite, tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert [r["backend"] for r in summary["runs"]] == ["rules", "openai"]
    assert "accuracy" not in summary
    assert {r["cases"] for r in summary["runs"]} == {8}
    cases = read_run(tmp_path / "run").records
    assert {r.model for r in cases} == {"rules", "fake-model"} and len(cases) == 16
