"""Cost control before and after the call: collapsing repeats, redaction, priced usage."""

from __future__ import annotations

import pytest

from tasseograph.config import DEFAULT_PRICES, PriceTable
from tasseograph.llm import AnalyzerSettings, Usage, make_analyzer
from tasseograph.llm.collapse import collapse_repeats, strip_prefix
from tasseograph.llm.cost import estimate_cost
from tasseograph.llm.redact import Redactor


@pytest.mark.parametrize(("line", "message"), [
    ("[   12.345678] EDAC MC0: 1 CE", "EDAC MC0: 1 CE"),
    ("[Mon Feb  3 12:25:01 2026] EDAC MC0: 1 CE", "EDAC MC0: 1 CE"),
    ("<4>[    1.000000] EDAC MC0: 1 CE", "EDAC MC0: 1 CE"),
    ("<6>EDAC MC0: 1 CE", "EDAC MC0: 1 CE"),
    ("6,1234,5678901,-;EDAC MC0: 1 CE", "EDAC MC0: 1 CE"),
    ("2026-02-03T12:25:01,123456+00:00 EDAC MC0: 1 CE", "EDAC MC0: 1 CE"),
    ("EDAC MC0: 1 CE", "EDAC MC0: 1 CE"),
    ("[drm:amdgpu_job_timedout [amdgpu]] *ERROR*", "[drm:amdgpu_job_timedout [amdgpu]] *ERROR*"),
])
def test_strip_prefix(line: str, message: str) -> None:
    assert strip_prefix(line) == message


def test_collapse_counts_repeats_across_timestamps_and_keeps_order() -> None:
    lines = ([f"[{i:>5}.000000] ata3: hard resetting link" for i in range(312)]
             + ["[  400.000000] ata3: link is slow to respond"]
             + ["[Mon Feb  3 12:25:01 2026] ata3: hard resetting link"])
    collapsed = collapse_repeats([lines[0], "[    0.5] first other", *lines[1:]])
    assert collapsed == [
        "[    0.000000] ata3: hard resetting link … (repeated 313 times)",
        "[    0.5] first other",
        "[  400.000000] ata3: link is slow to respond",
    ]


def test_collapse_leaves_distinct_lines_alone() -> None:
    lines = ["[1.0] a", "[2.0] b", "[3.0] a b"]
    assert collapse_repeats(lines) == lines


def test_redaction_is_stable_and_reversible() -> None:
    redactor = Redactor(hostnames=["web-prod-01"])
    lines = [
        "web-prod-01 kernel: bond0: peer 10.1.2.3 (fe80::1ff:fe23:4567:890a) mac 0c:42:a1:00:11:22",
        "sd 0:0:0:0: [sda] Serial Number: WD-WCC4N1234567 wwn naa.5000c500a1b2c3d4",
        "nfs: server storage01.dc1.example.com not responding, still trying 10.1.2.3",
        "usb 1-1: SerialNumber: 4C530001230101116343",
        "Loaded module ext4.ko from /lib/modules/5.15.0/kernel/fs/ext4/ext4.ko, build 1.2.3.4",
    ]
    redacted = redactor.redact_all(lines)
    assert redacted == [
        "<host1> kernel: bond0: peer <ip2> (<ip1>) mac <mac1>",
        "sd 0:0:0:0: [sda] Serial Number: <serial1> wwn <wwn1>",
        "nfs: server <host2> not responding, still trying <ip2>",
        "usb 1-1: SerialNumber: <serial2>",
        "Loaded module ext4.ko from /lib/modules/5.15.0/kernel/fs/ext4/ext4.ko, build <ip3>",
    ]
    assert [redactor.restore(line) for line in redacted] == lines


@pytest.mark.parametrize("line", [
    "EDAC MC0: 1 CE memory read error on CPU_SrcID#0_Ha#0_Chan#1_DIMM#0 (channel:1 slot:0)",
    "[   12.345678] nvme nvme0: I/O 123 QID 4 timeout, aborting",
    "systemd[1]: Started session-4.scope.",
    "XFS (dm-0): Mounting V5 Filesystem",
])
def test_redaction_leaves_ordinary_lines_alone(line: str) -> None:
    assert Redactor().redact(line) == line


def test_prepare_collapses_then_redacts() -> None:
    analyzer = make_analyzer(AnalyzerSettings(provider="openai", model="m", redact=True,
                                              base_url="http://127.0.0.1:9"))
    rendered, redactor = analyzer.prepare(["[1.0] link to 10.0.0.1 down"] * 3)
    assert redactor is not None
    assert "[1.0] link to <ip1> down … (repeated 3 times)" in rendered.user
    assert "10.0.0.1" not in rendered.user


PRICES = {
    "m": PriceTable(input_per_mtok=3.0, output_per_mtok=15.0, cache_read_per_mtok=0.3,
                    cache_write_per_mtok=3.75),
    "plain": PriceTable(input_per_mtok=2.0, output_per_mtok=10.0),
}


@pytest.mark.parametrize(("usage", "model", "prices", "cost"), [
    (Usage(input_tokens=1_000_000), "m", PRICES, 3.0),
    (Usage(input_tokens=1000, output_tokens=200), "m", PRICES, 0.003 + 0.003),
    (Usage(input_tokens=100, output_tokens=10, cache_read_tokens=10_000, cache_write_tokens=2000),
     "m", PRICES, (100 * 3 + 10 * 15 + 10_000 * 0.3 + 2000 * 3.75) / 1e6),
    (Usage(cache_read_tokens=1000, cache_write_tokens=1000), "plain", PRICES, 4000 / 1e6),
    (Usage(input_tokens=10**6, output_tokens=10**6), "unknown-model", PRICES, 0.0),
    (Usage(input_tokens=1094, output_tokens=41, cache_read_tokens=1091), "claude-haiku-4-5",
     DEFAULT_PRICES, (1094 * 1.0 + 41 * 5.0 + 1091 * 0.10) / 1e6),
])
def test_cost(usage: Usage, model: str, prices: dict[str, PriceTable], cost: float) -> None:
    assert estimate_cost(usage, model, prices) == pytest.approx(cost, abs=1e-8)
