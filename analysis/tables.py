"""Markdown and LaTeX renderings of the analysis tables, plus the paper's published numbers.

Every table is written three ways beside each other: CSV (for code), Markdown (for notes
and issues) and LaTeX (booktabs, for papers).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from .load import DOMAIN_ORDER, benchmark_domain, ordered_benchmarks

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def write_table(df: pd.DataFrame, stem: str | Path, digits: int = 3, index: bool = False) -> list[Path]:
    """Write ``stem``.csv, .md and .tex; returns the paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".csv"), stem.with_suffix(".md"), stem.with_suffix(".tex")]
    df.to_csv(paths[0], index=index)
    paths[1].write_text(df.to_markdown(index=index, floatfmt=f".{digits}f") + "\n")
    paths[2].write_text(df.to_latex(index=index, float_format=lambda x: f"{x:.{digits}f}", na_rep="", escape=True))
    return paths


def _cell(acc: float, delta: float | None, lo: float | None, hi: float | None) -> str:
    if acc is None or (isinstance(acc, float) and math.isnan(acc)):
        return ""
    text = f"{100 * acc:.1f}"
    if delta is not None and not (isinstance(delta, float) and math.isnan(delta)):
        star = "*" if (lo > 0 or hi < 0) else ""
        text += f" ({100 * delta:+.1f}{star} [{100 * lo:+.1f}, {100 * hi:+.1f}])"
    return text


def transfer_display(matrix: pd.DataFrame) -> pd.DataFrame:
    """systems x benchmarks of "accuracy (delta* [CI])" in points; * = CI excludes zero."""
    cells = matrix.assign(cell=[_cell(r.accuracy, r.delta, r.delta_ci_low, r.delta_ci_high) for r in matrix.itertuples()])
    table = cells.pivot(index="system", columns="benchmark", values="cell").fillna("")
    cols = ordered_benchmarks(table.columns)
    table = table[cols]
    table.columns = [f"{c} ({benchmark_domain(c)})" for c in cols]
    return table.reset_index()


# -- the paper's own numbers ---------------------------------------------------------------------
PAPER_COLUMNS = ["math500", "aime24", "countdown", "humaneval", "mbpp", "kk", "zebralogic", "math_avg", "overall_avg"]


def load_paper_numbers(path: str | Path | None = None) -> pd.DataFrame:
    """The published numbers of arXiv 2507.17512 confirmed in shared/PAPER-NOTES.md (fixture CSV)."""
    return pd.read_csv(path or FIXTURES / "paper_published.csv", dtype={"value": float})


def paper_transfer_table(numbers: pd.DataFrame) -> pd.DataFrame:
    """The fixture rendered like mdrl's transfer table: one row per (model, training data), a
    column per benchmark; a delta shows as "+19.60 Δ", an accuracy as "94.29"; cells the
    sources do not give stay empty rather than guessed."""
    def fmt(r) -> str:
        approx = "~" if str(r.get("approx", "")).lower() in ("true", "1", "yes") else ""
        return f"{approx}{r['value']:+.2f} Δ" if r["kind"] == "delta" else f"{approx}{r['value']:.2f}"

    numbers = numbers.assign(cell=[fmt(r) for _, r in numbers.iterrows()], row=numbers["model"].fillna("?") + " / " + numbers["trained_on"])
    table = numbers.pivot_table(index="row", columns="benchmark", values="cell", aggfunc="first")
    table = table.reindex(columns=PAPER_COLUMNS).astype(object).fillna("")
    table.index.name = "model / trained on"
    return table.reset_index()


def domain_table_display(domain_transfer: pd.DataFrame) -> pd.DataFrame:
    """The domain x domain table with readable labels (mean delta in points)."""
    t = domain_transfer.copy()
    t.index = [f"trained on {d}" for d in t.index]
    t.columns = [f"{c} benchmarks (Δ pts)" for c in t.columns]
    return t.reset_index(names="run")


__all__ = ["write_table", "transfer_display", "load_paper_numbers", "paper_transfer_table", "domain_table_display", "DOMAIN_ORDER"]
