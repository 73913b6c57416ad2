"""Single-file builds for the fleet: ``dist/tasseograph-linux-{amd64,arm64}``.

``python -m tasseograph.build --arch native|amd64|arm64 [--arch ...] [--flavor agent|collector]
[--out dist]`` (what ``make build`` and ``make build-linux`` run).

Two flavours per architecture, each one executable file:

- ``tasseograph-linux-<arch>``: for every pilot host. It carries the project's dependencies
  except the heavy ones DESIGN.md keeps off the agent's path (fastapi, uvicorn, anthropic,
  duckdb, pandas, matplotlib): typer, httpx, pydantic, pyyaml, rich, and jinja2 and
  cryptography because ``tasseograph/cli.py`` imports every command module at start-up.
- ``tasseograph-collector-linux-<arch>``: for the collector host: the same plus fastapi,
  uvicorn and anthropic, so it runs ``tasseograph collector`` and ``tasseograph certs``.

The research commands (eval, report) need duckdb and pandas and stay out of both; run them
from a full install (``pip install``). A command whose dependency was left out fails with one
line saying so (:func:`zipapp_main`).

Why pex and not shiv: shiv installs into one site-packages, so one file could carry
pydantic-core for one CPython only. A pex built for several complete platforms carries the
wheels of every interpreter (cp311, cp312, cp313) and picks the matching ones at run time, so
one file runs on any host with CPython 3.11-3.13 and glibc >= 2.17 (manylinux2014).

Wheels are fetched with ``pip download --only-binary=:all:`` for each (arch, CPython) pair,
pinned by ``requirements/constraints.txt``, into ``~/.cache/tasseograph/build/wheels/``; a
stamp keyed on the inputs makes later builds skip the network (a cached build takes seconds).
This module imports only the standard library at module level: it ships in the wheel and its
:func:`zipapp_main` is the single-file build's entry point.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: our architecture names → the machine names in wheel platform tags
ARCHES: dict[str, str] = {"amd64": "x86_64", "arm64": "aarch64"}
#: CPython versions every build carries wheels for
PYTHON_VERSIONS: tuple[str, ...] = ("3.11", "3.12", "3.13")
#: glibc baseline: manylinux2014 == manylinux_2_17 (CentOS 7 and anything newer)
MANYLINUX_TAGS: tuple[str, ...] = ("manylinux2014", "manylinux_2_17")
#: what the agent hosts never carry (DESIGN.md: the agent's import path must not import them)
NOT_FOR_AGENTS: tuple[str, ...] = ("anthropic", "fastapi", "uvicorn", "duckdb", "pandas",
                                   "matplotlib")
#: what only the research commands (eval, report) need; no single file carries them
RESEARCH_ONLY: tuple[str, ...] = ("duckdb", "pandas", "matplotlib")


@dataclass(frozen=True)
class Flavor:
    """One kind of single file: which project dependencies it leaves out, what it is called."""

    name: str
    leave_out: tuple[str, ...]
    file_prefix: str

    def filename(self, arch: str) -> str:
        return f"{self.file_prefix}-linux-{arch}"

    def requirements(self, root: Path) -> list[str]:
        """The project's dependencies (pyproject.toml) minus the ones this flavour leaves out.

        Computed, not listed: ``tasseograph/cli.py`` imports every command module to register
        it, so whatever those import at module level (jinja2, cryptography, ...) must be in
        every file, and only the heavy set DESIGN.md keeps off the agent's path may be missing.
        """
        return [name for name in project_dependencies(root) if name not in self.leave_out]


FLAVORS: dict[str, Flavor] = {
    "agent": Flavor("agent", NOT_FOR_AGENTS, "tasseograph"),
    "collector": Flavor("collector", RESEARCH_ONLY, "tasseograph-collector"),
}


class BuildError(Exception):
    """A build step failed; the message says which and why."""


def project_root() -> Path:
    """The source checkout this module lives in (the build needs pyproject.toml)."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise BuildError(f"{root}: no pyproject.toml; build from a source checkout")
    return root


def default_cache_dir() -> Path:
    """Downloads survive ``make clean`` and other checkouts: ``~/.cache/tasseograph/build``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tasseograph" / "build"


def native_arch() -> str:
    """This machine's architecture in our naming (amd64 or arm64)."""
    machine = platform.machine().lower()
    for arch, wheel_machine in ARCHES.items():
        if machine in (arch, wheel_machine):
            return arch
    raise BuildError(f"unsupported machine {machine!r}: builds exist for {', '.join(ARCHES)}")


def normalize(name: str) -> str:
    """PEP 503 project name normalization (Foo_Bar → foo-bar)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """The project name of a PEP 508 requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise BuildError(f"cannot parse requirement {requirement!r}")
    return normalize(match.group(1))


def project_dependencies(root: Path) -> list[str]:
    """Normalized names of the project's runtime dependencies (pyproject.toml)."""
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return [requirement_name(req) for req in data["project"]["dependencies"]]


def wheel_name(filename: str) -> str:
    """Normalized project name of a wheel file name."""
    return normalize(filename.split("-", 1)[0])


def wheel_platforms(filename: str) -> list[str]:
    """The platform tags of a wheel file name (``...-cp311-manylinux_2_17_x86_64.whl``)."""
    stem = filename.removesuffix(".whl")
    return stem.split("-")[-1].split(".")


def wheel_fits(filename: str, arch: str) -> bool:
    """True for pure-Python wheels and for Linux wheels built for ``arch``'s machine."""
    machine = ARCHES[arch]
    return all(tag == "any" or (tag.endswith(f"_{machine}") and "linux" in tag)
               for tag in wheel_platforms(filename))


def embedded_wheels(pex_file: Path) -> list[str]:
    """Names of the wheels a built pex carries (its ``.deps/<wheel file name>/`` entries)."""
    with zipfile.ZipFile(pex_file) as archive:
        names = {entry.split("/")[1] for entry in archive.namelist()
                 if entry.startswith(".deps/") and entry.count("/") >= 2}
    return sorted(name for name in names if name.endswith(".whl"))


def platform_tags(arch: str) -> list[str]:
    """pip ``--platform`` values for an architecture."""
    return [f"{tag}_{ARCHES[arch]}" for tag in MANYLINUX_TAGS]


def complete_platform(arch: str, version: str) -> dict[str, object]:
    """A pex ``--complete-platform`` for CPython ``version`` on manylinux2014 ``arch``.

    Abbreviated platforms (``manylinux2014_x86_64-cp-311-cp311``) lack markers such as
    ``python_full_version`` that some dependencies (the collector's) evaluate, so pex refuses
    them; a complete platform spells out the marker environment and the tags (from
    ``packaging``, a build-time dependency only).
    """
    from packaging import tags

    major, minor = (int(part) for part in version.split("."))
    nodot = f"{major}{minor}"
    platforms = platform_tags(arch)
    compatible = [
        *tags.cpython_tags((major, minor), abis=[f"cp{nodot}"], platforms=platforms),
        *tags.compatible_tags((major, minor), interpreter=f"cp{nodot}", platforms=platforms),
    ]
    return {
        "marker_environment": {
            "implementation_name": "cpython",
            "implementation_version": f"{version}.0",
            "os_name": "posix",
            "platform_machine": ARCHES[arch],
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": f"{version}.0",
            "python_version": version,
            "sys_platform": "linux",
        },
        "compatible_tags": [str(tag) for tag in compatible],
    }


def write_complete_platforms(arch: str, out_dir: Path) -> list[Path]:
    """One complete-platform JSON file per CPython version, for ``pex --complete-platform``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for version in PYTHON_VERSIONS:
        path = out_dir / f"{arch}-cp{version.replace('.', '')}.json"
        path.write_text(json.dumps(complete_platform(arch, version), indent=1), encoding="utf-8")
        paths.append(path)
    return paths


def _run(argv: Sequence[str], what: str, cwd: Path | None = None) -> str:
    """Run a build tool; on failure raise with its output (pip and pex explain themselves)."""
    result = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        tail = "\n".join(output.splitlines()[-25:])
        raise BuildError(f"{what} failed (exit {result.returncode}):\n{tail}")
    return result.stdout


def build_project_wheel(root: Path, out_dir: Path) -> Path:
    """Build the tasseograph wheel (no deps; pip fetches hatchling unless the venv has it)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
            "--wheel-dir", str(out_dir), str(root)]
    if importlib.util.find_spec("hatchling") is not None:
        argv.insert(-1, "--no-build-isolation")
    _run(argv, "building the tasseograph wheel")
    wheels = sorted(out_dir.glob("tasseograph-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one tasseograph wheel in {out_dir}, found {len(wheels)}")
    return wheels[0]


def _wheelhouse_key(arch: str, requirements: Sequence[str], constraints: Path) -> str:
    """Everything that decides which wheels a download gets."""
    spec = {
        "arch": arch,
        "pythons": PYTHON_VERSIONS,
        "platforms": platform_tags(arch),
        "requirements": list(requirements),
        "constraints": hashlib.sha256(constraints.read_bytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def download_wheels(arch: str, flavor: Flavor, root: Path, cache_dir: Path) -> Path:
    """The flavour's dependency wheels for ``arch`` and every CPython, cached by a stamp."""
    constraints = root / "requirements" / "constraints.txt"
    wheelhouse = cache_dir / "wheels" / f"{flavor.name}-{arch}"
    stamp = wheelhouse / ".stamp"
    requirements = flavor.requirements(root)
    key = _wheelhouse_key(arch, requirements, constraints)
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == key:
        return wheelhouse
    if wheelhouse.exists():
        shutil.rmtree(wheelhouse)  # inputs changed: don't let stale versions linger
    wheelhouse.mkdir(parents=True)
    for version in PYTHON_VERSIONS:
        argv = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                "--implementation", "cp", "--python-version", version,
                "--abi", f"cp{version.replace('.', '')}", "--abi", "abi3", "--abi", "none",
                "--constraint", str(constraints), "--dest", str(wheelhouse)]
        for tag in platform_tags(arch):
            argv += ["--platform", tag]
        argv += requirements
        _run(argv, f"downloading {flavor.name} {arch} wheels for CPython {version}")
    stamp.write_text(key + "\n", encoding="utf-8")
    return wheelhouse


def excluded_requirements(root: Path, wheelhouse: Path) -> list[str]:
    """Project dependencies the flavour does not carry: everything outside its closure."""
    bundled = {wheel_name(path.name) for path in wheelhouse.glob("*.whl")}
    return sorted(set(project_dependencies(root)) - bundled)


def build_pex(arch: str, root: Path, project_wheel: Path, wheelhouse: Path, cache_dir: Path,
              output: Path) -> Path:
    """Assemble one executable pex for ``arch`` from local wheels only (no index).

    Only ``--complete-platform`` targets, no ``--interpreter-constraint``: with one, pex also
    resolves for the build machine's own interpreter, which fails for a foreign architecture.
    """
    pex = Path(sys.executable).parent / "pex"
    if not pex.exists():
        raise BuildError(f"{pex}: not found; install the build tool with: pip install pex")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp_output = output.with_name(output.name + ".tmp")
    argv = [str(pex), "--no-pypi", "--find-links", str(project_wheel.parent),
            "--find-links", str(wheelhouse),
            "--constraints", str(root / "requirements" / "constraints.txt"),
            "--pex-root", str(cache_dir / "pex-root"),
            "--python-shebang", "/usr/bin/env python3",
            "--entry-point", "tasseograph.build:zipapp_main",
            "--output-file", str(tmp_output)]
    for name in excluded_requirements(root, wheelhouse):
        argv += ["--exclude", name]
    for path in write_complete_platforms(arch, cache_dir / "platforms"):
        argv += ["--complete-platform", str(path)]
    argv.append(f"tasseograph=={project_version(project_wheel)}")
    _run(argv, f"building {output.name}")
    tmp_output.chmod(0o755)
    tmp_output.replace(output)
    return output


def project_version(project_wheel: Path) -> str:
    """The version in a wheel's file name (tasseograph-0.1.0-py3-none-any.whl → 0.1.0)."""
    return project_wheel.name.split("-")[1]


def resolve_arches(arches: Sequence[str]) -> list[str]:
    """``native`` → this machine's arch; duplicates dropped, order kept; unknown ones refused."""
    resolved = list(dict.fromkeys(native_arch() if a == "native" else a for a in arches))
    for arch in resolved:
        if arch not in ARCHES:
            raise BuildError(f"unknown arch {arch!r}: choose native, {', '.join(ARCHES)}")
    return resolved


def build(arches: Sequence[str], out_dir: Path, flavors: Sequence[str] = ("agent", "collector"),
          root: Path | None = None, cache_dir: Path | None = None,
          log: bool = True) -> list[Path]:
    """Build ``out_dir/<flavour file>-linux-<arch>`` for each arch and flavour."""
    root = root or project_root()
    cache_dir = cache_dir or default_cache_dir()
    resolved = resolve_arches(arches)
    unknown = [name for name in flavors if name not in FLAVORS]
    if unknown:
        raise BuildError(f"unknown flavor {unknown[0]!r}: choose {', '.join(FLAVORS)}")
    started = time.monotonic()
    project_wheel = build_project_wheel(root, cache_dir / "project")
    outputs = []
    for arch in resolved:
        for name in dict.fromkeys(flavors):
            flavor = FLAVORS[name]
            wheelhouse = download_wheels(arch, flavor, root, cache_dir)
            output = build_pex(arch, root, project_wheel, wheelhouse, cache_dir,
                               out_dir / flavor.filename(arch))
            outputs.append(output)
            if log:
                size = output.stat().st_size / 1e6
                print(f"built {output} ({size:.1f} MB, {flavor.name}, "
                      f"CPython {', '.join(PYTHON_VERSIONS)})")
    if log:
        print(f"done in {time.monotonic() - started:.1f} s")
    return outputs


# ---------------------------------------------------------------------------------------------
# run time: the single-file build's entry point

_NOT_BUNDLED_HINT = (
    "tasseograph: this single-file build does not carry the '{module}' module this command "
    "needs. Use the collector build (tasseograph-collector-linux-*) for the collector and "
    "certs, or a full install (pip install tasseograph) for eval and report."
)


def zipapp_main() -> None:
    """Run the CLI; a command needing a left-out dependency fails in one line, exit 1."""
    from tasseograph.cli import main

    try:
        main()
    except ModuleNotFoundError as exc:
        module = (exc.name or "?").split(".")[0]
        if module == "tasseograph":
            raise
        print(_NOT_BUNDLED_HINT.format(module=module), file=sys.stderr)
        raise SystemExit(1) from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tasseograph.build``: the Makefile's ``build`` and ``build-linux``."""
    parser = argparse.ArgumentParser(
        prog="python -m tasseograph.build",
        description="Build single-file executables (pex) of tasseograph for Linux hosts.")
    parser.add_argument("--arch", action="append", choices=["native", *ARCHES], required=True,
                        help="target architecture; repeat for several")
    parser.add_argument("--flavor", action="append", choices=list(FLAVORS), default=None,
                        help="what to build (default: agent and collector); repeat for several")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: dist)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="download cache (default: ~/.cache/tasseograph/build)")
    args = parser.parse_args(argv)
    try:
        root = project_root()
        build(args.arch, args.out or root / "dist", flavors=args.flavor or list(FLAVORS),
              root=root, cache_dir=args.cache_dir)
    except BuildError as exc:
        print(f"tasseograph.build: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
