"""Builds shared by the deploy tests: made once per session, downloads cached in ~/.cache."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from tasseograph import build

#: the host interpreter the single files must run on: the system's, not the venv's
SYSTEM_PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else shutil.which("python3")


def _require_pex() -> None:
    if importlib.util.find_spec("pex") is None:
        pytest.skip("pex is not installed (pip install pex)")


@pytest.fixture(scope="session")
def agent_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """dist/tasseograph-linux-{amd64,arm64}, built as `make build-linux` builds them."""
    _require_pex()
    out = tmp_path_factory.mktemp("dist")
    paths = build.build(["amd64", "arm64"], out, flavors=["agent"], log=False)
    return {path.name.rsplit("-", 1)[1]: path for path in paths}


@pytest.fixture(scope="session")
def collector_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """dist/tasseograph-collector-linux-{amd64,arm64}."""
    _require_pex()
    out = tmp_path_factory.mktemp("dist-collector")
    paths = build.build(["amd64", "arm64"], out, flavors=["collector"], log=False)
    return {path.name.rsplit("-", 1)[1]: path for path in paths}


@pytest.fixture(scope="session")
def pex_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for running a single file: its own PEX_ROOT, no venv on PATH."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PEX_", "VIRTUAL_ENV", "PYTHON"))}
    env["PEX_ROOT"] = str(tmp_path_factory.mktemp("pex-root"))
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env
