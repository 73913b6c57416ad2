"""The built-in offline analyzer: a curated, data-driven catalogue of kernel-log families.

It is the no-key default and the baseline every eval compares an LLM against, so it is
deliberately conservative: a line is abnormal only when it matches a catalogue entry, and
known-benign noise is checked first. Lines are data here too: nothing in a line can change
how another line is judged. Issues are grouped per category (severity = the worst rule that
matched, evidence = the matching lines).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from tasseograph.llm._base import Analysis, Usage
from tasseograph.llm.collapse import strip_prefix
from tasseograph.protocol import Issue, Severity, Status, Verdict

CATALOGUE_VERSION = "v1"
MAX_EVIDENCE = 10

W, C = Severity.warning, Severity.critical


@dataclass(frozen=True)
class Rule:
    id: str
    pattern: str
    severity: Severity
    category: str
    summary: str


#: Known-benign noise, checked before the catalogue: a matching line is ok whatever follows.
BENIGN: tuple[str, ...] = (
    r"\bACPI (?:BIOS )?(?:Error|Warning|Exception)\b",   # firmware tables at boot
    r"\[Firmware (?:Bug|Warn|Info)\]",                    # e.g. TSC doesn't count with P0 frequency
    r"\bSATA link (?:down|up)\b",                        # empty SATA ports at boot
    r"(?i)\bNIC Link is Up\b|\blink (?:is )?up\b|\blink becomes ready\b",
    r"\bUSB disconnect, device number \d+|\bnew [\w ]*speed USB device number|\bNew USB device (?:found|strings)",
    r"\bEDAC [\w ]*: Ver: |\bEDAC \S+: Giving out device",
    r"\bAER: enabled with IRQ\b|_OSC: OS (?:now controls|supports)",
    r"\bmounted filesystem\b|\bEnding clean mount\b|\bMounting V\d Filesystem\b|\bre-mounted\. Opts",
    r"\bCore temperature/speed normal\b|\bPackage temperature/speed normal\b",
)

# Order matters: the first rule that matches a line claims it, so a panic that names its
# cause ("Fatal machine check", "Hard LOCKUP") is filed under that cause.
CATALOGUE: tuple[Rule, ...] = (
    # -- memory ECC / machine checks --------------------------------------------------------
    Rule("edac_ue", r"\bEDAC\b.*\b(?:UE|Uncorrect(?:ed|able))\b", C, "memory_ecc",
         "Uncorrected memory (ECC) error reported by EDAC"),
    Rule("edac_ce", r"\bEDAC\b.*\b(?:CE|Correct(?:ed|able))\b", W, "memory_ecc",
         "Corrected memory (ECC) errors reported by EDAC"),
    Rule("memory_failure", r"\bMemory failure: 0x[0-9a-f]+|\bUncorrected hardware memory error\b"
         r"|\bhardware memory corruption\b", C, "memory_ecc",
         "Uncorrectable memory error hit a page in use (memory failure handling)"),
    Rule("ghes_fatal", r"\[Hardware Error\]:.*\bevent severity: (?:fatal|recoverable)\b", C, "mce",
         "Firmware-reported uncorrected hardware error (APEI/GHES)"),
    Rule("ghes_corrected", r"\[Hardware Error\]:.*\bevent severity: corrected\b", W, "mce",
         "Firmware-reported corrected hardware error (APEI/GHES)"),
    Rule("mce_fatal", r"\bMachine Check Exception\b|\bFatal machine check\b", C, "mce",
         "Machine check exception"),
    Rule("mce_logged", r"\bMachine check events logged\b|\[Hardware Error\]: CPU \d+: Machine Check: ",
         W, "mce", "Corrected machine check events logged"),
    # -- thermal (before generic mce: throttling lines carry an "mce:" prefix) -----------------
    Rule("thermal_critical", r"(?i)\bcritical temperature reached\b|\bthermal shutdown\b", C,
         "thermal", "Critical temperature reached, shutting down"),
    Rule("thermal_throttle", r"(?i)\btemperature above threshold\b|\bclock throttled\b", W,
         "thermal", "CPU thermal throttling"),
    # -- lockups, stalls, hung tasks (before the generic "BUG:" rule) --------------------------
    Rule("hard_lockup", r"(?i)\bhard LOCKUP\b", C, "lockup", "Hard lockup detected by the NMI watchdog"),
    Rule("soft_lockup", r"\bsoft lockup - CPU#?\d+ stuck for \d+s\b|\bBUG: workqueue lockup\b", W,
         "lockup", "Soft lockup: a CPU was stuck in kernel mode"),
    Rule("rcu_stall", r"\bINFO: rcu_\w+ (?:self-)?detected\b|\brcu_\w+ kthread starved\b", W,
         "rcu_stall", "RCU stall detected"),
    Rule("hung_task", r"\bINFO: task .+:\d+ blocked for more than \d+ seconds\b", W, "hung_task",
         "Task blocked for more than the hung-task timeout"),
    # -- kernel BUG / oops / panic (after the families whose panics name their cause) --------
    Rule("panic", r"\bKernel panic - not syncing\b", C, "kernel_oops", "Kernel panic"),
    Rule("oops", r"\bkernel BUG at\b|\bBUG: (?!soft lockup|workqueue lockup)|\bOops\b.*\[#\d+\]"
         r"|\bgeneral protection fault\b.*\[#\d+\]|\bUnable to handle kernel (?:NULL pointer|paging request)",
         C, "kernel_oops", "Kernel BUG/oops"),
    Rule("kernel_warning", r"\bWARNING: (?:CPU: \d+ PID: \d+ )?at \S+", W, "kernel_oops",
         "Kernel WARNING with call trace"),
    # -- storage ----------------------------------------------------------------------------
    Rule("nvme_media", r"\bnvme\d+n\d+: .*\(sct 0x[0-9a-f]+ / sc 0x[0-9a-f]+\)", C, "nvme",
         "NVMe command failed with a media/device error"),
    Rule("nvme_down", r"\bnvme\S* \S+: (?:controller is down; will reset|Device not ready; aborting"
         r"|Removing after probe failure|Disabling device after reset failure)", C, "nvme",
         "NVMe controller down or removed"),
    Rule("nvme_timeout", r"\bnvme\S* \S+: I/O (?:tag )?\d+ .*QID \d+ timeout\b"
         r"|\bnvme\S* \S+: resetting controller\b", W, "nvme", "NVMe command timeouts / controller reset"),
    Rule("block_io_error", r"\b(?:I/O|critical (?:medium|target|nexus|space allocation|protection))"
         r" error, dev \S+, sector\b|\bBuffer I/O error on dev(?:ice)? \S+", C, "disk_io",
         "Block-device I/O errors"),
    Rule("scsi_medium", r"\bSense Key\s*:\s*(?:Medium|Hardware) Error\b|\bUnrecovered read error\b"
         r"|\bata\d+(?:\.\d+)?: error: \{[^}]*\bUNC\b|\brejecting I/O to offline device\b",
         C, "disk_io", "Disk medium/hardware error"),
    Rule("ata_scsi_errors", r"\bata\d+(?:\.\d+)?: (?:exception Emask|failed command:|hard resetting link"
         r"|COMRESET failed)|\bFAILED Result: hostbyte=|\btiming out command, waited \d+s\b",
         W, "disk_io", "ATA/SCSI command errors and link resets"),
    Rule("xfs_shutdown", r"\bXFS \([^)]*\): (?:xfs_do_force_shutdown|.*Shutting down filesystem"
         r"|Filesystem has been shut down|Corruption of in-memory data)", C, "filesystem",
         "XFS filesystem shut down"),
    Rule("fs_readonly", r"\bRemounting filesystem read-only\b|\bforced readonly\b", C, "filesystem",
         "Filesystem remounted read-only after errors"),
    Rule("fs_error", r"\bEXT[234]-fs error\b|\bAborting journal on device\b|\bJBD2?: .*\b(?:I/O error|IO errors)\b"
         r"|\bEXT4-fs \([^)]*\): (?:previous I/O error|failed to convert unwritten)"
         r"|\bBTRFS(?: error| critical|: error)\b|\bBTRFS warning \([^)]*\): (?:csum failed|checksum error)"
         r"|\bXFS \([^)]*\): (?:Corruption detected|[Mm]etadata (?:I/O error|corruption detected)|Internal error)",
         C, "filesystem", "Filesystem errors"),
    Rule("raid_failed", r"\b(?:md/)?raid\d*(?::\S+)?: (?:Disk failure on|Operation continuing on \d+ devices"
         r"|not enough operational devices)|\bmd: kicking non-fresh \S+ from array\b"
         r"|\bis now (?:DEGRADED|OFFLINE|FAILED)\b", C, "raid", "RAID array degraded or member failed"),
    Rule("raid_assembled_degraded", r"\b(?:md|raid)\S*.*\bactive with (?P<have>\d+) out of "
         r"(?!(?P=have)\b)\d+ (?:mirrors|devices)\b", C, "raid", "RAID array running degraded"),
    Rule("storage_controller", r"\bFW in FAULT state\b|\bmpt[23]sas_cm\d+: fault_state\b"
         r"|\bsmartpqi \S+: controller is offline\b|\bhpsa \S+: Controller lockup detected\b",
         C, "storage_controller", "Storage controller fault"),
    # -- OOM (5.1 changed "Kill process … or sacrifice child" to "Killed process … oom_score_adj") --
    Rule("oom_memcg", r"\bMemory cgroup out of memory: Kill(?:ed)? process\b"
         r"|\boom-kill:constraint=CONSTRAINT_MEMCG\b", W, "oom", "OOM kill inside a memory cgroup"),
    Rule("oom_global", r"\bOut of memory(?: \([^)]*\))?: Kill(?:ed)? process\b|\boom-kill:.*\bglobal_oom\b",
         C, "oom", "System-wide out-of-memory: the OOM killer killed a process"),
    Rule("oom_kill", r"\bKilled process \d+ \(.*\)|\binvoked oom-killer\b|\boom-kill:constraint="
         r"|\boom_reaper: reaped process\b", W, "oom", "OOM killer killed a process"),
    # -- network ----------------------------------------------------------------------------
    Rule("link_down", r"(?i)\bNIC Link is Down\b|\blink (?:is )?down\b|\blink status definitely down\b",
         W, "network_link", "Network link went down"),
    Rule("tx_timeout", r"\bNETDEV WATCHDOG: .*\btransmit (?:queue \d+ )?timed out\b", W, "network_link",
         "NIC transmit queue timed out"),
    # -- GPU --------------------------------------------------------------------------------
    Rule("xid_critical", r"\bNVRM: Xid \([^)]*\): (?:48|62|64|74|79)\b|\bfallen off the bus\b", C, "gpu",
         "NVIDIA GPU fatal Xid error (DBE, internal error, NVLink or fallen off the bus)"),
    Rule("xid", r"\bNVRM: Xid \([^)]*\): \d+", W, "gpu", "NVIDIA GPU Xid error"),
    Rule("amdgpu_reset", r"\bamdgpu\b.*\bGPU reset begin\b|\*ERROR\* ring \S+ timeout", W, "gpu",
         "AMD GPU ring timeout / reset"),
    # -- PCIe AER ---------------------------------------------------------------------------
    Rule("aer_uncorrected", r"(?i)\bUncorrect(?:ed|able) \((?:Non-)?Fatal\) error (?:message )?received\b"
         r"|\bseverity=Uncorrect(?:ed|able)\b", C, "pcie_aer", "PCIe uncorrected (AER) error"),
    Rule("aer_corrected", r"(?i)\bCorrect(?:ed|able) error (?:message )?received\b|\bseverity=Correct(?:ed|able)\b",
         W, "pcie_aer", "PCIe corrected (AER) errors"),
    # -- userspace faults -------------------------------------------------------------------
    Rule("segfault", r"\bsegfault at [0-9a-f]+ ip\b|\btraps: .+\[\d+\] (?:general protection|trap \w)",
         W, "segfault", "Userspace process crashed (segfault / protection fault)"),
    # -- USB --------------------------------------------------------------------------------
    Rule("usb_error", r"\busb \S+: (?:device descriptor read/\w+, error|device not accepting address"
         r"|unable to enumerate USB device)|\bover-current (?:condition|change)\b", W, "usb",
         "USB device errors"),
)

_BENIGN = tuple(re.compile(p) for p in BENIGN)
_RULES = tuple((rule, re.compile(rule.pattern)) for rule in CATALOGUE)
_RANK = {W: 1, C: 2}


def catalogue_hash() -> str:
    """Changes whenever a rule or benign pattern changes: part of the rules' prompt_version."""
    data = json.dumps({"benign": BENIGN, "rules": [asdict(r) for r in CATALOGUE]}, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:8]


def classify(line: str) -> Rule | None:
    """The rule that claims ``line``, or None (benign noise or nothing known)."""
    message = strip_prefix(line)
    if any(p.search(message) for p in _BENIGN):
        return None
    for rule, pattern in _RULES:
        if pattern.search(message):
            return rule
    return None


def triage(lines: Sequence[str]) -> Verdict:
    found: dict[str, tuple[Rule, list[str]]] = {}
    for raw in lines:
        line = raw.rstrip("\r\n")
        rule = classify(line)
        if rule is None:
            continue
        worst, evidence = found.setdefault(rule.category, (rule, []))
        if _RANK[rule.severity] > _RANK[worst.severity]:
            found[rule.category] = (rule, evidence)
        if len(evidence) < MAX_EVIDENCE and line not in evidence:
            evidence.append(line)
    issues = [Issue(severity=rule.severity, category=rule.category, summary=rule.summary,
                    evidence=evidence) for rule, evidence in found.values()]
    issues.sort(key=lambda issue: -_RANK[issue.severity])
    if not issues:
        return Verdict(status=Status.ok)
    return Verdict(status=Status(issues[0].severity.value), issues=issues)


class RulesAnalyzer:
    """The Analyzer protocol without an LLM: zero tokens, zero cost, deterministic."""

    backend = "rules"
    model = "rules"

    def __init__(self, settings: object | None = None) -> None:
        self.prompt_version = f"rules@{CATALOGUE_VERSION}#{catalogue_hash()}"

    async def analyze(self, lines: Sequence[str]) -> Analysis:
        started = time.perf_counter()
        verdict = triage(lines)
        return Analysis(
            verdict=verdict, raw_response=verdict.model_dump_json(), backend=self.backend,
            model=self.model, prompt_version=self.prompt_version, usage=Usage(),
            latency_ms=round((time.perf_counter() - started) * 1000), cost_usd=0.0,
        )

    async def aclose(self) -> None:
        return None

