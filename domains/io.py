"""Reading local data files and (thinly) Hugging Face datasets into plain dict records."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any, Iterable


class DataFileError(ValueError):
    """A data file is missing or unreadable; the message is one sentence for the user."""


def read_records(path: str | os.PathLike) -> list[dict]:
    """Records of a .parquet, .jsonl(.gz) or .json(.gz) file, as plain Python dicts.

    Nested numpy arrays from parquet become lists so ground truths compare and serialise
    the same whichever format they came from.
    """
    p = Path(path)
    if not p.is_file():
        raise DataFileError(f"data file not found: {p}")
    name = p.name.lower()
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return [_plain(r) for r in pq.read_table(p).to_pylist()]
        opener = gzip.open if name.endswith(".gz") else open
        with opener(p, "rt", encoding="utf-8") as fh:
            if name.endswith((".jsonl", ".jsonl.gz")):
                return [json.loads(line) for line in fh if line.strip()]
            if name.endswith((".json", ".json.gz")):
                data = json.load(fh)
                return data if isinstance(data, list) else [data]
    except DataFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse error becomes one clear sentence
        raise DataFileError(f"could not read {p}: {type(exc).__name__}: {exc}") from exc
    raise DataFileError(f"unsupported data file type (want .parquet, .jsonl, .json, optionally .gz): {p}")


def load_hf(dataset_id: str, split: str, **kwargs: Any) -> list[dict]:
    """Records of a Hugging Face dataset; needs network, so kept thin and untested here."""
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover
        raise DataFileError("loading from the Hugging Face hub needs the 'datasets' package") from exc
    try:
        ds = datasets.load_dataset(dataset_id, split=split, **kwargs)
    except Exception as exc:  # pragma: no cover - network
        raise DataFileError(
            f"could not download {dataset_id!r} split {split!r} from the Hugging Face hub "
            f"({type(exc).__name__}); pass a local file with path=... instead"
        ) from exc
    return [_plain(dict(r)) for r in ds]


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return _plain(obj.tolist())
    return obj


def user_text(prompt: Any) -> str:
    """The text of the last user turn of a chat-style prompt (or the prompt itself)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Iterable):
        turns = [t for t in prompt if isinstance(t, dict)]
        users = [t for t in turns if t.get("role") == "user"] or turns
        if users:
            return str(users[-1].get("content", ""))
    return ""


def strip_r1_template(text: str) -> str:
    """The raw question inside an R1-template prompt ("... User: Q Assistant: <think>").

    Used to recover the question from the released files so other templates can wrap it.
    Text with no R1 markers comes back unchanged (stripped).
    """
    start = text.rfind("\nUser:")
    if start < 0:
        start = text.find("User:")
        start = start if start >= 0 else None
    body = text[start:] if start is not None else text
    body = body.split("User:", 1)[1] if body.lstrip().startswith("User:") else body
    end = body.rfind("Assistant:")
    if end >= 0:
        body = body[:end]
    # Qwen-chat-formatted prompts (Logic-RL instruct files)
    if "<|im_start|>user" in body:
        body = body.split("<|im_start|>user", 1)[1].split("<|im_end|>", 1)[0]
    return body.strip()


def verl_row(
    data_source: str,
    question: str,
    ground_truth: Any,
    ability: str,
    split: str,
    index: int,
    prompt: list[dict] | None = None,
    **extra: Any,
) -> dict:
    """A row in veRL's RL dataset layout; ``prompt`` defaults to the bare question."""
    return {
        "data_source": data_source,
        "prompt": prompt if prompt is not None else [{"role": "user", "content": question}],
        "ability": ability,
        "reward_model": {"style": "rule", "ground_truth": ground_truth},
        "extra_info": {"question": question, "split": split, "index": int(index), **extra},
    }


def row_ground_truth(row: dict) -> Any:
    """A row's reward_model.ground_truth, decoded from JSON text when it is JSON."""
    gt = (row.get("reward_model") or {}).get("ground_truth")
    if isinstance(gt, str):
        try:
            return json.loads(gt)
        except ValueError:
            return gt
    return gt
