"""The systemd units: `systemd-analyze verify` is silent on them, and the hardening holds."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT_DIR = ROOT / "deploy" / "systemd"
UNITS = ["tasseograph-agent.service", "tasseograph-collector.service"]
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(SYSTEMD_ANALYZE is None,
                                           reason="systemd-analyze not installed")


def service_section(unit: str) -> dict[str, list[str]]:
    """[Service] as key -> every value (systemd keys may repeat)."""
    values: dict[str, list[str]] = {}
    section = None
    for raw in (UNIT_DIR / unit).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service":
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def checkable_copy(unit_text: str, name: str, tmp_path: Path) -> Path:
    """A copy of the unit whose ExecStart binary exists on this machine.

    `systemd-analyze verify` insists that ExecStart's program is executable, and
    /usr/local/bin/tasseograph is not installed here, so the copy points it at /bin/true;
    everything else is checked as is.
    """
    path = tmp_path / name
    path.write_text(unit_text.replace("ExecStart=/usr/local/bin/tasseograph ",
                                      "ExecStart=/bin/true "), encoding="utf-8")
    return path


def verify(unit_text: str, name: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = checkable_copy(unit_text, name, tmp_path)
    return subprocess.run([str(SYSTEMD_ANALYZE), "verify", str(path)], capture_output=True,
                          text=True, timeout=60, check=False)


@needs_systemd_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify_is_silent(unit: str, tmp_path: Path) -> None:
    result = verify((UNIT_DIR / unit).read_text(encoding="utf-8"), unit, tmp_path)
    # verify exits 0 even on unknown keys; its warnings go to stderr, so silence is the check
    assert (result.returncode, result.stderr) == (0, "")


@needs_systemd_analyze
@pytest.mark.parametrize(("original", "broken", "complaint"), [
    ("ProtectHome=yes", "ProtectHme=yes", "Unknown key"),
    ("Restart=on-failure", "Restart=sometimes", "restart specifier"),
])
def test_verify_catches_a_broken_unit(original: str, broken: str, complaint: str,
                                      tmp_path: Path) -> None:
    text = (UNIT_DIR / UNITS[0]).read_text(encoding="utf-8")
    assert original in text
    result = verify(text.replace(original, broken), UNITS[0], tmp_path)
    assert complaint in result.stderr


@pytest.mark.parametrize(("unit", "key", "value"), [
    (unit, key, value)
    for unit in UNITS
    for key, value in [
        ("Restart", "on-failure"),
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("StateDirectory", "tasseograph"),
        ("StateDirectoryMode", "0700"),
        ("User", "tasseograph"),
    ]
] + [
    ("tasseograph-agent.service", "ExecStart",
     "/usr/local/bin/tasseograph agent --config /etc/tasseograph/agent.yaml"),
    ("tasseograph-agent.service", "CapabilityBoundingSet", "CAP_SYSLOG"),
    ("tasseograph-agent.service", "AmbientCapabilities", "CAP_SYSLOG"),
    ("tasseograph-agent.service", "EnvironmentFile", "/etc/tasseograph/agent.env"),
    ("tasseograph-collector.service", "ExecStart",
     "/usr/local/bin/tasseograph collector --config /etc/tasseograph/collector.yaml"),
    ("tasseograph-collector.service", "EnvironmentFile", "/etc/tasseograph/collector.env"),
    ("tasseograph-collector.service", "ProtectKernelLogs", "yes"),
    ("tasseograph-collector.service", "PrivateDevices", "yes"),
    ("tasseograph-collector.service", "CapabilityBoundingSet", ""),
])
def test_unit_sets(unit: str, key: str, value: str) -> None:
    assert value in service_section(unit).get(key, [])


@pytest.mark.parametrize("key", ["ProtectKernelLogs", "PrivateDevices"])
def test_agent_keeps_dev_kmsg_visible(key: str) -> None:
    """Either setting hides /dev/kmsg, the agent's input."""
    assert key not in service_section("tasseograph-agent.service")


@pytest.mark.parametrize("unit", UNITS)
def test_no_secret_in_unit(unit: str) -> None:
    service = service_section(unit)
    settings = " ".join(value for values in service.values() for value in values)
    assert "API_KEY" not in settings
    assert "RestartSec" in service


def test_units_parse_as_ini() -> None:
    """A cheap structural check that also runs where systemd-analyze is missing."""
    for unit in UNITS:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read(UNIT_DIR / unit)
        assert {"Unit", "Service", "Install"} <= set(parser.sections())
        assert parser["Install"]["WantedBy"] == "multi-user.target"


@needs_systemd_analyze
@pytest.mark.parametrize(("unit", "ceiling"), [
    ("tasseograph-agent.service", 3.0),  # CAP_SYSLOG and /dev/kmsg cost a little
    ("tasseograph-collector.service", 2.0),
])
def test_security_exposure(unit: str, ceiling: float, tmp_path: Path) -> None:
    """`systemd-analyze security` rates the hardening: 0 is best, 10 an unhardened unit."""
    path = checkable_copy((UNIT_DIR / unit).read_text(encoding="utf-8"), unit, tmp_path)
    result = subprocess.run([str(SYSTEMD_ANALYZE), "security", "--offline=yes", str(path)], capture_output=True, text=True, timeout=60,
                            check=False)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= ceiling
