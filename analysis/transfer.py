"""Transfer matrix: each run's accuracy per benchmark and its change against a baseline.

Rows are systems (a training run's final model, or any evaluated model), columns are
benchmarks grouped by study domain (math, code, puzzle). Accuracy is the mean over problems
of each problem's share of correct samples (pass@1 from n samples). The delta against the
baseline is paired by problem (only problems both evaluated), with a percentile bootstrap
CI over problems; ``significant`` says whether that CI excludes zero.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .load import DOMAIN_ORDER, benchmark_domain, ordered_benchmarks
from .passk import bootstrap_ci
from mdrl.errors import UserError

COLUMNS = ["system", "benchmark", "domain", "accuracy", "acc_ci_low", "acc_ci_high", "baseline", "baseline_accuracy",
           "delta", "delta_ci_low", "delta_ci_high", "significant", "n_problems"]


def accuracy_per_problem(counts: pd.DataFrame) -> pd.DataFrame:
    """counts (system, benchmark, problem_id, n, c) -> the same keys with acc = c / n."""
    out = counts[["system", "benchmark", "problem_id"]].copy()
    out["acc"] = counts["c"] / counts["n"]
    return out


def transfer_matrix(counts: pd.DataFrame, baseline: str | None, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """Long table: one row per (system, benchmark) with accuracy, delta vs baseline and CIs."""
    acc = accuracy_per_problem(counts)
    systems = sorted(acc["system"].unique())
    if baseline is not None and baseline not in systems:
        raise UserError(f"baseline {baseline!r} is not in the results (systems: {', '.join(systems)})")
    rows = []
    for (system, bench), sub in acc.groupby(["system", "benchmark"], sort=True):
        est, lo, hi = bootstrap_ci(sub["acc"].to_numpy(), n_boot=n_boot, confidence=confidence, seed=seed)
        row = {"system": system, "benchmark": bench, "domain": benchmark_domain(bench), "accuracy": est, "acc_ci_low": lo,
               "acc_ci_high": hi, "baseline": baseline, "n_problems": len(sub)}
        base = acc[(acc["system"] == baseline) & (acc["benchmark"] == bench)] if baseline else None
        if base is not None and not base.empty:
            pair = sub.merge(base, on="problem_id", suffixes=("", "_base"))
            if len(pair):
                d, dlo, dhi = bootstrap_ci(pair[["acc", "acc_base"]].to_numpy(), stat=lambda m: m[..., 0] - m[..., 1],
                                           n_boot=n_boot, confidence=confidence, seed=seed)
                row.update(baseline_accuracy=float(pair["acc_base"].mean()), delta=float(d), delta_ci_low=float(dlo),
                           delta_ci_high=float(dhi), significant=bool(dlo > 0 or dhi < 0))
        rows.append(row)
    df = pd.DataFrame(rows, columns=COLUMNS)
    order = {b: i for i, b in enumerate(ordered_benchmarks(df["benchmark"]))}
    return df.sort_values(["system", "benchmark"], key=lambda s: s.map(order) if s.name == "benchmark" else s).reset_index(drop=True)


def wide(matrix: pd.DataFrame, value: str = "delta") -> pd.DataFrame:
    """systems x benchmarks (columns grouped by domain) of ``value``."""
    table = matrix.pivot(index="system", columns="benchmark", values=value)
    return table[ordered_benchmarks(table.columns)]


def training_domains(system: str, given: Mapping[str, Sequence[str]] | None = None) -> tuple[str, ...]:
    """The study domains a run was trained on: from ``given`` or the words in its name.

    Mixture names follow the study (math, code, puzzle, math_code, math_code_puzzle ...);
    a name with none of those words (the base model) trains on nothing.
    """
    run = system.split("@")[0]
    if given and run in given:
        return tuple(given[run])
    words = set(re.split(r"[^a-z]+", run.lower()))
    return tuple(d for d in DOMAIN_ORDER if d in words)


def domain_transfer(matrix: pd.DataFrame, given: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
    """The paper's domain x domain table: single-domain runs (rows) by evaluated domain (columns).

    Each cell is the mean delta over that domain's benchmarks (points, i.e. x100).
    """
    m = matrix.dropna(subset=["delta"]).copy()
    m["trained_on"] = m["system"].map(lambda s: "+".join(training_domains(s, given)))
    single = m[m["trained_on"].isin(DOMAIN_ORDER)]
    if single.empty:
        return pd.DataFrame()
    t = single.groupby(["trained_on", "domain"])["delta"].mean().unstack("domain") * 100
    cols = [d for d in DOMAIN_ORDER if d in t.columns] + [c for c in t.columns if c not in DOMAIN_ORDER]
    rows = [d for d in DOMAIN_ORDER if d in t.index]
    return t.loc[rows, cols]


def significant_share(matrix: pd.DataFrame) -> float:
    """Share of (system, benchmark) cells whose delta CI excludes zero."""
    s = matrix["significant"].dropna()
    return float(np.mean(s.astype(bool))) if len(s) else float("nan")
