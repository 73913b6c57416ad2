"""The report's JSON shape (DESIGN.md "Report JSON" plus the pilot's success-criteria answers)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PeriodInfo(BaseModel):
    start: datetime
    end: datetime  # exclusive
    label: str
    as_of: datetime  # silence is judged here: min(end, newest result in the database)


class SilentHost(BaseModel):
    hostname: str
    last_seen: datetime


class Hosts(BaseModel):
    reporting: int  # hosts with at least one result in the period
    known: int  # hosts with any result before the period's end
    silent: list[SilentHost] = Field(default_factory=list)


class ByStatus(BaseModel):
    ok: int = 0
    warning: int = 0
    critical: int = 0
    error: int = 0


class Latency(BaseModel):
    """Percentiles of answered LLM calls (ok/warning/critical), linear interpolation."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


class ReviewCounts(BaseModel):
    reviewed: int = 0
    tp: int = 0
    fp: int = 0
    unsure: int = 0
    fp_rate: float | None = None  # fp / (tp + fp)
    fp_rate_ci95: tuple[float, float] = (0.0, 1.0)  # Wilson


class PromptReviews(ReviewCounts):
    prompt_version: str | None


class CategoryReviews(ReviewCounts):
    category: str


class HostRow(BaseModel):
    hostname: str
    checks: int
    ok: int
    warning: int
    critical: int
    error: int
    last_seen: datetime | None


class CategoryCount(BaseModel):
    category: str
    count: int  # flagged results naming the category


class ErrorKind(BaseModel):
    kind: str
    count: int
    example: str


class DayStatus(ByStatus):
    day: str


class Histogram(BaseModel):
    edges: list[float] = Field(default_factory=list)
    counts: list[int] = Field(default_factory=list)


class Change(BaseModel):
    current: float | None
    previous: float | None
    change: float | None


class WeekOverWeek(BaseModel):
    previous_period: PeriodInfo
    checks: Change
    hosts_reporting: Change
    warning: Change
    critical: Change
    error_rate: Change
    fp_rate: Change


class Criterion(BaseModel):
    name: str
    met: bool | None  # None: cannot be judged yet (e.g. no reviews)
    answer: str


class Report(BaseModel):
    database: str
    empty: bool
    message: str | None = None
    period: PeriodInfo
    hosts: Hosts
    checks: int
    by_status: ByStatus
    error_rate: float | None
    errors_by_kind: list[ErrorKind]
    latency_ms: Latency
    reviews: ReviewCounts
    fp_rate_by_prompt_version: list[PromptReviews]
    per_host: list[HostRow]
    top_categories: list[CategoryCount]
    days_with_data: int
    status_per_day: list[DayStatus]
    latency_histogram: Histogram
    week_over_week: WeekOverWeek | None
    success_criteria: list[Criterion]
