"""The analysis notebooks run top to bottom on the fixture results table (nbclient)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "analysis" / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_study_walkthrough.ipynb", "02_paper_numbers.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_without_error(path, tmp_path, monkeypatch):
    monkeypatch.setenv("MDRL_NOTEBOOK_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("MDRL_N_BOOT", "200")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on any failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    # every code cell ran and the figures were produced
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    if path.stem.startswith("01"):
        assert (tmp_path / "out" / "transfer_heatmap.png").is_file()
        images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(images) >= 3
    else:
        html = "".join(str(o.get("data", {}).get("text/plain", "")) for c in nb.cells for o in c.get("outputs", []))
        assert "+19.60" in html and "99.14" in html
