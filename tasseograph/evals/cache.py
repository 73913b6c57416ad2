"""The eval response cache: re-running a suite costs nothing for answers already paid for.

SQLite at ``$TASSEOGRAPH_HOME/eval-cache.db`` (see :mod:`tasseograph.paths`).
The key is backend + model + the request text (the rendered system and user prompt, so a
template edit, a category change or a different collapse/redact setting is a new key) + the
template identity + the parameters that change a reply (base URL, max_tokens, …) + the repeat
index (so repeats stay independent calls). Only valid verdicts are stored: an error is never
cached, the next run asks again. An unreadable entry counts as a miss.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tasseograph.db import create_private_file
from tasseograph.llm import Analysis
from tasseograph.paths import home

CACHE_FILE = "eval-cache.db"


def default_cache_path() -> Path:
    return home() / CACHE_FILE


def cache_key(*, backend: str, model: str, prompt_version: str, request: Sequence[str],
              parameters: dict[str, Any], repeat: int) -> str:
    """sha256 of everything that determines the reply."""
    material = {"backend": backend, "model": model, "prompt": prompt_version,
                "request": list(request), "parameters": parameters, "repeat": repeat}
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_cache_path()
        create_private_file(self.path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # a cache may lose its last answers in a power cut, never its consistency: no fsync
        # per answer (which would cost more than a fast model's reply)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, analysis TEXT NOT NULL,"
            " created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))"
        )

    def get(self, key: str) -> Analysis | None:
        row = self._db.execute("SELECT analysis FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return Analysis.model_validate_json(row[0])
        except ValidationError:
            return None

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM responses").fetchone()[0]

    def put(self, key: str, analysis: Analysis) -> None:
        self._db.execute("INSERT OR REPLACE INTO responses (key, analysis) VALUES (?, ?)",
                         (key, analysis.model_dump_json()))

    def close(self) -> None:
        self._db.close()
