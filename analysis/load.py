"""Reading per-sample results tables and folding them into per-problem counts.

A results table (written by ``mdrl eval``) has one row per sample: run, model, step,
benchmark, problem_id, sample_idx, score, correct, ... Analysis works per problem: n
samples, c correct, mean score. A "system" is one evaluated model state: a run at one step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from mdrl.errors import UserError

REQUIRED = ("run", "benchmark", "problem_id", "sample_idx", "score")
DOMAIN_OF_BENCHMARK = {
    "math500": "math", "aime24": "math", "countdown": "math", "countdown3": "math",
    "humaneval": "code", "mbpp": "code", "coder1": "code", "leetcode": "code",  # leetcode: coder1's old benchmark name
    "kk": "puzzle", "lpb": "puzzle", "zebralogic": "puzzle",
}
DOMAIN_ORDER = ("math", "code", "puzzle")


def read_results(paths: Iterable[str | Path] | str) -> pd.DataFrame:
    """One DataFrame from one or more results parquet files (comma-separated string allowed)."""
    if isinstance(paths, (str, Path)):
        paths = [p for p in str(paths).split(",") if p.strip()]
    frames = []
    for p in paths:
        path = Path(str(p).strip()).expanduser()
        parts = Path(str(path) + ".parts")
        if parts.is_dir():
            # an eval still running (or interrupted): its finished batches count too
            from mdrl.jobs.results import ResultsTable

            frames.append(ResultsTable(path).load())
            continue
        if not path.is_file():
            raise UserError(f"results file not found: {path}")
        frames.append(pd.read_parquet(path))
    if not frames:
        raise UserError("no results files given (pass results=FILE.parquet[,FILE2...])")
    df = pd.concat(frames, ignore_index=True)
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise UserError(f"results table lacks column(s) {', '.join(missing)}; is it an mdrl eval results file?")
    return normalise(df)


def normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Fill optional columns (step, correct, model) and add the ``system`` label."""
    df = df.copy()
    if "step" not in df.columns:
        df["step"] = -1
    df["step"] = df["step"].fillna(-1).astype(int)
    if "correct" not in df.columns:
        df["correct"] = df["score"] >= 1.0
    df["correct"] = df["correct"].astype(bool)
    if "model" not in df.columns:
        df["model"] = df["run"]
    df["problem_id"] = df["problem_id"].astype(str)
    df["system"] = system_labels(df)
    return df


def system_labels(df: pd.DataFrame) -> pd.Series:
    """``run`` where a run was evaluated at one step, else ``run@step``."""
    steps = df.groupby("run")["step"].transform("nunique")
    return df["run"].where(steps <= 1, df["run"] + "@" + df["step"].astype(str))


def latest_step(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of each run's last evaluated step only (the final model of a training run)."""
    last = df.groupby("run")["step"].transform("max")
    out = df[df["step"] == last].copy()
    out["system"] = out["run"]
    return out


def per_problem(df: pd.DataFrame, keys: tuple[str, ...] = ("system", "benchmark")) -> pd.DataFrame:
    """n, c and mean score per (keys..., problem_id); duplicated samples are counted once."""
    cols = list(keys) + ["problem_id"]
    dedup = df.drop_duplicates(cols + ["sample_idx"], keep="last")
    g = dedup.groupby(cols, sort=True, observed=True)
    out = g.agg(n=("sample_idx", "size"), c=("correct", "sum"), mean_score=("score", "mean")).reset_index()
    out["c"] = out["c"].astype(np.int64)
    return out


def label_runs(results: pd.DataFrame, column: str, runs: Mapping[str, str] | None, what: str) -> pd.DataFrame:
    """A copy of ``results`` with ``column`` filled from a ``{run: label}`` mapping.

    Tables that already carry ``column`` are returned as they are; ``what`` names the label
    in the one-sentence error ("reward scheme", "training template").
    """
    df = results.copy()
    if column in df.columns:
        return df
    if runs is None or "run" not in df.columns:
        raise UserError(f"results need a {column} column, or a run column and a {{run: {what}}} mapping")
    missing = sorted(set(df["run"]) - set(runs))
    if missing:
        raise UserError(f"no {what} given for run(s) {missing}")
    df[column] = df["run"].map(runs)
    return df


def require_columns(df: pd.DataFrame, *columns: str) -> None:
    """One sentence naming the first column ``df`` lacks."""
    for col in columns:
        if col not in df.columns:
            raise UserError(f"results lack the column {col!r} (have {', '.join(map(str, df.columns))})")


def benchmark_domain(name: str) -> str:
    """The study domain (math, code, puzzle) a benchmark belongs to; 'other' if unknown."""
    return DOMAIN_OF_BENCHMARK.get(str(name).lower(), "other")


def ordered_benchmarks(names: Iterable[str]) -> list[str]:
    """Benchmarks grouped by study domain (math, code, puzzle, other), then by name."""
    names = sorted(set(map(str, names)))
    rank = {d: i for i, d in enumerate(DOMAIN_ORDER)}
    return sorted(names, key=lambda b: (rank.get(benchmark_domain(b), len(rank)), b))
