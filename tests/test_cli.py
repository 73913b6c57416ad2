"""The command surface: light imports, every command documented, --help lists them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer.main

from tasseograph.cli import app

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["fastapi", "uvicorn", "anthropic", "duckdb", "pandas", "matplotlib", "starlette"]


def _loaded_heavy_modules(code: str) -> list[str]:
    probe = f"""
import json, sys
{code}
print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))
"""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=60, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_help_loads_no_heavy_dependency() -> None:
    code = ("import sys\nsys.argv=['tasseograph','--help']\nfrom tasseograph.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass")
    assert _loaded_heavy_modules(code) == []


def test_agent_import_path_loads_no_heavy_dependency() -> None:
    code = "import tasseograph.cli, tasseograph.agent, tasseograph.config, tasseograph.protocol"
    try:
        import tasseograph.agent.run  # noqa: F401
        code += ", tasseograph.agent.run"
    except ImportError:
        pass
    assert _loaded_heavy_modules(code) == []


def _command_paths() -> list[str]:
    root = typer.main.get_command(app)
    paths: list[str] = []

    def walk(command: object, prefix: str) -> None:
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            for name, sub in command.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            paths.append(prefix)

    walk(root, "")
    return paths


def test_every_command_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [path for path in _command_paths() if f"tasseograph {path}" not in readme]
    assert not missing, f"commands not in README.md: {missing}"


def test_help_lists_every_command() -> None:
    result = subprocess.run([sys.executable, "-m", "tasseograph", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for path in _command_paths():
        assert path.split()[0] in result.stdout


def test_version() -> None:
    result = subprocess.run([sys.executable, "-m", "tasseograph", "--version"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("tasseograph ")
