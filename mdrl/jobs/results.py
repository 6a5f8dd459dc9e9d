"""The per-sample results table of ``mdrl eval``: one parquet file, resumable, batch-durable.

Each finished batch is written as its own small parquet part (written to a temporary name,
then renamed, so a part is either whole or absent) under ``<output>.parts/``; at the end of a
run, and at the start of the next one, the parts are folded into ``<output>`` (again through
a temporary file and a rename). A crash therefore loses at most the batch in flight.

A row is identified by (config_hash, benchmark, problem_id, sample_idx). The config hash
covers everything that changes a sample (model state, template, decoding settings, n,
reward settings, protocol, generations file): rows made under other settings are never
reused, and ``mdrl eval`` refuses to mix them into one run's rows unless told to replace them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

COLUMNS = [
    "run", "model", "step", "benchmark", "domain", "data_source", "problem_id", "sample_idx", "template",
    "prompt_hash", "prompt", "response", "score", "correct", "details", "tokens", "config_hash",
]
KEY = ["config_hash", "benchmark", "problem_id", "sample_idx"]


def stable_hash(obj: Any, length: int = 16) -> str:
    """A short sha256 of ``obj``'s canonical JSON (dict order does not matter)."""
    text = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def text_hash(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


class ResultsTable:
    """The results parquet at ``path`` plus its in-progress parts folder."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.parts = Path(str(self.path) + ".parts")
        self.configs_path = Path(str(self.path) + ".configs.json")

    # -- reading -------------------------------------------------------------------------
    def load(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Every row written so far (main file and parts), duplicates dropped.

        ``columns`` reads only those (plus the key): resuming a large table need not read
        every response back.
        """
        cols = None if columns is None else list(dict.fromkeys([*KEY, *columns]))
        frames = []
        if self.path.is_file():
            frames.append(pd.read_parquet(self.path, columns=cols))
        if self.parts.is_dir():
            frames += [pd.read_parquet(p, columns=cols) for p in sorted(self.parts.glob("part-*.parquet"))]
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in (cols or COLUMNS)})
        df = pd.concat(frames, ignore_index=True)
        return df.drop_duplicates(KEY, keep="first").reset_index(drop=True)

    def done_keys(self, df: pd.DataFrame, config_hash: str, benchmark: str) -> set[tuple[str, int]]:
        """(problem_id, sample_idx) already present for this config and benchmark."""
        sub = df[(df["config_hash"] == config_hash) & (df["benchmark"] == benchmark)]
        return set(zip(sub["problem_id"].astype(str), sub["sample_idx"].astype(int)))

    # -- writing -------------------------------------------------------------------------
    def append(self, rows: list[dict]) -> Path | None:
        """Write one batch of rows durably as a new part; returns its path."""
        if not rows:
            return None
        self.parts.mkdir(parents=True, exist_ok=True)
        existing = sorted(self.parts.glob("part-*.parquet"))
        nxt = int(existing[-1].stem.split("-")[1]) + 1 if existing else 0
        path = self.parts / f"part-{nxt:06d}.parquet"
        tmp = path.with_suffix(".tmp")
        frame(rows).to_parquet(tmp, index=False)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(path)
        return path

    def compact(self) -> pd.DataFrame:
        """Fold the parts into the main file (atomically) and remove them; returns all rows."""
        df = self.load()
        if self.parts.is_dir() or not self.path.is_file():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            df.to_parquet(tmp, index=False)
            tmp.replace(self.path)
            if self.parts.is_dir():
                for p in self.parts.glob("part-*"):
                    p.unlink()
                self.parts.rmdir()
        return df

    def drop(self, mask_fn) -> int:
        """Remove rows where ``mask_fn(df)`` is True (used by overwrite=true); returns how many."""
        df = self.load()
        mask = mask_fn(df)
        kept = df[~mask]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        kept.to_parquet(tmp, index=False)
        tmp.replace(self.path)
        if self.parts.is_dir():
            for p in self.parts.glob("part-*"):
                p.unlink()
            self.parts.rmdir()
        return int(mask.sum())

    # -- the settings behind each config hash --------------------------------------------
    def configs(self) -> dict[str, dict]:
        if self.configs_path.is_file():
            return json.loads(self.configs_path.read_text())
        return {}

    def record_config(self, config_hash: str, settings: Mapping) -> None:
        known = self.configs()
        if config_hash in known:
            return
        known[config_hash] = dict(settings)
        self.configs_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.configs_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(known, indent=2, sort_keys=True, default=str))
        tmp.replace(self.configs_path)


def _dtype(col: str) -> str:
    return {"step": "int64", "sample_idx": "int64", "score": "float64", "correct": "bool", "tokens": "int64"}.get(col, "object")


def frame(rows: Iterable[Mapping]) -> pd.DataFrame:
    """Rows as a DataFrame with the table's columns and types (details as JSON text)."""
    df = pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows], columns=COLUMNS)
    df["details"] = [d if isinstance(d, str) else json.dumps(d, default=str, ensure_ascii=False) for d in df["details"]]
    for c in COLUMNS:
        df[c] = df[c].astype(_dtype(c))
    return df


def changed_settings(old: Mapping, new: Mapping, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two settings dicts."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += changed_settings(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}")
    return out
