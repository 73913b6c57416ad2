"""Markdown (terminal) and self-contained HTML renderings of a ``Report``.

Both are built from the same list of sections so they never disagree; HTML adds the charts.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from tasseograph._tables import html_table, markdown_table
from tasseograph.report.model import Change, Report

PER_HOST_ROWS = 30


@dataclass
class Section:
    title: str
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    text: str = ""


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _ci(pair: tuple[float, float]) -> str:
    return f"{_pct(pair[0])} – {_pct(pair[1])}"


def _when(value) -> str:
    return "never" if value is None else f"{value:%Y-%m-%d %H:%M}Z"


def _met(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "not yet"}[value]


def _delta(change: Change, percent: bool = False) -> list[str]:
    show = _pct if percent else (lambda v: "n/a" if v is None else f"{v:,.0f}")
    if change.change is None:
        diff = "n/a"
    elif percent:
        diff = f"{100 * change.change:+.1f} pp"
    else:
        diff = f"{change.change:+,.0f}"
    return [show(change.current), show(change.previous), diff]


def sections(report: Report) -> list[Section]:
    """The report's content, independent of the output format."""
    period = report.period
    out = [Section("Period", text=(
        f"{period.label}: {period.start:%Y-%m-%d %H:%M}Z to {period.end:%Y-%m-%d %H:%M}Z (end exclusive);"
        f" hosts judged silent as of {period.as_of:%Y-%m-%d %H:%M}Z. Database: {report.database}"))]
    if report.empty:
        out.append(Section("No data", text=f"{report.message}. Nothing to assess for this period."))
        if report.hosts.silent:
            out.append(Section("Silent hosts", ["host", "last seen"],
                               [[h.hostname, _when(h.last_seen)] for h in report.hosts.silent]))
        return out
    out.append(Section("Success criteria (Phase 1)", ["criterion", "met", "answer"],
                       [[c.name, _met(c.met), c.answer] for c in report.success_criteria]))
    status = report.by_status
    out.append(Section("Summary", ["figure", "value"], [
        ["checks", f"{report.checks:,}"],
        ["hosts reporting / known", f"{report.hosts.reporting} / {report.hosts.known}"],
        ["silent hosts", str(len(report.hosts.silent))],
        ["ok / warning / critical / error",
         f"{status.ok:,} / {status.warning:,} / {status.critical:,} / {status.error:,}"],
        ["error rate", _pct(report.error_rate)],
        ["days with data", str(report.days_with_data)],
        ["LLM latency p50 / p95 / p99 (ms)",
         " / ".join(_ms(v) for v in (report.latency_ms.p50, report.latency_ms.p95, report.latency_ms.p99))],
    ]))
    reviews = report.reviews
    out.append(Section("False positives (human reviews)", ["prompt version", "reviewed", "tp", "fp",
                                                           "unsure", "fp rate", "95 % CI"],
                       [[p.prompt_version or "(none)", str(p.reviewed), str(p.tp), str(p.fp),
                         str(p.unsure), _pct(p.fp_rate), _ci(p.fp_rate_ci95)]
                        for p in report.fp_rate_by_prompt_version]
                       + [["all", str(reviews.reviewed), str(reviews.tp), str(reviews.fp),
                           str(reviews.unsure), _pct(reviews.fp_rate), _ci(reviews.fp_rate_ci95)]]))
    if report.week_over_week:
        wow = report.week_over_week
        out.append(Section(f"Week over week (vs {wow.previous_period.label})",
                           ["figure", "this period", "previous", "change"],
                           [["checks", *_delta(wow.checks)],
                            ["hosts reporting", *_delta(wow.hosts_reporting)],
                            ["warning", *_delta(wow.warning)], ["critical", *_delta(wow.critical)],
                            ["error rate", *_delta(wow.error_rate, True)],
                            ["fp rate", *_delta(wow.fp_rate, True)]]))
    else:
        out.append(Section("Week over week", text="No data in the previous period to compare with."))
    if report.hosts.silent:
        out.append(Section("Silent hosts", ["host", "last seen"],
                           [[h.hostname, _when(h.last_seen)] for h in report.hosts.silent]))
    if report.errors_by_kind:
        out.append(Section("Errors by kind", ["kind", "count", "example"],
                           [[k.kind, f"{k.count:,}", k.example] for k in report.errors_by_kind]))
    out.append(Section("Top categories", ["category", "flagged results"],
                       [[c.category, f"{c.count:,}"] for c in report.top_categories]))
    noisiest = sorted(report.per_host, key=lambda h: (-(h.warning + h.critical), h.hostname))
    more = len(noisiest) - PER_HOST_ROWS
    out.append(Section("Per host (most flagged first)",
                       ["host", "checks", "ok", "warning", "critical", "error", "last seen"],
                       [[h.hostname, f"{h.checks:,}", f"{h.ok:,}", f"{h.warning:,}", f"{h.critical:,}",
                         f"{h.error:,}", _when(h.last_seen)] for h in noisiest[:PER_HOST_ROWS]],
                       text=f"{more} more hosts in `--format json`." if more > 0 else ""))
    return out


def to_markdown(report: Report) -> str:
    lines = [f"# Tasseograph pilot report — {report.period.label}", ""]
    for section in sections(report):
        lines += [f"## {section.title}", ""]
        if section.headers:
            lines += [*markdown_table(section.headers, section.rows), ""]
        if section.text:
            lines += [section.text, ""]
    return "\n".join(lines)


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:left}th{background:#f3f3f3}img{max-width:100%}.charts img{display:block;margin:1em 0}"""


def to_html(report: Report) -> str:
    """One file, no external URL: CSS inline, charts as base64 PNG data URIs."""
    from tasseograph.report.charts import charts

    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>Tasseograph pilot report {esc(report.period.label)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Tasseograph pilot report — {esc(report.period.label)}</h1>"]
    for section in sections(report):
        parts.append(f"<h2>{esc(section.title)}</h2>")
        if section.headers:
            parts += html_table(section.headers, section.rows)
        if section.text:
            parts.append(f"<p>{esc(section.text)}</p>")
    if not report.empty:
        parts.append('<h2>Charts</h2><div class="charts">')
        parts += [f'<figure><img alt="{esc(title)}" src="data:image/png;base64,{data}">'
                  f"<figcaption>{esc(title)}</figcaption></figure>" for title, data in charts(report)]
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)
