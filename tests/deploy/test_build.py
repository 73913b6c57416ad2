"""Single-file builds: what goes in, for which platform, and that the amd64 file runs here."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from glob import glob
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tasseograph import build
from tasseograph.protocol import IngestPayload
from tests.deploy.conftest import SYSTEM_PYTHON

ROOT = Path(__file__).resolve().parents[2]
#: the agent command is registered in tasseograph/cli.py (written by another component)
AGENT_WRITTEN = '("agent",' in (ROOT / "tasseograph" / "cli.py").read_text(encoding="utf-8")
needs_agent = pytest.mark.skipif(not AGENT_WRITTEN, reason="`tasseograph agent` not registered yet")
API_KEY = "deploy-test-key-0123456789"

# ------------------------------------------------------------------------------------------
# the parts, without building anything


@pytest.mark.parametrize(("wheel", "arch", "fits"), [
    ("pydantic_core-2.5.0-cp311-cp311-manylinux2014_aarch64.manylinux_2_17_aarch64.whl",
     "arm64", True),
    ("pydantic_core-2.5.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
     "arm64", False),
    ("pydantic_core-2.5.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
     "amd64", True),
    ("httpx-0.27.0-py3-none-any.whl", "arm64", True),
    ("cryptography-42.0-cp39-abi3-macosx_10_12_universal2.whl", "amd64", False),
    ("pyyaml-6.0-cp311-cp311-win_amd64.whl", "amd64", False),
    ("pyyaml-6.0-cp311-cp311-musllinux_1_1_aarch64.whl", "arm64", True),
])
def test_wheel_fits(wheel: str, arch: str, fits: bool) -> None:
    assert build.wheel_fits(wheel, arch) is fits


@pytest.mark.parametrize(("flavor", "present", "absent"), [
    ("agent", ["typer", "httpx", "pydantic", "pyyaml", "rich"],
     ["fastapi", "uvicorn", "anthropic", "duckdb", "pandas", "matplotlib"]),
    ("collector", ["typer", "fastapi", "uvicorn", "anthropic", "cryptography"],
     ["duckdb", "pandas", "matplotlib"]),
])
def test_flavor_requirements(flavor: str, present: list[str], absent: list[str]) -> None:
    requirements = build.FLAVORS[flavor].requirements(ROOT)
    assert set(present) <= set(requirements)
    assert not set(absent) & set(requirements)


@pytest.mark.parametrize(("arch", "version", "tag", "machine"), [
    ("amd64", "3.11", "cp311-cp311-manylinux2014_x86_64", "x86_64"),
    ("arm64", "3.13", "cp313-cp313-manylinux_2_17_aarch64", "aarch64"),
    ("arm64", "3.12", "cp312-abi3-manylinux2014_aarch64", "aarch64"),
    ("arm64", "3.12", "py3-none-any", "aarch64"),
])
def test_complete_platform(arch: str, version: str, tag: str, machine: str) -> None:
    platform = build.complete_platform(arch, version)
    assert tag in platform["compatible_tags"]
    markers = platform["marker_environment"]
    assert isinstance(markers, dict)
    assert markers["platform_machine"] == machine
    assert markers["python_full_version"].startswith(version + ".")
    assert not any("x86_64" in t for t in platform["compatible_tags"]) or arch == "amd64"


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["--arch", "sparc"], 2, "invalid choice"),
    ([], 2, "--arch"),
    (["--arch", "amd64", "--flavor", "everything"], 2, "invalid choice"),
])
def test_build_cli_usage_errors(argv: list[str], code: int, message: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build.main(argv)
    assert exit_info.value.code == code
    assert message in capsys.readouterr().err


def test_resolve_arches_native_and_duplicates() -> None:
    assert build.resolve_arches(["native", build.native_arch(), "arm64"]) == \
        list(dict.fromkeys([build.native_arch(), "arm64"]))


# ------------------------------------------------------------------------------------------
# real builds (bounded: the agent flavour for both arches, ~20 s with a warm cache)


def run_file(path: Path, args: list[str], env: dict[str, str],
             python: str | None = SYSTEM_PYTHON) -> subprocess.CompletedProcess[str]:
    assert python, "no python3 on this machine"
    return subprocess.run([python, str(path), *args], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


@pytest.mark.parametrize("arch", list(build.ARCHES))
def test_build_is_one_executable_file(arch: str, agent_builds: dict[str, Path]) -> None:
    path = agent_builds[arch]
    assert path.name == f"tasseograph-linux-{arch}"
    assert path.is_file() and os.access(path, os.X_OK)
    assert path.read_bytes()[:2] == b"#!"


@pytest.mark.parametrize("arch", list(build.ARCHES))
def test_build_carries_only_wheels_for_its_arch(arch: str,
                                                agent_builds: dict[str, Path]) -> None:
    wheels = build.embedded_wheels(agent_builds[arch])
    assert wheels, "no wheels found in the pex"
    assert [w for w in wheels if not build.wheel_fits(w, arch)] == []
    # pydantic-core, the compiled one, once per supported CPython
    cores = sorted(w.split("-")[2] for w in wheels if w.startswith("pydantic_core-"))
    assert cores == ["cp311", "cp312", "cp313"]
    names = {build.wheel_name(w) for w in wheels}
    assert not names & {"fastapi", "uvicorn", "anthropic", "duckdb", "pandas", "matplotlib",
                        "starlette"}
    assert {"tasseograph", "typer", "httpx", "pydantic", "pyyaml"} <= names


def test_amd64_file_runs_help_with_system_python(agent_builds: dict[str, Path],
                                                 pex_env: dict[str, str]) -> None:
    result = run_file(agent_builds["amd64"], ["--help"], pex_env)
    assert result.returncode == 0, result.stderr
    assert "check-config" in result.stdout
    if AGENT_WRITTEN:
        assert "agent" in result.stdout


def test_left_out_dependency_is_one_line(agent_builds: dict[str, Path],
                                         pex_env: dict[str, str], tmp_path: Path) -> None:
    """The agent file has no uvicorn: `collector` says so in one line, without a traceback."""
    from tasseograph.certs import write_certificate

    cert, key, _ = write_certificate(tmp_path / "tls", ["127.0.0.1"])
    config = tmp_path / "collector.yaml"
    config.write_text(f"listen_addr: '127.0.0.1:9'\ndb_path: {str(tmp_path / 'r.db')!r}\n"
                      f"tls_cert: {str(cert)!r}\ntls_key: {str(key)!r}\nllm_provider: rules\n",
                      encoding="utf-8")
    result = run_file(agent_builds["amd64"], ["collector", "--config", str(config)],
                      {**pex_env, "TASSEOGRAPH_API_KEY": API_KEY})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "single-file build does not carry" in result.stderr


# ------------------------------------------------------------------------------------------
# one agent tick, with the file, against a stdlib HTTPS server pinned by ca_file


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, object]]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append(  # type: ignore[attr-defined]
            (self.headers.get("Authorization", ""), json.loads(body)))
        reply = json.dumps({"id": len(self.server.received),  # type: ignore[attr-defined]
                            "status": "ok", "issues": [], "duplicate": False}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


@pytest.fixture
def https_collector(tmp_path: Path) -> Iterator[tuple[ThreadingHTTPServer, Path]]:
    """A stand-in collector on 127.0.0.1 with a `tasseograph certs` certificate."""
    from tasseograph.certs import write_certificate

    cert, key, _ = write_certificate(tmp_path / "tls", ["127.0.0.1"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.received = []  # type: ignore[attr-defined]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, cert
    server.shutdown()
    server.server_close()


def agent_config(tmp_path: Path, url: str, ca_file: Path) -> Path:
    config = tmp_path / "agent.yaml"
    config.write_text(
        f"collector_url: {url!r}\npoll_interval: 5s\n"
        f"state_file: {str(tmp_path / 'state' / 'last_timestamp')!r}\nhostname: deploy-test\n"
        f"tls_skip_verify: false\nsource: auto\nca_file: {str(ca_file)!r}\n"
        f"request_timeout: 10s\nmax_payload_bytes: 1048576\n", encoding="utf-8")
    (tmp_path / "state").mkdir()
    return config



def test_agent_config_validates_in_the_file(agent_builds: dict[str, Path],
                                            pex_env: dict[str, str], tmp_path: Path) -> None:
    from tasseograph.certs import write_certificate

    cert, _, _ = write_certificate(tmp_path / "tls", ["127.0.0.1"])
    config = agent_config(tmp_path, "https://127.0.0.1:9/ingest", cert)
    result = run_file(agent_builds["amd64"], ["check-config", "--agent", str(config)],
                      {**pex_env, "TASSEOGRAPH_API_KEY": API_KEY})
    assert (result.returncode, result.stdout.strip()) == (0, f"{config}: ok (agent)"), \
        result.stderr


@needs_agent
def test_agent_bad_config_is_one_line(agent_builds: dict[str, Path], pex_env: dict[str, str],
                                      tmp_path: Path) -> None:
    result = run_file(agent_builds["amd64"],
                      ["agent", "--config", str(tmp_path / "missing.yaml"), "--once"],
                      {**pex_env, "TASSEOGRAPH_API_KEY": API_KEY})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "missing.yaml" in result.stderr + result.stdout


@needs_agent
def test_agent_ticks_with_the_file(agent_builds: dict[str, Path], pex_env: dict[str, str],
                                   https_collector: tuple[ThreadingHTTPServer, Path],
                                   tmp_path: Path) -> None:
    """`agent --once` twice: the first tick notes where the log ends, the second ships news.

    The kernel log is a file read through the agent's `dmesg_command` (the real /dev/kmsg
    holds whatever this machine logged), in `dmesg --raw` format.
    """
    server, cert = https_collector
    config = agent_config(tmp_path, f"https://127.0.0.1:{server.server_address[1]}/ingest",
                          cert)
    kernel_log = tmp_path / "dmesg.txt"
    kernel_log.write_text("<6>[    1.000000] Linux version 6.1.0\n", encoding="utf-8")
    boot_id = tmp_path / "boot_id"
    boot_id.write_text("0f0e0d0c-0000-4000-8000-000000000001\n", encoding="utf-8")
    with config.open("a", encoding="utf-8") as out:
        out.write(f"dmesg_command: ['cat', {str(kernel_log)!r}]\n"
                  f"boot_id_path: {str(boot_id)!r}\n")
    config.write_text(config.read_text().replace("source: auto", "source: dmesg"))
    env = {**pex_env, "TASSEOGRAPH_API_KEY": API_KEY}
    argv = ["agent", "--config", str(config), "--once"]

    first = run_file(agent_builds["amd64"], argv, env)
    assert first.returncode == 0, first.stderr
    with kernel_log.open("a", encoding="utf-8") as out:
        out.write("<3>[    3.000000] EDAC MC0: 1 CE memory read error on DIMM0\n")
    second = run_file(agent_builds["amd64"], argv, env)
    assert second.returncode == 0, second.stderr

    assert "Traceback" not in first.stderr + second.stderr
    received = server.received  # type: ignore[attr-defined]
    assert len(received) == 1
    authorization, body = received[0]
    assert authorization == f"Bearer {API_KEY}"
    payload = IngestPayload.model_validate(body)
    assert payload.hostname == "deploy-test"
    assert [line.split("] ", 1)[1] for line in payload.lines] == \
        ["EDAC MC0: 1 CE memory read error on DIMM0"]


# ------------------------------------------------------------------------------------------
# slow: the collector flavour, and the other CPython versions


def _pyenv_python(version: str) -> str | None:
    found = sorted(glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")))
    return found[-1] if found else None


@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_amd64_file_runs_on_other_cpythons(version: str, agent_builds: dict[str, Path],
                                           pex_env: dict[str, str]) -> None:
    python = _pyenv_python(version)
    if python is None:
        pytest.skip(f"no CPython {version} here")
    result = run_file(agent_builds["amd64"], ["--help"], pex_env, python=python)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("arch", list(build.ARCHES))
def test_collector_build_contents(arch: str, collector_builds: dict[str, Path]) -> None:
    wheels = build.embedded_wheels(collector_builds[arch])
    assert [w for w in wheels if not build.wheel_fits(w, arch)] == []
    names = {build.wheel_name(w) for w in wheels}
    assert {"fastapi", "uvicorn", "anthropic", "cryptography", "tasseograph"} <= names
    assert not names & {"duckdb", "pandas", "matplotlib"}


@pytest.mark.slow
def test_collector_file_makes_certificates(collector_builds: dict[str, Path],
                                           pex_env: dict[str, str], tmp_path: Path) -> None:
    result = run_file(collector_builds["amd64"],
                      ["certs", "--out", str(tmp_path / "tls"), "--host=collector.internal"],
                      pex_env)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (tmp_path / "tls").iterdir()} == {"cert.pem", "key.pem"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@needs_agent
def test_collector_file_and_agent_file_end_to_end(collector_builds: dict[str, Path],
                                                  agent_builds: dict[str, Path],
                                                  pex_env: dict[str, str],
                                                  tmp_path: Path) -> None:
    """Both files as deployed: certs, collector (rules backend), two agent ticks, sqlite3."""
    env = {**pex_env, "TASSEOGRAPH_API_KEY": API_KEY}
    tls = tmp_path / "tls"
    made = run_file(collector_builds["amd64"], ["certs", "--out", str(tls), "--host=127.0.0.1"],
                    env)
    assert made.returncode == 0, made.stderr
    port = _free_port()
    db = tmp_path / "results.db"
    collector_yaml = tmp_path / "collector.yaml"
    collector_yaml.write_text(
        f"listen_addr: '127.0.0.1:{port}'\ndb_path: {str(db)!r}\n"
        f"tls_cert: {str(tls / 'cert.pem')!r}\ntls_key: {str(tls / 'key.pem')!r}\n"
        "llm_provider: rules\n", encoding="utf-8")
    assert SYSTEM_PYTHON
    collector = subprocess.Popen([SYSTEM_PYTHON, str(collector_builds["amd64"]), "collector",
                                  "--config", str(collector_yaml)], env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert collector.poll() is None, collector.communicate()[0]
            try:
                pinned = ssl.create_default_context(cafile=str(tls / "cert.pem"))
                if httpx.get(f"https://127.0.0.1:{port}/healthz", verify=pinned,
                             timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "collector did not come up"
            time.sleep(0.2)

        config = agent_config(tmp_path, f"https://127.0.0.1:{port}/ingest", tls / "cert.pem")
        kernel_log = tmp_path / "dmesg.txt"
        kernel_log.write_text("<6>[    1.000000] Linux version 6.1.0\n", encoding="utf-8")
        config.write_text(config.read_text().replace("source: auto", "source: dmesg")
                          + f"dmesg_command: ['cat', {str(kernel_log)!r}]\n", encoding="utf-8")
        argv = ["agent", "--config", str(config), "--once"]
        assert run_file(agent_builds["amd64"], argv, env).returncode == 0
        with kernel_log.open("a", encoding="utf-8") as out:
            out.write("<3>[    3.000000] EDAC MC0: 1 UE memory read error on DIMM0\n")
        shipped = run_file(agent_builds["amd64"], argv, env)
        assert shipped.returncode == 0, shipped.stderr
    finally:
        collector.terminate()
        collector.communicate(timeout=30)

    # the seed's check, unchanged
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT hostname, status FROM results").fetchall()
    assert len(rows) == 1
    assert rows[0][0] == "deploy-test"
    assert rows[0][1] in ("warning", "critical")
