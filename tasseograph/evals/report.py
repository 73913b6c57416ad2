"""The human report of a run: ``report.md`` and a self-contained ``report.html``.

Both render the same content (:func:`report_sections`): headline rates with their Wilson
intervals, the confusion matrix, per-status scores, cost and latency, provenance. The HTML
embeds the confusion-matrix chart as inline SVG (matplotlib, Agg, imported only here), so the
file can be mailed or attached to a CI run as is.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tasseograph._tables import html_table, markdown_table
from tasseograph.evals.metrics import LABELS, PREDICTIONS
from tasseograph.evals.schema import REPORT_HTML, REPORT_MD, CaseRecord, RunSummary, SummaryFile
from tasseograph.evals.summary import predictions_by_case

#: at most this many wrong cases listed per combination (the rest are in cases.jsonl)
MAX_LISTED = 200


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class Section:
    title: str
    run: RunSummary
    tables: list[Table] = field(default_factory=list)


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def interval(ci: list[float] | None) -> str:
    return "" if not ci else f"{ci[0] * 100:.1f}–{ci[1] * 100:.1f}%"


def _rate_row(name: str, run: RunSummary, key: str, detail: str) -> list[str]:
    return [name, pct(getattr(run, key)), interval(getattr(run, f"{key}_ci95")), detail]


def wrong_cases(records: Sequence[CaseRecord]) -> Table:
    """Every case not answered right on every repeat: what to read when tuning a prompt."""
    rows = []
    for (corpus, cid), group in sorted(predictions_by_case(records).items()):
        label = group[0].label
        if all(r.predicted == label for r in group):
            continue
        errors = "; ".join(sorted({r.error for r in group if r.error}))
        rows.append([f"{corpus}/{cid}", label, ", ".join(r.predicted for r in group),
                     errors[:200]])
    title = f"Cases not always right ({len(rows)})"
    if len(rows) > MAX_LISTED:
        title += f", first {MAX_LISTED} listed"
    return Table(title, ["case", "label", "predicted (per repeat)", "error"], rows[:MAX_LISTED])


def report_sections(summary: SummaryFile,
                    records: Sequence[CaseRecord] = ()) -> list[Section]:
    sections = []
    for run in summary.runs:
        conf = run.confusion
        ok_cases = sum(conf["ok"].values())
        critical_cases = sum(conf["critical"].values())
        headline = Table("Headline (95% Wilson intervals)", ["measure", "value", "95% CI", "of"], [
            _rate_row("accuracy", run, "accuracy", f"{run.cases} cases"),
            _rate_row("false-positive rate", run, "false_positive_rate", f"{ok_cases} ok cases"),
            _rate_row("critical recall", run, "critical_recall", f"{critical_cases} critical cases"),
            ["critical called ok", str(run.critical_called_ok), "", "the worst miss"],
            _rate_row("error rate", run, "error_rate", f"{run.errors} unparseable replies"),
            _rate_row("label flip rate", run, "label_flip_rate", f"{run.repeats} repeats"),
        ])
        confusion = Table("Confusion matrix (rows: label, columns: predicted)",
                          ["label \\ predicted", *PREDICTIONS],
                          [[label, *(str(conf[label][p]) for p in PREDICTIONS)] for label in LABELS])
        per_status = Table("Per status", ["status", "precision", "recall", "F1", "support"], [
            [status, pct(s.precision), pct(s.recall), pct(s.f1), str(s.support)]
            for status, s in run.per_status.items()
        ])
        cost = Table("Cost and latency", ["measure", "value"], [
            ["calls (cases × repeats)", str(run.predictions)],
            ["served from cache", str(run.cached)],
            ["input / output tokens", f"{run.input_tokens:,} / {run.output_tokens:,}"],
            ["estimated cost", f"${run.cost_usd:.4f}"],
            ["cost per 1,000 cases", "n/a" if run.cost_per_1000_cases is None
             else f"${run.cost_per_1000_cases:.4f}"],
            ["latency p50 / p95", f"{_ms(run.latency_ms.p50)} / {_ms(run.latency_ms.p95)}"],
        ])
        provenance = Table("Provenance", ["item", "value"], [
            ["prompt", run.prompt_version or run.prompt],
            ["backend / model", f"{run.backend} / {run.model}"],
            ["git commit", run.git_commit or "unknown"],
            ["time (UTC)", f"{run.started_at} → {run.finished_at}"],
            *[[f"corpus {c.name} ({c.cases} cases)", f"sha256 {c.manifest_hash[:16]}…"]
              for c in run.corpora],
        ])
        tables = [headline, confusion, per_status, cost, provenance]
        if records:
            tables.append(wrong_cases([r for r in records if r.run == run.run]))
        sections.append(Section(run.run, run, tables))
    return sections


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} ms"


def render_markdown(summary: SummaryFile, records: Sequence[CaseRecord] = ()) -> str:
    out = ["# Eval report", ""]
    for section in report_sections(summary, records):
        out += [f"## {section.title}", ""]
        for table in section.tables:
            out += [f"### {table.title}", "", *markdown_table(table.header, table.rows), ""]
    return "\n".join(out)


def confusion_svg(run: RunSummary) -> str:
    """The confusion matrix as a heat map, inline SVG (matplotlib's Agg-free SVG backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    counts = [[run.confusion[label][p] for p in PREDICTIONS] for label in LABELS]
    figure = Figure(figsize=(4.8, 3.4))
    axes = figure.subplots()
    axes.imshow(counts, cmap="Blues")
    axes.set_xticks(range(len(PREDICTIONS)), labels=list(PREDICTIONS))
    axes.set_yticks(range(len(LABELS)), labels=list(LABELS))
    axes.set_xlabel("predicted")
    axes.set_ylabel("label")
    peak = max(max(row) for row in counts) or 1
    for i, row in enumerate(counts):
        for j, value in enumerate(row):
            axes.text(j, i, str(value), ha="center", va="center",
                      color="white" if value > peak / 2 else "black")
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]  # drop the XML prolog and doctype: inline in HTML


_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;
padding:.25rem .6rem;text-align:left}th{background:#f3f3f3}h2{border-bottom:1px solid #ddd}"""


def render_html(summary: SummaryFile, records: Sequence[CaseRecord] = (),
                charts: bool = True) -> str:
    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Eval report</title>",
             f"<style>{_STYLE}</style></head><body><h1>Eval report</h1>"]
    for section in report_sections(summary, records):
        parts.append(f"<h2>{esc(section.title)}</h2>")
        if charts:
            parts.append(f"<figure>{confusion_svg(section.run)}"
                         "<figcaption>Confusion matrix</figcaption></figure>")
        for table in section.tables:
            parts.append(f"<h3>{esc(table.title)}</h3>")
            parts += html_table(table.header, table.rows)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_reports(out: Path, summary: SummaryFile, records: Sequence[CaseRecord] = ()) -> None:
    (out / REPORT_MD).write_text(render_markdown(summary, records), encoding="utf-8")
    (out / REPORT_HTML).write_text(render_html(summary, records), encoding="utf-8")
