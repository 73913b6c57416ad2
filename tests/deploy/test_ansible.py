"""The Ansible playbook: syntax, ansible-lint, a check-mode run and an idempotent real run.

Both runs target localhost with every path pointed into a tmp dir and service management off,
so nothing outside the tmp dir changes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasseograph.config import load_agent_config, load_collector_config

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = ROOT / "deploy" / "ansible"
VENV_BIN = Path(sys.executable).parent
HOSTS = ("collector-test", "agent-test")
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, "amd64")


def tool(name: str) -> str:
    """An Ansible tool from this venv, else from PATH; skip when Ansible is not installed."""
    path = VENV_BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} not installed (pip install ansible-core ansible-lint)")
    return found


def ansible_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
        "ANSIBLE_REMOTE_TEMP": str(tmp_path / "ansible-remote"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    })
    return env


def test_syntax_check(tmp_path: Path) -> None:
    result = subprocess.run(
        [tool("ansible-playbook"), "-i", str(ANSIBLE_DIR / "inventory.example.ini"),
         str(ANSIBLE_DIR / "site.yml"), "--syntax-check"],
        capture_output=True, text=True, env=ansible_env(tmp_path), timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_production_profile(tmp_path: Path) -> None:
    # on a copy: ansible-lint leaves its cache (.ansible/) in the directory it checks
    copy = shutil.copytree(ANSIBLE_DIR, tmp_path / "ansible",
                           ignore=shutil.ignore_patterns(".ansible", "fetched"))
    result = subprocess.run([tool("ansible-lint"), "--nocolor", "--offline"],
                            cwd=copy, capture_output=True, text=True,
                            env=ansible_env(tmp_path), timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Profile 'production' was required, and it passed" in output


@pytest.fixture
def scratch(tmp_path: Path) -> dict[str, Path]:
    """A dist/ with stand-in builds and a scratch root for every path the roles write."""
    dist = tmp_path / "dist"
    dist.mkdir()
    # The collector build must answer `certs` as the real one does: run this checkout's CLI.
    certs = f"#!/bin/sh\nexec {sys.executable} -m tasseograph \"$@\"\n"
    for name, text in [("tasseograph-collector-linux-amd64", certs),
                       ("tasseograph-collector-linux-arm64", certs),
                       ("tasseograph-linux-amd64", "#!/bin/sh\necho agent amd64\n"),
                       ("tasseograph-linux-arm64", "#!/bin/sh\necho agent arm64\n")]:
        (dist / name).write_text(text, encoding="utf-8")
        (dist / name).chmod(0o755)
    return {"dist": dist, "root": tmp_path / "root"}


def recap(output: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP lines -> {host: {ok, changed, unreachable, failed, ...}}."""
    stats = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$", output, re.M):
        stats[host] = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counts)}
    return stats


def run_playbook(tmp_path: Path, scratch: dict[str, Path],
                 *extra: str) -> dict[str, dict[str, int]]:
    inventory = tmp_path / "inventory.ini"
    hosts = {}
    for host in HOSTS:
        # both hosts are this machine: each gets its own root, as separate machines would
        root = scratch["root"] / host
        paths = {
            "tasseograph_bin": root / "usr/local/bin/tasseograph",
            "tasseograph_config_dir": root / "etc/tasseograph",
            "tasseograph_state_dir": root / "var/lib/tasseograph",
            "tasseograph_systemd_dir": root / "etc/systemd/system",
        }
        (root / "usr/local/bin").mkdir(parents=True, exist_ok=True)
        (root / "etc/systemd/system").mkdir(parents=True, exist_ok=True)
        hosts[host] = " ".join(f"{key}={value}" for key, value in paths.items())
    inventory.write_text(
        f"[collector]\ncollector-test ansible_connection=local {hosts['collector-test']}\n"
        f"[agents]\nagent-test ansible_connection=local {hosts['agent-test']}\n",
        encoding="utf-8")
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True)
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True, check=True)
    extra_vars = {
        "ansible_python_interpreter": sys.executable,
        "tasseograph_create_user": False,
        "tasseograph_user": user.stdout.strip(),
        "tasseograph_group": group.stdout.strip(),
        "tasseograph_manage_service": False,
        "tasseograph_dist_dir": str(scratch["dist"]),
        "tasseograph_ca_local": str(tmp_path / "fetched" / "ca.pem"),
        "tasseograph_collector_host": "collector.test",
        "vault_tasseograph_api_key": "test-shared-secret-0123456789",
        "vault_tasseograph_llm_api_key": "test-llm-key",
        "tasseograph_collector_extra_config": {"llm_max_tokens": 2048,
                                               "collapse_repeats": False},
    }
    result = subprocess.run(
        [tool("ansible-playbook"), "-i", str(inventory), str(ANSIBLE_DIR / "site.yml"),
         "-e", json.dumps(extra_vars), *extra],
        capture_output=True, text=True, env=ansible_env(tmp_path), timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    stats = recap(result.stdout)
    assert set(stats) == set(HOSTS), result.stdout[-2000:]
    return stats


def test_check_mode_run_changes_nothing(tmp_path: Path, scratch: dict[str, Path]) -> None:
    stats = run_playbook(tmp_path, scratch, "--check")
    assert all(host["failed"] == 0 and host["unreachable"] == 0 for host in stats.values())
    assert all(host["changed"] > 0 for host in stats.values())  # a fresh host needs work
    for host in HOSTS:
        root = scratch["root"] / host
        assert not (root / "etc/tasseograph").exists()
        assert not any((root / "usr/local/bin").iterdir())


@pytest.mark.skipif(os.geteuid() != 0, reason="the roles chown files to root")
def test_real_run_installs_then_is_idempotent(tmp_path: Path, scratch: dict[str, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASSEOGRAPH_API_KEY", "test-shared-secret-0123456789")
    monkeypatch.setenv("TASSEOGRAPH_LLM_API_KEY", "test-llm-key")
    first = run_playbook(tmp_path, scratch)
    collector, agent = (scratch["root"] / host for host in HOSTS)
    dist = scratch["dist"]
    # the collector keeps the collector build (it carries the agent too); agents get theirs
    assert (collector / "usr/local/bin/tasseograph").read_bytes() == \
        (dist / "tasseograph-collector-linux-amd64").read_bytes()
    assert (agent / "usr/local/bin/tasseograph").read_bytes() == \
        (dist / f"tasseograph-linux-{ARCH}").read_bytes()
    tls = collector / "etc/tasseograph/tls"
    assert {p.name for p in tls.iterdir()} == {"cert.pem", "key.pem"}
    assert (tls / "key.pem").stat().st_mode & 0o777 == 0o640
    # the agent pins the collector's certificate, fetched through the control node
    assert (agent / "etc/tasseograph/tls/cert.pem").read_bytes() == \
        (tls / "cert.pem").read_bytes()
    env_file = agent / "etc/tasseograph/agent.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert env_file.read_text().strip().endswith(
        "TASSEOGRAPH_API_KEY=test-shared-secret-0123456789")
    assert "TASSEOGRAPH_LLM_API_KEY=test-llm-key" in \
        (collector / "etc/tasseograph/collector.env").read_text()
    assert (agent / "var/lib/tasseograph").stat().st_mode & 0o777 == 0o700
    assert (agent / "etc/systemd/system/tasseograph-agent.service").read_bytes() == \
        (ROOT / "deploy/systemd/tasseograph-agent.service").read_bytes()
    agent_yaml = (agent / "etc/tasseograph/agent.yaml").read_text()
    assert '"https://collector.test:9311/ingest"' in agent_yaml
    collector_yaml = (collector / "etc/tasseograph/collector.yaml").read_text()
    assert "test-shared-secret" not in agent_yaml + collector_yaml
    # the templates' output is what the services will load: every key known, every value valid
    loaded_agent = load_agent_config(agent / "etc/tasseograph/agent.yaml")
    assert loaded_agent.collector_url == "https://collector.test:9311/ingest"
    loaded_collector = load_collector_config(collector / "etc/tasseograph/collector.yaml")
    assert (loaded_collector.llm_provider, loaded_collector.llm_max_tokens,
            loaded_collector.collapse_repeats) == ("anthropic", 2048, False)
    assert first["collector-test"]["changed"] > 0

    second = run_playbook(tmp_path, scratch)
    assert {host: stats["changed"] for host, stats in second.items()} == \
        {"collector-test": 0, "agent-test": 0}
