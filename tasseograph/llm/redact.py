"""Opt-in redaction: identifying values become stable placeholders before an LLM sees them.

Within one :class:`Redactor` (one analyze call) the same value always maps to the same
placeholder, so "the same disk failed twice" stays visible; :meth:`Redactor.restore` puts
the real values back into the verdict so operators read real evidence.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

# Order matters: the more specific shapes are claimed first.
_MAC = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])")
_WWN = re.compile(
    r"\b(?:(?:naa|eui|wwn)[.-](?:0x)?[0-9A-Fa-f]{16,32}|0x[1-6][0-9A-Fa-f]{15}(?:[0-9A-Fa-f]{16})?)\b",
)
_SERIAL = re.compile(
    r"(?i)\b(?:serial\s*(?:number|no\.?|num)?|SerialNumber|s/n|sn)\s*[:=#]\s*"
    r"(?P<value>[A-Za-z0-9][A-Za-z0-9._-]{3,})"
)
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?(?![0-9A-Fa-f:])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_HOST_KEY = re.compile(r"(?i)\b(?:hostname|host|nodename)\s*[:=]\s*(?P<value>[A-Za-z0-9][A-Za-z0-9.-]*)")
_FQDN = re.compile(
    r"(?i)(?<![\w./-])(?=[a-z0-9-]*[a-z])[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9-]{1,63})+"
    r"\.(?P<tld>[a-z]{2,63})(?![\w/-]|\.\w)"
)
#: Last labels that make a dotted token a file or module, not a host.
_NOT_TLDS = frozenset({
    "c", "h", "s", "so", "ko", "o", "py", "sh", "pl", "log", "conf", "cfg", "ini", "txt", "json",
    "yaml", "yml", "xml", "service", "slice", "scope", "mount", "socket", "device", "target",
    "timer", "path", "swap", "img", "bin", "fw", "ucode", "sys", "exe", "dll", "gz", "xz", "zst",
    "bz", "tar", "deb", "rpm", "efi", "dtb", "pem", "crt", "key", "lock", "pid", "rules", "d",
    "mod", "map", "elf", "jar", "js", "rs", "go", "cpp", "hpp", "cc",
})


def _valid_ipv6(text: str) -> bool:
    if text.count(":") < 2:
        return False
    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _valid_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


class Redactor:
    """One per call: the placeholder table that makes redaction stable and reversible."""

    def __init__(self, hostnames: Iterable[str] = ()) -> None:
        self._forward: dict[tuple[str, str], str] = {}
        self._backward: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._hostnames = sorted({h for h in hostnames if h}, key=len, reverse=True)

    def _placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self._forward:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            placeholder = f"<{kind}{self._counts[kind]}>"
            self._forward[key] = placeholder
            self._backward[placeholder] = value
        return self._forward[key]

    def _sub(self, pattern: re.Pattern[str], kind: str, text: str, group: str | int = 0,
             accept: Callable[[str], bool] | None = None) -> str:
        def replace(match: re.Match[str]) -> str:
            value = match.group(group)
            if accept is not None and not accept(value):
                return match.group(0)
            start, end = match.span(group)
            whole_start = match.start()
            prefix = match.group(0)[: start - whole_start]
            suffix = match.group(0)[end - whole_start:]
            return prefix + self._placeholder(kind, value) + suffix

        return pattern.sub(replace, text)

    def redact(self, line: str) -> str:
        for name in self._hostnames:
            line = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w-])",
                          lambda m: self._placeholder("host", m.group(0)), line)
        line = self._sub(_SERIAL, "serial", line, "value")
        line = self._sub(_WWN, "wwn", line)
        line = self._sub(_MAC, "mac", line)
        line = self._sub(_IPV6, "ip", line, accept=_valid_ipv6)
        line = self._sub(_IPV4, "ip", line, accept=_valid_ipv4)
        line = self._sub(_HOST_KEY, "host", line, "value")
        return self._sub(_FQDN, "host", line,
                         accept=lambda v: v.rsplit(".", 1)[-1].lower() not in _NOT_TLDS)

    def redact_all(self, lines: Iterable[str]) -> list[str]:
        return [self.redact(line) for line in lines]

    def restore(self, text: str) -> str:
        """Put the real values back (for the verdict's summaries and evidence)."""
        if not self._backward:
            return text
        return re.sub(r"<(?:ip|mac|serial|wwn|host)\d+>",
                      lambda m: self._backward.get(m.group(0), m.group(0)), text)
