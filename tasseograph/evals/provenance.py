"""Where a number came from: the code's git commit and the prompt template's hash."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git_commit(cwd: Path | None = None) -> str | None:
    """HEAD of the checkout the run came from, ``+dirty`` when it has uncommitted changes."""
    where = cwd or Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=where, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if dirty else head or None


def prompt_hash(prompt_version: str) -> str:
    """The template hash from ``NAME@VERSION#hash8``; empty when the backend reports none."""
    return prompt_version.partition("#")[2]
