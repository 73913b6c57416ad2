"""Schemas that cross a boundary: the agent's push, the collector's reply, the verdict.

Every component imports these; none defines its own copy.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator


class Status(StrEnum):
    ok = "ok"
    warning = "warning"
    critical = "critical"


class Severity(StrEnum):
    warning = "warning"
    critical = "critical"


#: The closed category vocabulary (DESIGN.md). A verdict naming anything else is invalid.
CATEGORIES: dict[str, str] = {
    "memory_ecc": "EDAC / ECC corrected or uncorrected memory errors",
    "mce": "machine check exceptions (CPU, cache, bus)",
    "disk_io": "block-layer and SCSI/ATA I/O errors, medium errors, device resets",
    "nvme": "NVMe controller timeouts, resets, media errors",
    "filesystem": "ext4/xfs/btrfs errors, journal aborts, read-only remounts, XFS shutdown",
    "oom": "out-of-memory killer and cgroup OOM kills",
    "hung_task": "tasks blocked for more than N seconds",
    "lockup": "soft and hard lockups, NMI watchdog",
    "rcu_stall": "RCU stall warnings",
    "network_link": "NIC link down/up flaps, TX timeouts, bonding failovers",
    "thermal": "thermal throttling, critical temperature shutdowns",
    "gpu": "GPU faults such as NVIDIA Xid, fallen-off-the-bus",
    "kernel_oops": "kernel BUG, oops, panic, WARNING with call trace",
    "segfault": "userspace segfaults and general protection faults",
    "raid": "md/RAID degraded or failed members",
    "usb": "USB device errors (disconnect storms, over-current)",
    "firmware": "firmware / BIOS / ACPI errors that indicate real faults",
    "pcie_aer": "PCIe Advanced Error Reporting (corrected and uncorrected)",
    "storage_controller": "HBA / RAID controller faults (megaraid, mpt3sas, smartpqi)",
    "power": "power supply, voltage and battery faults",
    "security": "audit/LSM denials or integrity violations worth a look",
    "other": "anything abnormal that fits no family above",
}

Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]


class Issue(BaseModel):
    model_config = ConfigDict(extra="ignore")

    severity: Severity
    category: Category
    summary: str = Field(min_length=1, max_length=2000)
    evidence: list[str] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}")
        return value


class Verdict(BaseModel):
    """What every backend returns, validated; a reply that does not fit is invalid."""

    model_config = ConfigDict(extra="ignore")

    status: Status
    issues: list[Issue] = Field(default_factory=list)


#: JSON schema handed to the LLM (tool input / response_format).
VERDICT_JSON_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "status": {"type": "string", "enum": [s.value for s in Status]},
        "issues": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "severity": {"type": "string", "enum": [s.value for s in Severity]},
                    "category": {"type": "string", "enum": list(CATEGORIES)},
                    "summary": {"type": "string"},
                    "evidence": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["severity", "category", "summary", "evidence"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["status", "issues"],
    "additionalProperties": False,
}

_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$")


#: SQLite stores signed 64-bit integers: a larger count or sequence number is a bad payload.
MAX_INT64 = 2**63 - 1


class IngestPayload(BaseModel):
    """The agent's push (DESIGN.md wire protocol). Extra keys are ignored for forward compat."""

    model_config = ConfigDict(extra="ignore")

    hostname: str
    timestamp: datetime
    lines: list[str]
    batch_id: str | None = Field(default=None, max_length=512)
    boot_id: str | None = Field(default=None, max_length=128)
    first_seq: int | None = Field(default=None, ge=0, le=MAX_INT64)
    last_seq: int | None = Field(default=None, ge=0, le=MAX_INT64)
    truncated_lines: int = Field(default=0, ge=0, le=MAX_INT64)
    lost_lines: int = Field(default=0, ge=0, le=MAX_INT64)

    @field_validator("hostname")
    @classmethod
    def _valid_hostname(cls, value: str) -> str:
        if not _HOSTNAME.match(value):
            raise ValueError("invalid hostname")
        return value

    @field_validator("lines", mode="before")
    @classmethod
    def _strings_only(cls, value: object) -> object:
        # pydantic would coerce nothing here anyway, but say why in plain words.
        if isinstance(value, list) and not all(isinstance(line, str) for line in value):
            raise ValueError("every line must be a string")
        return value


class IngestReply(BaseModel):
    id: int
    status: str
    issues: list[Issue] = Field(default_factory=list)
    duplicate: bool = False


class ErrorReply(BaseModel):
    error: str


def parse_retry_after(value: str | None, now: float) -> float | None:
    """An HTTP ``Retry-After`` (delta-seconds or an HTTP date) as seconds from ``now``; None if
    absent or unreadable. Read by the agent (the collector's 503) and the LLM backends (429)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)
