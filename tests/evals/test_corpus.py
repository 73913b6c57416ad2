"""Corpus loading: clear one-line errors naming file and id; metadata kept; stable hashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasseograph.evals.corpus import CorpusError, load_corpus, manifest_hash
from tests.evals.helpers import make_corpus


def _write(root: Path, labels: str, logs: dict[str, str]) -> Path:
    (root / "cases").mkdir(parents=True)
    (root / "labels.yaml").write_text(labels)
    for cid, text in logs.items():
        (root / "cases" / f"{cid}.log").write_text(text)
    return root


def test_mini_corpus_loads_with_metadata(mini: Path) -> None:
    corpus = load_corpus(mini)
    assert corpus.name == "mini" and len(corpus.cases) == 8
    first = corpus.cases[0]
    assert first.id == "ok-boot" and first.label == "ok"
    assert first.entry.rationale == "healthy boot messages"
    assert first.entry.metadata == {"rules_expect": "ok"}
    assert first.lines[0].startswith("[    0.000000] Linux version")


@pytest.mark.parametrize(
    ("labels", "logs", "fragments"),
    [
        ("- {id: a, status: ok}\n", {}, ["cases/a.log", "'a'", "missing"]),
        ("- {id: a, status: fine}\n", {"a": "x\n"}, ["labels.yaml", "'a'", "status"]),
        ("- {id: a, status: ok}\n- {id: a, status: warning}\n", {"a": "x\n"},
         ["labels.yaml", "duplicate id 'a'"]),
        ("- {id: a, status: ok, categories: [bogus]}\n", {"a": "x\n"},
         ["labels.yaml", "'a'", "bogus"]),
        ("- {status: ok}\n", {}, ["labels.yaml", "entry 1", "id"]),
        ("{id: a}\n", {}, ["labels.yaml", "list"]),
        ("- [unclosed\n", {}, ["labels.yaml", "YAML syntax error at line"]),
        ("[]\n", {}, ["labels.yaml", "no cases"]),
    ],
)
def test_loader_errors_name_file_and_id(tmp_path: Path, labels: str, logs: dict[str, str],
                                        fragments: list[str]) -> None:
    root = _write(tmp_path / "c", labels, logs)
    with pytest.raises(CorpusError) as info:
        load_corpus(root)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_missing_directory_and_labels(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="corpus directory not found"):
        load_corpus(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=r"labels\.yaml: file not found"):
        load_corpus(tmp_path / "empty")


def test_numeric_ids_are_names(tmp_path: Path) -> None:
    root = _write(tmp_path / "c", "- {id: 42, status: critical, source: x, owner: ops}\n",
                  {"42": "[1.0] Kernel panic - not syncing\n"})
    case = load_corpus(root).cases[0]
    assert case.id == "42" and case.entry.metadata == {"owner": "ops"}


def test_manifest_hash_follows_content_not_location(tmp_path: Path) -> None:
    cases = [("a", "ok", ["line one"]), ("b", "warning", ["EDAC MC0: 1 CE"])]
    one = load_corpus(make_corpus(tmp_path / "one", cases))
    two = load_corpus(make_corpus(tmp_path / "two", list(reversed(cases))))
    assert one.manifest_hash == two.manifest_hash == manifest_hash(one.cases)
    changed = load_corpus(make_corpus(tmp_path / "three", [("a", "ok", ["line one!"]), cases[1]]))
    relabelled = load_corpus(make_corpus(tmp_path / "four", [("a", "warning", ["line one"]), cases[1]]))
    assert len({one.manifest_hash, changed.manifest_hash, relabelled.manifest_hash}) == 3


def test_write_then_load_round_trips_lines(tmp_path: Path) -> None:
    lines = ["[Mon Feb  3 12:25:01 2026] EDAC MC0: 1 CE on DIMM0", "<4>[ 1.5] ünïcode"]
    corpus = load_corpus(make_corpus(tmp_path / "c", [("x", "warning", lines)]))
    assert corpus.cases[0].lines == lines
