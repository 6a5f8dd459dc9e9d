"""Unbiased pass@k, mean@n and bootstrap confidence intervals over problems.

pass@k of one problem with n samples of which c are correct is the unbiased estimator
1 - C(n-c, k) / C(n, k) (Chen et al. 2021, used by arXiv 2504.13837). veRL's validation
best@N is a different, biased number (PITFALLS.md), so mdrl always uses this one.

The ratio C(n-c, k) / C(n, k) equals prod_{i=n-c+1}^{n} (1 - k/i): no factorials, and in
log space a sum of c small terms log1p(-k/i). All problems are handled at once with
``np.add.reduceat`` over one table of those terms (no Python loop per problem), which
sums each problem's own terms directly, so nothing large cancels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

from mdrl.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_KS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def pass_at_k(n: Sequence[int] | np.ndarray, c: Sequence[int] | np.ndarray, k: int) -> np.ndarray:
    """Per-problem unbiased pass@k for sample counts ``n`` and correct counts ``c``.

    Refuses k > n for any problem: the estimator needs at least k samples.
    """
    n_arr = np.asarray(n, dtype=np.int64).ravel()
    c_arr = np.asarray(c, dtype=np.int64).ravel()
    if n_arr.shape != c_arr.shape:
        raise UserError(f"pass@k needs one correct count per problem, got {c_arr.size} counts for {n_arr.size} problems")
    k = int(k)
    if k < 1:
        raise UserError(f"k must be at least 1, not {k}")
    if n_arr.size == 0:
        return np.zeros(0)
    if (c_arr < 0).any() or (c_arr > n_arr).any():
        raise UserError("a problem has more correct samples than samples (or a negative count)")
    if k > n_arr.min():
        raise UserError(f"pass@{k} needs at least {k} samples per problem, but a problem has only {n_arr.min()} (lower k or sample more)")
    top = int(n_arr.max())
    i = np.arange(top + 2, dtype=np.float64)
    # terms[i] = log(1 - k/i) for i > k; never read for i <= k (see the mask below)
    terms = np.zeros(top + 2)
    terms[k + 1 : top + 1] = np.log1p(-k / i[k + 1 : top + 1])
    fail = n_arr - c_arr
    # each problem sums terms[fail+1 .. n]; reduceat takes interleaved [start, stop) pairs
    bounds = np.empty(2 * n_arr.size, dtype=np.int64)
    bounds[0::2], bounds[1::2] = fail + 1, n_arr + 1
    sums = np.add.reduceat(terms, bounds)[0::2]
    ratio = np.where(c_arr == 0, 1.0, np.exp(sums))
    # fewer failures than k: every k-subset holds a correct sample
    ratio = np.where(fail < k, 0.0, ratio)
    return 1.0 - ratio


def pass_at_ks(n: np.ndarray, c: np.ndarray, ks: Iterable[int]) -> np.ndarray:
    """Per-problem pass@k for each k: shape (problems, len(ks))."""
    ks = list(ks)
    return np.stack([pass_at_k(n, c, k) for k in ks], axis=1) if ks else np.zeros((len(np.asarray(n)), 0))


def resample_weights(n_problems: int, n_boot: int, seed: int = 0) -> np.ndarray:
    """Bootstrap weights over problems: (n_boot, n_problems) counts, each row summing to n_problems."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_problems, np.full(n_problems, 1.0 / n_problems), size=n_boot).astype(np.float64)


def bootstrap_means(values: np.ndarray, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """Means of the columns of ``values`` (problems x stats) over bootstrap resamples of problems.

    Returns (n_boot, stats). Resampling rows jointly keeps paired statistics paired
    (a run and its baseline on the same problems).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    w = resample_weights(v.shape[0], n_boot, seed)
    return w @ v / v.shape[0]


def bootstrap_ci(
    values: np.ndarray,
    stat: Callable[[np.ndarray], np.ndarray] | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point estimate and percentile-bootstrap interval over problems.

    ``values`` is (problems,) or (problems, columns); ``stat`` maps column means (..., columns)
    to the statistic (default: the means themselves), so deltas and maxima of means work too.
    Returns (estimate, low, high).
    """
    if not 0 < confidence < 1:
        raise UserError(f"confidence must be between 0 and 1, not {confidence}")
    v = np.asarray(values, dtype=np.float64)
    squeeze = v.ndim == 1
    if squeeze:
        v = v[:, None]
    if v.shape[0] == 0:
        raise UserError("cannot bootstrap over zero problems")
    fn = stat or (lambda m: m)
    est = np.asarray(fn(v.mean(axis=0)[None, :]))[0]
    boot = np.asarray(fn(bootstrap_means(v, n_boot, seed)))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha], axis=0)
    if squeeze and stat is None:
        return est[0], low[0], high[0]
    return est, low, high


def mean_at_n(scores_per_problem: np.ndarray) -> float:
    """mean@n: the mean over problems of each problem's mean sample score."""
    return float(np.mean(scores_per_problem)) if len(scores_per_problem) else float("nan")


def pass_at_k_table(
    counts: "pd.DataFrame",
    ks: Iterable[int] = DEFAULT_KS,
    keys: Sequence[str] = ("system", "benchmark"),
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> "pd.DataFrame":
    """pass@k with bootstrap CIs per group of ``keys``, from per-problem counts (n, c, mean_score).

    One row per (group, k) with columns keys..., k, pass_at_k, ci_low, ci_high, mean_at_n,
    n_problems, n_samples (min per problem). A k above a group's smallest n is skipped for
    that group (and listed in the frame's ``attrs['skipped']``) rather than guessed.
    """
    import pandas as pd

    ks = sorted({int(k) for k in ks})
    rows, skipped = [], []
    for group, sub in counts.groupby(list(keys), sort=True, observed=True):
        group = group if isinstance(group, tuple) else (group,)
        n, c = sub["n"].to_numpy(), sub["c"].to_numpy()
        usable = [k for k in ks if k <= n.min()]
        skipped += [(*group, k) for k in ks if k > n.min()]
        if not usable:
            continue
        per = pass_at_ks(n, c, usable)
        est, low, high = bootstrap_ci(per, n_boot=n_boot, confidence=confidence, seed=seed)
        mean_n = mean_at_n(sub["mean_score"].to_numpy())
        for j, k in enumerate(usable):
            rows.append({**dict(zip(keys, group)), "k": k, "pass_at_k": est[j], "ci_low": low[j], "ci_high": high[j],
                         "mean_at_n": mean_n, "n_problems": len(sub), "n_samples": int(n.min())})
    out = pd.DataFrame(rows, columns=[*keys, "k", "pass_at_k", "ci_low", "ci_high", "mean_at_n", "n_problems", "n_samples"])
    out.attrs["skipped"] = skipped
    return out


def crossover_k(table: "pd.DataFrame", baseline: str, system_col: str = "system") -> "pd.DataFrame":
    """Per (system, benchmark): the smallest k at which the baseline's pass@k catches up.

    ``table`` is :func:`pass_at_k_table` output. ``crossover_k`` is NaN when the baseline
    never reaches the system within the ks evaluated (or starts at or above it at the first k,
    reported as ``baseline_ahead_from_start``).
    """
    import pandas as pd

    base = table[table[system_col] == baseline].set_index(["benchmark", "k"])["pass_at_k"]
    rows = []
    for (system, bench), sub in table[table[system_col] != baseline].groupby([system_col, "benchmark"]):
        sub = sub.sort_values("k")
        ks = [k for k in sub["k"] if (bench, k) in base.index]
        if not ks:
            continue
        mine = sub.set_index("k").loc[ks, "pass_at_k"].to_numpy()
        theirs = np.array([base[(bench, k)] for k in ks])
        caught = np.nonzero(theirs >= mine)[0]
        rows.append({system_col: system, "benchmark": bench, "baseline": baseline,
                     "crossover_k": float(ks[caught[0]]) if len(caught) and caught[0] > 0 else float("nan"),
                     "baseline_ahead_from_start": bool(len(caught) and caught[0] == 0),
                     "gap_at_k1": float(mine[0] - theirs[0]), "gap_at_max_k": float(mine[-1] - theirs[-1]), "max_k": int(ks[-1])})
    return pd.DataFrame(rows, columns=[system_col, "benchmark", "baseline", "crossover_k", "baseline_ahead_from_start", "gap_at_k1", "gap_at_max_k", "max_k"])
