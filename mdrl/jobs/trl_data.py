"""Prepared parquet rows as TRL sees them: a ``prompt`` column (plain text for raw
templates, messages for chat templates) plus what mdrl's reward function reads."""

from __future__ import annotations

import json
from typing import Any


def read_rows(parquet: str) -> list[dict]:
    """The rows of a prepared parquet file."""
    import pandas as pd

    return pd.read_parquet(parquet).to_dict("records")


def prompt_of(row: dict) -> Any:
    """The prompt TRL gives the model for ``row``."""
    info = row["extra_info"]
    raw = info.get("raw_prompt")
    # raw templates go to the model as plain text; chat templates as messages for TRL to render
    return raw if raw else [dict(m) for m in row["prompt"]]


def to_dataset(rows: list[dict]):
    """A datasets.Dataset with TRL's prompt column plus what the reward function reads."""
    import datasets

    return datasets.Dataset.from_list(
        [
            {
                "prompt": prompt_of(r),
                "data_source": r["data_source"],
                "ground_truth": r["reward_model"]["ground_truth"],
                "extra_info": json.dumps(r["extra_info"], default=str),
            }
            for r in rows
        ]
    )

