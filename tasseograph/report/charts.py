"""The HTML report's charts: matplotlib (Agg) figures as base64 PNGs, one function per chart."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

from tasseograph.report.model import Report

COLORS = {"ok": "#4c9a5b", "warning": "#e0a526", "critical": "#c0392b", "error": "#7f7f7f"}


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float = 9, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def status_per_day(report: Report):
    """Two panels: ok checks on top, the rare statuses stacked below on their own scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 4.6), sharex=True,
                                         gridspec_kw={"height_ratios": [1, 2]})
    days = [d.day[5:] for d in report.status_per_day]
    top.bar(days, [d.ok for d in report.status_per_day], color=COLORS["ok"], label="ok")
    top.set_ylabel("ok")
    stacked = [0] * len(days)
    for status in ("warning", "critical", "error"):
        values = [getattr(d, status) for d in report.status_per_day]
        bottom.bar(days, values, bottom=stacked, color=COLORS[status], label=status)
        stacked = [b + v for b, v in zip(stacked, values, strict=True)]
    bottom.set_ylabel("checks")
    bottom.legend(loc="upper right", fontsize="small")
    return figure


def checks_per_host(report: Report):
    figure, axes = _figure()
    hosts = sorted(report.per_host, key=lambda h: h.checks)
    names = [h.hostname for h in hosts]
    axes.bar(range(len(hosts)), [h.checks for h in hosts], color=COLORS["ok"], width=1.0)
    if len(hosts) <= 40:
        axes.set_xticks(range(len(hosts)), names, rotation=90, fontsize="x-small")
    else:
        axes.set_xlabel(f"{len(hosts)} hosts, fewest checks first")
    axes.set_ylabel("checks")
    return figure


def latency_distribution(report: Report):
    figure, axes = _figure()
    histogram = report.latency_histogram
    if histogram.counts:
        edges = histogram.edges
        axes.bar(edges[:-1], histogram.counts, width=edges[1] - edges[0], align="edge", color="#3a6ea5")
    for name, value in report.latency_ms.model_dump().items():
        if value is not None:
            axes.axvline(value, color="#333", linestyle="--", linewidth=0.8)
            axes.annotate(name, (value, 0.95), xycoords=("data", "axes fraction"), fontsize="small")
    axes.set_xlabel("LLM latency (ms)")
    axes.set_ylabel("checks")
    return figure


def top_categories(report: Report):
    figure, axes = _figure()
    categories = list(reversed(report.top_categories))
    axes.barh([c.category for c in categories], [c.count for c in categories], color=COLORS["warning"])
    axes.set_xlabel("flagged results")
    return figure


def fp_rate(report: Report):
    figure, axes = _figure(height=3.0)
    rows = [(p.prompt_version or "(none)", p) for p in report.fp_rate_by_prompt_version]
    rows.append(("all", report.reviews))
    for index, (_label, counts) in enumerate(rows):
        lo, hi = counts.fp_rate_ci95
        centre = counts.fp_rate if counts.fp_rate is not None else (lo + hi) / 2
        axes.errorbar([centre], [index], xerr=[[centre - lo], [hi - centre]], fmt="o" if
                      counts.fp_rate is not None else "x", capsize=4, color="#c0392b")
        axes.annotate(f"n={counts.tp + counts.fp}", (hi, index), xytext=(6, -3),
                      textcoords="offset points", fontsize="small")
    axes.set_yticks(range(len(rows)), [label for label, _ in rows])
    axes.set_xlim(0, 1)
    axes.set_xlabel("false-positive rate, 95 % Wilson interval")
    return figure


CHARTS: list[tuple[str, Callable]] = [
    ("Status per day", status_per_day),
    ("Checks per host", checks_per_host),
    ("LLM latency distribution", latency_distribution),
    ("Top categories", top_categories),
    ("False-positive rate with its 95 % interval", fp_rate),
]


def charts(report: Report) -> list[tuple[str, str]]:
    """(title, base64 PNG) for every chart."""
    return [(title, _png(draw(report))) for title, draw in CHARTS]
