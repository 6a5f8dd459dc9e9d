"""Coverage and solved-set overlap (arXiv 2504.13837's "does RL solve new problems?").

Coverage is the share of problems that any sample solves (pass@n). The overlap of two
systems on a benchmark splits problems into solved by both, only one, or neither; a RL
model that only sharpens its base model's distribution solves few problems the base cannot.
"""

from __future__ import annotations

import itertools

import pandas as pd


def coverage(counts: pd.DataFrame) -> pd.DataFrame:
    """Per (system, benchmark): problems, samples per problem, solved-by-any share."""
    g = counts.assign(solved=counts["c"] > 0).groupby(["system", "benchmark"])
    return g.agg(n_problems=("problem_id", "size"), samples=("n", "min"), coverage=("solved", "mean")).reset_index()


def solved_overlap(counts: pd.DataFrame, pairs: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Per benchmark and pair of systems: both / only_a / only_b / neither counts and Jaccard."""
    solved = counts.assign(solved=counts["c"] > 0).pivot_table(index=["benchmark", "problem_id"], columns="system", values="solved", aggfunc="max")
    systems = list(solved.columns)
    pairs = pairs or list(itertools.combinations(systems, 2))
    rows = []
    for bench, sub in solved.groupby(level="benchmark"):
        for a, b in pairs:
            both_known = sub[[a, b]].dropna()
            if both_known.empty:
                continue
            x, y = both_known[a].astype(bool), both_known[b].astype(bool)
            union = int((x | y).sum())
            rows.append({"benchmark": bench, "system_a": a, "system_b": b, "n_problems": len(both_known), "both": int((x & y).sum()),
                         "only_a": int((x & ~y).sum()), "only_b": int((~x & y).sum()), "neither": int((~x & ~y).sum()),
                         "jaccard": (int((x & y).sum()) / union) if union else float("nan")})
    return pd.DataFrame(rows, columns=["benchmark", "system_a", "system_b", "n_problems", "both", "only_a", "only_b", "neither", "jaccard"])


def accuracy_histogram(counts: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Per (system, benchmark): how many problems fall in each per-problem accuracy bin."""
    edges = [i / bins for i in range(bins + 1)]
    acc = counts["c"] / counts["n"]
    labelled = counts.assign(bin=pd.cut(acc, edges, include_lowest=True, right=True))
    out = labelled.groupby(["system", "benchmark", "bin"], observed=False).size().rename("problems").reset_index()
    out["bin"] = out["bin"].astype(str)
    return out
