"""``tasseograph collector`` and ``tasseograph certs``.

Nothing heavy at module level (``tasseograph --help`` imports this): fastapi and uvicorn
load inside :func:`collector`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tasseograph._cli import EXIT_USAGE, config_errors, fail
from tasseograph.config import ConfigError


def collector(
    config: Annotated[Path, typer.Option("--config", metavar="FILE",
                                         help="Collector YAML (see deploy/config/collector.yaml.example).")],
) -> None:
    """Serve POST /ingest over HTTPS: authenticate, ask the LLM, store the verdict in SQLite."""
    from tasseograph.config import load_collector_config

    with config_errors():
        cfg = load_collector_config(config)
    from tasseograph.collector.serve import configure_logging, serve

    configure_logging()
    try:
        serve(cfg)
    except ConfigError as exc:  # a startup refusal, re-phrased with the file it came from
        raise fail(str(ConfigError(config, exc.key, exc.message)), EXIT_USAGE) from None


def certs(
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Directory for cert.pem and key.pem.")],
    host: Annotated[list[str], typer.Option("--host", metavar="NAME",
                                            help="DNS name or IP the agents connect to (repeatable).")],
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Validity in days.")] = 365,
) -> None:
    """Write a self-signed TLS certificate (DIR/cert.pem) and key (DIR/key.pem, 0600); print its SHA-256 fingerprint."""
    from tasseograph.certs import write_certificate

    try:
        cert_path, key_path, fingerprint = write_certificate(out, host, days)
    except (OSError, ValueError) as exc:
        raise fail(f"certs: cannot write to {out}: {getattr(exc, 'strerror', None) or exc}") from None
    print(f"wrote {cert_path} and {key_path} (0600)")
    print(f"SHA-256 fingerprint: {fingerprint}")
