"""Hypothesis on the file parsers operators feed us: every input loads or fails with our own error.

(kmsg records, dmesg text and verdict replies are fuzzed beside their parsers, in tests/agent
and tests/llm; /ingest is fuzzed by schemathesis in tests/collector.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasseograph.config import ConfigError, load_agent_config, load_collector_config
from tasseograph.evals.corpus import CorpusError, load_corpus

KEYS = ["collector_url", "poll_interval", "state_file", "hostname", "tls_skip_verify", "source",
        "ca_file", "request_timeout", "max_payload_bytes", "listen_addr", "db_path", "max_retries",
        "tls_cert", "tls_key", "llm_base_url", "llm_model", "llm_provider", "prompt", "llm_timeout",
        "llm_max_concurrency", "redact", "unknown_key"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                    st.text(max_size=40), st.sampled_from(["30s", "5m", "1h", ":9311", "https://x/v1",
                                                           "auto", "rules", "dmesg_triage@v1"]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)
DOCUMENTS = st.one_of(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8), VALUES,
                      st.text(max_size=200).map(lambda text: ("raw", text)))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENV = {"TASSEOGRAPH_API_KEY": "k", "TASSEOGRAPH_LLM_API_KEY": "l"}


def _write(path: Path, document: object) -> None:
    if isinstance(document, tuple):  # raw text, maybe not YAML at all
        path.write_text(document[1])
    else:
        path.write_text(yaml.safe_dump(document))


@FUZZ
@given(document=DOCUMENTS)
def test_configs_load_or_fail_with_a_config_error(document: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        _write(path, document)
        for load in (load_agent_config, load_collector_config):
            try:
                load(path, ENV)
            except ConfigError as exc:
                assert str(path) in str(exc) and "\n" not in str(exc)


LABEL = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.text(max_size=12), st.integers()), "status": st.one_of(
        st.sampled_from(["ok", "warning", "critical", "bad"]), st.integers()),
    "categories": st.one_of(st.lists(st.sampled_from(["disk_io", "gpu", "nope"]), max_size=2),
                            st.text(max_size=5)),
    "rationale": st.text(max_size=20), "extra": VALUES})


@FUZZ
@given(labels=st.one_of(st.lists(LABEL, max_size=4), VALUES), make_cases=st.booleans())
def test_labels_yaml_loads_or_fails_with_a_corpus_error(labels: object, make_cases: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp)
        (corpus / "cases").mkdir()
        (corpus / "labels.yaml").write_text(yaml.safe_dump(labels))
        if make_cases and isinstance(labels, list) and all(isinstance(x, dict) for x in labels):
            for label in labels:
                case_id = str(label.get("id", ""))
                if case_id.isprintable() and "/" not in case_id and case_id.strip(".") and len(case_id) < 100:
                    (corpus / "cases" / f"{case_id}.log").write_text("[    1.0] hello\n")
        try:
            loaded = load_corpus(corpus)
        except CorpusError as exc:
            assert str(exc)
        else:
            assert all(case.label in ("ok", "warning", "critical") and case.lines for case in loaded.cases)
