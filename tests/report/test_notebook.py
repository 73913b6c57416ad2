"""The pilot notebook runs top to bottom against a generated database, and is stored stripped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "pilot_analysis.ipynb"


def test_notebook_is_stored_without_outputs() -> None:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code and all(not c["outputs"] and c["execution_count"] is None for c in code)


def test_notebook_executes(two_weeks, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("TASSEOGRAPH_DB", str(two_weeks[0]))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # kernel "python3" with argv "python" resolves to this interpreter (the venv's)
    nbclient.NotebookClient(notebook, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(ROOT)}}).execute()
    text = "\n".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                     for o in c.outputs)
    assert "2026-W06" in text and "# Tasseograph pilot report" in text
    html = "\n".join(o.get("data", {}).get("text/html", "") for c in notebook.cells
                     if c.cell_type == "code" for o in c.outputs)
    assert "flagged_share" in html and "fp_rate" in html
