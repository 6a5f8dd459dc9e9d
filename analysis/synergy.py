"""Synergy: does training on several domains at once beat training on each alone?

For each combined run (two or more study domains) and benchmark, the gain is the combined
run's accuracy minus the best of its single-domain runs' accuracies on that benchmark
(``vs_best``) and minus their mean (``vs_mean``). Both come with a bootstrap CI over
problems that resamples every run on the same problems. ``verdict`` reads the vs_best CI:
above zero = synergy (better than every specialist), below zero = conflict (worse than the
best specialist), else no clear difference at this number of problems.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .load import ordered_benchmarks
from .passk import bootstrap_ci
from .transfer import accuracy_per_problem, training_domains

COLUMNS = ["combined", "singles", "benchmark", "combined_acc", "best_single", "best_single_acc", "vs_best", "vs_best_ci_low",
           "vs_best_ci_high", "vs_mean", "vs_mean_ci_low", "vs_mean_ci_high", "verdict", "n_problems"]


def synergy_table(counts: pd.DataFrame, given: Mapping[str, Sequence[str]] | None = None, n_boot: int = 1000,
                  confidence: float = 0.95, seed: int = 0) -> pd.DataFrame:
    """One row per (combined run, benchmark); empty when no combined run has all its singles."""
    acc = accuracy_per_problem(counts)
    systems = sorted(acc["system"].unique())
    doms = {s: training_domains(s, given) for s in systems}
    single_of = {d[0]: s for s, d in doms.items() if len(d) == 1}
    rows = []
    for combo in (s for s in systems if len(doms[s]) >= 2):
        singles = [single_of.get(d) for d in doms[combo]]
        if None in singles:
            continue
        for bench in ordered_benchmarks(acc[acc["system"] == combo]["benchmark"]):
            wide = acc[(acc["benchmark"] == bench) & acc["system"].isin([combo, *singles])].pivot(index="problem_id", columns="system", values="acc")
            wide = wide.dropna()
            if wide.empty or set(singles) - set(wide.columns):
                continue
            v = wide[[combo, *singles]].to_numpy()
            best = lambda m: m[..., 0] - m[..., 1:].max(axis=-1)  # noqa: E731
            mean = lambda m: m[..., 0] - m[..., 1:].mean(axis=-1)  # noqa: E731
            b, blo, bhi = bootstrap_ci(v, stat=best, n_boot=n_boot, confidence=confidence, seed=seed)
            m, mlo, mhi = bootstrap_ci(v, stat=mean, n_boot=n_boot, confidence=confidence, seed=seed)
            means = v.mean(axis=0)
            verdict = "synergy" if blo > 0 else "conflict" if bhi < 0 else "no clear difference"
            rows.append({"combined": combo, "singles": "+".join(singles), "benchmark": bench, "combined_acc": means[0],
                         "best_single": singles[int(np.argmax(means[1:]))], "best_single_acc": float(means[1:].max()),
                         "vs_best": float(b), "vs_best_ci_low": float(blo), "vs_best_ci_high": float(bhi), "vs_mean": float(m),
                         "vs_mean_ci_low": float(mlo), "vs_mean_ci_high": float(mhi), "verdict": verdict, "n_problems": len(v)})
    return pd.DataFrame(rows, columns=COLUMNS)
