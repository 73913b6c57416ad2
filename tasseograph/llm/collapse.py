"""Collapse identical kernel messages before prompting: a storm of 300 lines costs one line.

Messages are compared with their dmesg prefix stripped (``<4>`` priority, ``[  12.345678]``
monotonic, ``[Mon Feb  3 12:25:01 2026]`` from ``dmesg -T``, ISO timestamps, kmsg records),
so the same message at different times counts as a repeat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_PREFIX = re.compile(
    r"""^\s*
    (?:<\d{1,3}>)?                                   # syslog priority from dmesg --raw
    (?:\d+,\d+,\d+,[^;]*;)?                          # /dev/kmsg record header
    (?:
        \[\s*\d+\.\d+\]                              # [   12.345678]
      | \[[A-Z][a-z]{2}\ [A-Z][a-z]{2}\ [\ \d]\d\ \d\d:\d\d:\d\d\ \d{4}\]   # [Mon Feb  3 12:25:01 2026]
      | \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?     # ISO 8601
    )?
    \s*""",
    re.VERBOSE,
)


def strip_prefix(line: str) -> str:
    """The message without its dmesg/kmsg priority and timestamp prefix."""
    return _PREFIX.sub("", line, count=1)


def collapse_repeats(lines: Sequence[str]) -> list[str]:
    """Keep the first occurrence of each message in place, annotated with its total count."""
    counts: dict[str, int] = {}
    first: dict[str, int] = {}
    for index, line in enumerate(lines):
        key = strip_prefix(line).rstrip()
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, index)
    out: list[str] = []
    for key, index in sorted(first.items(), key=lambda item: item[1]):
        line = lines[index]
        out.append(f"{line} … (repeated {counts[key]} times)" if counts[key] > 1 else line)
    return out
