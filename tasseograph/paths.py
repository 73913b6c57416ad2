"""Where tasseograph keeps per-user files (eval cache, demo runs): ``$TASSEOGRAPH_HOME``.

Unset, it is ``$XDG_DATA_HOME/tasseograph`` (``~/.local/share/tasseograph``). Tests point it
at a tmpdir, so no test writes into the developer's home.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    explicit = os.environ.get("TASSEOGRAPH_HOME")
    if explicit:
        return Path(explicit)
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "tasseograph"
