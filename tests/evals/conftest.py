"""Fixtures of the eval-harness tests (builders live in helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.evals.helpers import MINI


@pytest.fixture
def mini() -> Path:
    """8 hand-checked cases: the rules backend gets 6 right, 1 false positive, 1 critical miss."""
    return MINI
