"""pass@k analysis speed: a million per-sample rows to pass_at_k.csv figures with CIs.

Builds a synthetic results table (systems x benchmarks x problems x samples, about 1M rows),
then times the whole path ``mdrl analyze`` takes: per-problem counts (pandas groupby), the
unbiased pass@k for every k (vectorised), mean@n and bootstrap CIs over problems.

    python benchmarks/passk.py [--rows 1000000] [--samples 256] [--boot 1000] [--out FILE.json]

Prints the timings; writes JSON only to --out (never to a tracked file).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd

from mdrl.analysis.load import normalise, per_problem
from mdrl.analysis.passk import DEFAULT_KS, pass_at_k_table


def synthetic(rows: int, samples: int, seed: int = 0) -> pd.DataFrame:
    """A results table of about ``rows`` rows: 2 systems x 4 benchmarks x P problems x samples."""
    systems, benchmarks = ["base", "rl"], ["math500", "humaneval", "kk", "countdown"]
    problems = max(1, rows // (len(systems) * len(benchmarks) * samples))
    rng = np.random.default_rng(seed)
    shape = (len(systems), len(benchmarks), problems, samples)
    p = rng.beta(0.7, 1.3, size=shape[:3])[..., None]
    correct = rng.random(shape) < p
    idx = np.indices(shape).reshape(4, -1)
    return pd.DataFrame({
        "run": np.array(systems)[idx[0]],
        "benchmark": np.array(benchmarks)[idx[1]],
        "problem_id": idx[2].astype(str),
        "sample_idx": idx[3],
        "score": correct.ravel().astype(float),
        "correct": correct.ravel(),
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--out", default=None, help="write the timings as JSON here (optional)")
    args = ap.parse_args()

    print(f"building a synthetic table of ~{args.rows:,} rows ...", flush=True)
    df = synthetic(args.rows, args.samples)
    t0 = time.perf_counter()
    df = normalise(df)
    t1 = time.perf_counter()
    counts = per_problem(df)
    t2 = time.perf_counter()
    table = pass_at_k_table(counts, DEFAULT_KS, n_boot=args.boot)
    t3 = time.perf_counter()
    result = {
        "rows": len(df), "problems": len(counts), "ks": list(DEFAULT_KS), "bootstrap_resamples": args.boot,
        "normalise_s": round(t1 - t0, 3), "per_problem_s": round(t2 - t1, 3), "pass_at_k_with_ci_s": round(t3 - t2, 3),
        "total_s": round(t3 - t0, 3), "cpus": len(os.sched_getaffinity(0)),
    }
    print(table[table["k"].isin([1, 16, 256])].to_string(index=False))
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=2)


if __name__ == "__main__":
    main()
