"""TLS floor, startup refusals (one line, exit 2) and ``tasseograph certs``, via the real CLI."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import ssl
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tasseograph.collector.serve import bind_socket
from tests.support.collector import API_KEY, ROOT, client_context, free_port, payload, tls_files


def handshake(port: int, cafile: Path, version: ssl.TLSVersion) -> str:
    """Negotiate exactly ``version`` (legacy ciphers allowed client-side); returns the version."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile)
    context.minimum_version = context.maximum_version = version
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        return str(tls.version())


@contextlib.contextmanager
def permissive_tls_server(cert: Path, key: Path) -> Iterator[int]:
    """A control server accepting TLS 1.0+, to prove this client can speak TLS 1.1 at all."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_one() -> None:
        with contextlib.suppress(OSError):
            connection, _ = listener.accept()
            with contextlib.suppress(OSError, ssl.SSLError), \
                    context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1)

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(5)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_tls_1_2_and_1_3_accepted_tls_1_1_refused(collector_factory: Any, tmp_path: Path) -> None:
    collector = collector_factory()
    cert, key = collector.config.tls_cert, collector.config.tls_key
    assert handshake(collector.port, cert, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert handshake(collector.port, cert, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    try:
        with permissive_tls_server(cert, key) as control_port:
            assert handshake(control_port, cert, ssl.TLSVersion.TLSv1_1) == "TLSv1.1"
    except (ssl.SSLError, OSError) as exc:
        pytest.skip(f"this OpenSSL cannot speak TLS 1.1 even to a permissive server: {exc}")
    with pytest.raises(ssl.SSLError):
        handshake(collector.port, cert, ssl.TLSVersion.TLSv1_1)


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
            ) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "tasseograph", *args], capture_output=True,
                          text=True, timeout=60, env=environment, cwd=cwd)


def write_config(tmp_path: Path, **values: Any) -> Path:
    cert, key = tls_files(tmp_path / "tls")
    data = {"listen_addr": f"127.0.0.1:{free_port()}", "db_path": str(tmp_path / "db" / "results.db"),
            "tls_cert": str(cert), "tls_key": str(key), "llm_provider": "rules"}
    data.update({k: str(v) for k, v in values.items()})
    path = tmp_path / "collector.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _unwritable_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "ro"
    directory.mkdir()
    (directory / "results.db").write_bytes(b"")
    directory.chmod(0o500)
    (directory / "results.db").chmod(0o400)
    return directory / "results.db"


REFUSALS = [
    # (case, config values (callable for paths), env, expected fragments of the one line)
    ("no agent api key", {}, {}, ["api_key", "TASSEOGRAPH_API_KEY"]),
    ("missing cert", {"tls_cert": lambda p: p / "nope.pem"}, None, ["tls_cert", "nope.pem"]),
    ("missing key", {"tls_key": lambda p: p / "nokey.pem"}, None, ["tls_key", "nokey.pem"]),
    ("cert is not a cert", {"tls_cert": lambda p: _text(p / "junk.pem")}, None, ["tls_cert", "PEM"]),
    ("key of another cert", {"tls_key": lambda p: tls_files(p / "other")[1]}, None, ["tls_cert", "matching"]),
    ("unwritable database", {"db_path": _unwritable_dir}, None, ["db_path", "cannot open database"]),
    ("database under a file", {"db_path": lambda p: _text(p / "file") / "results.db"}, None, ["db_path"]),
    ("database is a directory", {"db_path": lambda p: p}, None, ["db_path", "cannot open database"]),
    ("unknown prompt", {"prompt": lambda p: "nosuch@v9"}, None, ["prompt", "nosuch"]),
    ("unknown key", {"colour": lambda p: "blue"}, None, ["colour", "unknown key"]),
]


def _text(path: Path) -> Path:
    path.write_text("not a certificate\n")
    return path


@pytest.mark.parametrize(("case", "values", "env", "fragments"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_startup_refusals_are_one_line_and_exit_2(tmp_path: Path, case: str, values: dict[str, Any],
                                                  env: dict[str, str] | None,
                                                  fragments: list[str]) -> None:
    if case == "unwritable database" and os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    config = write_config(tmp_path, **{k: v(tmp_path) for k, v in values.items()})
    result = run_cli("collector", "--config", str(config),
                     env=env if env is not None else {"TASSEOGRAPH_API_KEY": "k"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(config) in lines[0] and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_certs_command_writes_cert_and_private_key(tmp_path: Path) -> None:
    out = tmp_path / "tls"
    result = run_cli("certs", "--out", str(out), "--host", "collector.internal", "--host", "10.0.0.5",
                     "--days", "30")
    assert result.returncode == 0, result.stderr
    cert_pem = (out / "cert.pem").read_bytes()
    assert stat.S_IMODE((out / "key.pem").stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(cert_pem)
    printed = re.search(r"SHA-256 fingerprint: ([0-9A-F:]{95})", result.stdout)
    assert printed and printed.group(1) == ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["collector.internal"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.5"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert days == 30


CERTS_USAGE = [
    (["certs", "--host", "x"], "--out"),
    (["certs", "--out", "d"], "--host"),
    (["certs", "--out", "d", "--host", "x", "--days", "0"], "--days"),
]


@pytest.mark.parametrize(("args", "fragment"), CERTS_USAGE)
def test_certs_usage_errors_exit_2(tmp_path: Path, args: list[str], fragment: str) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and fragment in result.stderr


def test_certs_into_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run_cli("certs", "--out", str(blocker / "tls"), "--host", "x")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_the_listen_socket_is_declared_tcp_so_replies_are_not_nagled() -> None:
    """asyncio sets TCP_NODELAY on accepted sockets only when their proto is IPPROTO_TCP."""
    sock = bind_socket("127.0.0.1:0")
    try:
        assert sock.proto == socket.IPPROTO_TCP
        client = socket.create_connection(sock.getsockname())
        sock.setblocking(True)
        accepted, _ = sock.accept()
        with client, accepted:
            assert accepted.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_the_real_process_logs_neither_payload_nor_secret_on_401(collector_factory: Any) -> None:
    collector = collector_factory(process=True)
    body = payload(lines=["[Mon Feb  3 12:25:01 2026] password=hunter2-not-for-logs"],
                   hostname="private-host")
    response = httpx.post(collector.ingest_url, json=body, verify=client_context(collector.config.tls_cert),
                          headers={"Authorization": f"Bearer {API_KEY}-wrong"})
    assert response.status_code == 401
    collector.terminate()
    log = collector.stderr
    assert "event=auth_failed" in log
    assert "hunter2" not in log and "private-host" not in log and API_KEY not in log
