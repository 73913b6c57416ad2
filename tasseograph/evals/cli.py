"""``tasseograph eval run | compare | export-reviews``.

Module level imports only typer: the harness loads inside each command, so ``tasseograph
--help`` stays light. Usage errors (bad corpus, unknown prompt, bad suite, missing key) are
one line and exit 2; a runtime failure exits 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tasseograph._cli import EXIT_RUNTIME, EXIT_USAGE, choice, config_errors, fail
from tasseograph.config import PROVIDERS

if TYPE_CHECKING:
    from tasseograph.evals.schema import RunSummary

app = typer.Typer(help="Replay labelled corpora against prompts and models; compare runs.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)

#: suite key → the flag that sets it, for error messages
_FLAGS = {"prompts": "--prompt", "models": "--backend/--model/--base-url", "corpora": "--corpus",
          "repeats": "--repeats", "concurrency": "--concurrency"}


@app.command("run")
def run(
    corpus: Annotated[list[Path] | None, typer.Option(
        "--corpus", metavar="DIR", help="A labelled corpus (labels.yaml + cases/); repeatable.")] = None,
    corpus_from_db: Annotated[list[Path] | None, typer.Option(
        "--corpus-from-db", metavar="FILE",
        help="Replay the reviewed results of a collector database as a corpus.")] = None,
    suite: Annotated[Path | None, typer.Option(
        "--suite", metavar="FILE", help="A suite YAML; the flags below override it.")] = None,
    prompt: Annotated[list[str] | None, typer.Option(
        "--prompt", metavar="NAME@VERSION", help="Prompt template; repeatable.")] = None,
    backend: Annotated[str | None, typer.Option(
        "--backend", help="rules | anthropic | openai (default rules).")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model name.")] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="Inference base URL (with or without /v1).")] = None,
    concurrency: Annotated[int | None, typer.Option(
        "--concurrency", min=1, max=1024, help="Calls in flight at once (default 8).")] = None,
    repeats: Annotated[int | None, typer.Option(
        "--repeats", min=1, max=100, help="Ask each case N times (label-flip rate).")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Ask the backend again even for answers already cached.")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", metavar="DIR", help="Output directory (default: the suite's out, else "
                                     "evals/runs/NAME-TIMESTAMP).")] = None,
) -> None:
    """Score prompts × models on labelled corpora: summary.json, cases.jsonl, report.md/.html.

    The LLM key comes from TASSEOGRAPH_LLM_API_KEY; answers are cached in
    $TASSEOGRAPH_HOME/eval-cache.db (errors never are).
    """
    from pydantic import ValidationError

    from tasseograph.evals.execute import UsageError, execute
    from tasseograph.evals.suite import ModelSpec, Suite, load_suite

    choice("--backend", backend, PROVIDERS)
    with config_errors():
        base = load_suite(suite) if suite is not None else Suite()
    updates: dict[str, object] = {}
    if corpus or corpus_from_db:
        updates["corpora"] = [str(p) for p in corpus or []]
        updates["corpus_from_db"] = [str(p) for p in corpus_from_db or []]
    if prompt:
        updates["prompts"] = prompt
    if concurrency is not None:
        updates["concurrency"] = concurrency
    if repeats is not None:
        updates["repeats"] = repeats
    if backend or model or base_url:
        first = base.models[0]
        if backend in (None, first.backend):
            spec = first.model_copy(update={k: v for k, v in
                                            {"model": model, "base_url": base_url}.items() if v})
        else:
            spec = ModelSpec(backend=backend, model=model, base_url=base_url)  # type: ignore[arg-type]
        updates["models"] = [spec]
    try:
        resolved = Suite.model_validate(base.model_copy(update=updates).model_dump())
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0]) if error["loc"] else "?"
        flag = _FLAGS.get(key, key)
        raise fail(f"{flag}: {error['msg'].removeprefix('Value error, ')}", EXIT_USAGE) from None
    try:
        result = execute(resolved, out, use_cache=not no_cache, progress=True, suite_path=suite)
    except UsageError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    except OSError as exc:
        raise fail(f"cannot write the run: {exc}", EXIT_RUNTIME) from None
    for summary in result.summary.runs:
        print(_headline(summary))
    print(f"wrote {result.out}/summary.json, cases.jsonl, report.md, report.html")
    if all(s.errors == s.predictions for s in result.summary.runs):
        raise fail("every call failed: see the error column of cases.jsonl")


def _headline(summary: RunSummary) -> str:
    from tasseograph.evals.report import interval, pct

    return (f"{summary.run}: {summary.cases} cases, accuracy {pct(summary.accuracy)}, "
            f"FPR {pct(summary.false_positive_rate)} "
            f"[{interval(summary.false_positive_rate_ci95)}], "
            f"critical recall {pct(summary.critical_recall)} "
            f"[{interval(summary.critical_recall_ci95)}], critical called ok "
            f"{summary.critical_called_ok}, errors {summary.errors}, cached {summary.cached}, "
            f"cost ${summary.cost_usd:.4f}")


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__


@app.command("compare")
def compare(
    run_a: Annotated[Path, typer.Argument(metavar="RUN_DIR_A", help="The baseline run.")],
    run_b: Annotated[Path, typer.Argument(metavar="RUN_DIR_B", help="The candidate run.")],
    fail_if_worse: Annotated[bool, typer.Option(
        "--fail-if-worse", help="Exit 1 when B is worse (the CI gate; rules in the README).")] = False,
    a_run: Annotated[str | None, typer.Option(
        "--a-run", help="Which combination of A (name or unique part of it).")] = None,
    b_run: Annotated[str | None, typer.Option(
        "--b-run", help="Which combination of B (name or unique part of it).")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="McNemar significance level.")] = 0.05,
    fpr_tolerance: Annotated[float, typer.Option(
        "--fpr-tolerance", help="Allowed rise in false-positive rate (0.02 = 2 pp).")] = 0.02,
    recall_tolerance: Annotated[float, typer.Option(
        "--recall-tolerance", help="Allowed fall in critical recall (0 = none).")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Paired comparison on shared cases: flips, exact McNemar p, ΔFPR and Δcritical recall."""
    import json

    from pydantic import ValidationError

    from tasseograph.evals.compare import CompareError, Gate, render_text, select_runs
    from tasseograph.evals.compare import compare as compare_runs
    from tasseograph.evals.schema import RunDirError, read_run

    try:
        gate = Gate(alpha=alpha, fpr_tolerance=fpr_tolerance, recall_tolerance=recall_tolerance)
    except ValidationError as exc:
        raise fail(_first_line(exc), EXIT_USAGE) from None
    try:
        a, b = read_run(run_a), read_run(run_b)
        results = [compare_runs(a, name_a, b, name_b, gate)
                   for name_a, name_b in select_runs(a, b, a_run, b_run)]
    except (RunDirError, CompareError) as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in results], indent=2))
    else:
        print("\n\n".join(render_text(r) for r in results))
    if fail_if_worse and any(r.gate_failures for r in results):
        print("tasseograph: B is worse than A (see gate above)", file=sys.stderr)
        raise typer.Exit(EXIT_RUNTIME)


@app.command("export-reviews")
def export_reviews(
    db: Annotated[Path, typer.Option("--db", metavar="FILE", help="The collector's results database.")],
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Corpus directory to write.")],
) -> None:
    """Reviewed pilot results → a corpus: fp → ok, tp → the stored status; unsure skipped."""
    from tasseograph.evals.corpus import CorpusError
    from tasseograph.evals.pilot import export_reviews as export

    try:
        pilot = export(db, out)
    except CorpusError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(pilot.skipped.items())) or "none"
    print(f"wrote {len(pilot.entries)} cases to {out} (skipped: {skipped})")
