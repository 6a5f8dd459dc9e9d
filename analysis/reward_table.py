"""Reward design (arXiv 2507.17512, per-dataset reward study): score of each reward scheme on
each benchmark, for the runs of one training mixture.

Input: a results table with one row per (run, benchmark) or per sample, with the run's reward
scheme in a ``reward`` column (or given as a ``{run: scheme}`` mapping) and optionally its
``mixture``. Output: a scheme x benchmark table with an ``average`` column (benchmarks
weighted equally), one table per mixture when several are present.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from mdrl.analysis.load import label_runs, require_columns
from mdrl.errors import UserError

SCHEME_ORDER = ("binary", "proportional", "format", "paper")


def reward_table(results: pd.DataFrame, runs: Mapping[str, str] | None = None, mixture: str | None = None, score: str = "score") -> pd.DataFrame:
    """Scheme (rows) x benchmark (columns) mean ``score`` plus the benchmarks' average.

    With a ``mixture`` column the rows are (mixture, scheme) unless ``mixture`` picks one.
    """
    df = label_runs(results, "reward", runs, "reward scheme")
    require_columns(df, "benchmark", score)
    if mixture is not None:
        if "mixture" not in df.columns or not (df["mixture"] == mixture).any():
            raise UserError(f"no results for mixture {mixture!r}")
        df = df[df["mixture"] == mixture]
    keys = ["mixture", "reward"] if "mixture" in df.columns and mixture is None else ["reward"]
    table = df.groupby([*keys, "benchmark"])[score].mean().unstack("benchmark")
    table["average"] = table.mean(axis=1)
    order = {s: i for i, s in enumerate(SCHEME_ORDER)}
    table = table.sort_index(key=lambda idx: idx.map(lambda s: (order.get(s, len(order)), s)) if idx.name == "reward" else idx)
    return table


def best_scheme(table: pd.DataFrame) -> pd.Series:
    """The scheme with the highest score per benchmark column (and for the average)."""
    flat = table.copy()
    if isinstance(flat.index, pd.MultiIndex):
        raise UserError("pick one mixture first (reward_table(..., mixture=name))")
    return flat.idxmax(axis=0)
