"""Template consistency (arXiv 2507.17512, "template consistency" study): accuracy of each
training template (rows) evaluated under each evaluation template (columns).

Input: a results table with one row per (run, evaluation template, benchmark) and a score,
as ``mdrl eval`` writes it; the training template comes from a ``train_template`` column or
from a ``{run: train template}`` mapping (a run's config.yaml records its ``template.name``).
Output: the train x test matrix (mean over benchmarks, or one benchmark), its diagonal
(matched templates) and the mismatch cost per training template.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from mdrl.analysis.load import label_runs, require_columns
from mdrl.errors import UserError

# the paper's templates first, then any other name in alphabetical order
TEMPLATE_ORDER = ("released", "r1", "qwen_chat", "none")


def _ordered(names) -> list[str]:
    names = list(dict.fromkeys(str(n) for n in names))
    known = [t for t in TEMPLATE_ORDER if t in names]
    return known + sorted(n for n in names if n not in TEMPLATE_ORDER)


def template_matrix(results: pd.DataFrame, runs: Mapping[str, str] | None = None, benchmark: str | None = None,
                    score: str = "score", test: str = "template") -> pd.DataFrame:
    """Train-template x test-template mean ``score`` (benchmarks averaged with equal weight).

    Each benchmark is first averaged on its own, so a large benchmark does not outweigh a
    small one; ``benchmark`` keeps a single one instead.
    """
    df = label_runs(results, "train_template", runs, "training template")
    require_columns(df, test, "benchmark", score)
    if benchmark is not None:
        df = df[df["benchmark"] == benchmark]
        if df.empty:
            raise UserError(f"no results for benchmark {benchmark!r}")
    per_bench = df.groupby(["train_template", test, "benchmark"])[score].mean()
    matrix = per_bench.groupby(level=["train_template", test]).mean().unstack(test)
    matrix = matrix.reindex(index=_ordered(matrix.index), columns=_ordered(matrix.columns))
    matrix.index.name, matrix.columns.name = "train template", "test template"
    return matrix


def mismatch_cost(matrix: pd.DataFrame) -> pd.Series:
    """Per training template: matched score minus the mean score under the other templates."""
    out = {}
    for t in matrix.index:
        if t not in matrix.columns:
            continue
        others = matrix.loc[t].drop(t).dropna()
        out[t] = matrix.at[t, t] - others.mean() if len(others) else float("nan")
    return pd.Series(out, name="matched minus mismatched")
