"""The unbiased pass@k estimator against direct combinatorics, and bootstrap coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mdrl.analysis.passk import bootstrap_ci, pass_at_k, pass_at_ks
from mdrl.errors import UserError


def direct(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def test_matches_direct_combinatorics_for_every_small_case():
    ns, cs = [], []
    for n in range(1, 31):
        for c in range(0, n + 1):
            ns.append(n)
            cs.append(c)
    ns, cs = np.array(ns), np.array(cs)
    for k in range(1, 31):
        ok = ns >= k
        got = pass_at_k(ns[ok], cs[ok], k)
        want = np.array([direct(int(n), int(c), k) for n, c in zip(ns[ok], cs[ok])])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_large_n_stays_accurate_and_in_range():
    # n = 1024: C(n, k) overflows floats for large k; the product form must not
    rng = np.random.default_rng(1)
    n = np.full(200, 1024)
    c = rng.integers(0, 1025, size=200)
    for k in (1, 16, 256, 1024):
        got = pass_at_k(n, c, k)
        assert np.all((got >= 0) & (got <= 1))
        for i in range(0, 200, 37):
            assert got[i] == pytest.approx(direct(1024, int(c[i]), k), abs=1e-11)


def test_edge_cases_c_zero_c_n_and_k_equal_n():
    assert pass_at_k([10], [0], 3)[0] == 0.0
    assert pass_at_k([10], [10], 3)[0] == 1.0
    # k = n: solved iff any sample is correct
    np.testing.assert_array_equal(pass_at_k([5, 5, 5], [0, 1, 5], 5), [0.0, 1.0, 1.0])
    # pass@1 is the plain fraction correct
    np.testing.assert_allclose(pass_at_k([4, 8], [1, 6], 1), [0.25, 0.75], atol=1e-15)


def test_k_larger_than_n_is_refused_in_one_sentence():
    with pytest.raises(UserError, match=r"pass@8 needs at least 8 samples per problem, but a problem has only 4"):
        pass_at_k([16, 4], [1, 1], 8)
    with pytest.raises(UserError, match="more correct samples than samples"):
        pass_at_k([4], [5], 1)
    with pytest.raises(UserError, match="at least 1"):
        pass_at_k([4], [1], 0)


def test_pass_at_ks_is_monotone_in_k():
    rng = np.random.default_rng(0)
    n = np.full(50, 64)
    c = rng.integers(0, 65, size=50)
    table = pass_at_ks(n, c, [1, 2, 4, 8, 16, 32, 64])
    assert table.shape == (50, 7)
    assert np.all(np.diff(table, axis=1) >= -1e-15)


def _coverage(k: int, confidence: float, reps: int, problems: int, n: int, a: float, b: float) -> float:
    """Share of synthetic studies whose bootstrap CI covers the population pass@k.

    Per-problem success rates p ~ Beta(a, b); the population pass@k is
    E[1 - (1-p)^k] = 1 - B(a, b+k) / B(a, b).
    """
    lbeta = lambda x, y: math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)  # noqa: E731
    truth = 1 - math.exp(lbeta(a, b + k) - lbeta(a, b))
    rng = np.random.default_rng(1234)
    hits = 0
    for r in range(reps):
        p = rng.beta(a, b, size=problems)
        c = rng.binomial(n, p)
        vals = pass_at_k(np.full(problems, n), c, k)
        _, lo, hi = bootstrap_ci(vals, n_boot=400, confidence=confidence, seed=r)
        hits += lo <= truth <= hi
    return hits / reps


@pytest.mark.parametrize("k", [1, 8])
def test_bootstrap_interval_covers_the_population_value_at_its_nominal_rate(k):
    reps, conf = 300, 0.90
    cov = _coverage(k, conf, reps=reps, problems=120, n=16, a=0.6, b=1.4)
    # 4 binomial standard deviations of a coverage estimate from `reps` studies, plus the
    # percentile bootstrap's known small-sample undercoverage (about 1 point at 120 problems)
    sd = math.sqrt(conf * (1 - conf) / reps)
    assert abs(cov - conf) <= 4 * sd + 0.01, cov


def test_bootstrap_of_a_paired_delta_and_a_statistic_of_means():
    rng = np.random.default_rng(3)
    base = rng.random(400)
    run = base + 0.1  # the same problems, shifted: the paired delta has almost no spread
    est, lo, hi = bootstrap_ci(np.stack([run, base], axis=1), stat=lambda m: m[..., 0] - m[..., 1])
    assert est == pytest.approx(0.1) and lo == pytest.approx(0.1) and hi == pytest.approx(0.1)
    with pytest.raises(UserError):
        bootstrap_ci(np.zeros(0))


def test_pass_at_k_table_from_sample_rows_skips_k_beyond_n_and_dedups_samples():
    import pandas as pd

    from mdrl.analysis.load import normalise, per_problem
    from mdrl.analysis.passk import pass_at_k_table

    rows = []
    for pid, correct in (("a", [1, 0, 0, 0]), ("b", [1, 1, 1, 1]), ("c", [0, 0, 0, 0])):
        rows += [{"run": "m", "benchmark": "kk", "problem_id": pid, "sample_idx": i, "score": float(v)} for i, v in enumerate(correct)]
    rows.append(dict(rows[0]))  # a duplicated sample row must not count twice
    counts = per_problem(normalise(pd.DataFrame(rows)))
    assert counts.set_index("problem_id")["n"].to_dict() == {"a": 4, "b": 4, "c": 4}
    table = pass_at_k_table(counts, ks=[1, 2, 8], n_boot=200)
    assert list(table["k"]) == [1, 2]
    assert table.attrs["skipped"] == [("m", "kk", 8)]
    p1, p2 = table["pass_at_k"]
    assert p1 == pytest.approx((0.25 + 1 + 0) / 3)
    assert p2 == pytest.approx((direct(4, 1, 2) + 1 + 0) / 3)
    assert table["mean_at_n"].iloc[0] == pytest.approx(p1)
    assert (table["ci_low"] <= table["pass_at_k"]).all() and (table["pass_at_k"] <= table["ci_high"]).all()
