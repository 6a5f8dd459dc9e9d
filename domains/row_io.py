"""Reading local data files and (thinly) Hugging Face datasets into plain dict records."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping


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

            return [plain(r) for r in pq.read_table(p).to_pylist()]
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
    return [plain(dict(r)) for r in ds]


def plain(obj: Any) -> Any:
    """``obj`` with numpy arrays and scalars (as parquet gives them) turned into lists and numbers."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy arrays and scalars
        return plain(obj.tolist())
    return obj


def decode_json(value: Any, *, keep_text: bool = False) -> Any:
    """``value`` with JSON text parsed: how ground truths and list-valued extra_info fields are stored.

    Text (``str`` or UTF-8 ``bytes``) is parsed as JSON; text that is not JSON raises
    ValueError, or comes back as it is with ``keep_text``. Other values come back unchanged.
    """
    try:
        if isinstance(value, (bytes, bytearray)):
            value = value.decode("utf-8")
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:  # not JSON (UnicodeDecodeError is a ValueError too)
        if keep_text:
            return value
        raise


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
    return decode_json((row.get("reward_model") or {}).get("ground_truth"), keep_text=True)


def prompt_messages(prompt: Any) -> list[dict]:
    """A stored prompt as a message list: a plain string becomes one user turn, turns are copied."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(m) for m in prompt]


def extra_info_of(record: Mapping) -> dict:
    """A copy of a record's ``extra_info`` mapping; ``{}`` when it has none."""
    info = record.get("extra_info")
    return dict(info) if isinstance(info, Mapping) else {}


def record_index(record: Mapping, default: int, *, top_level: bool = False) -> int:
    """A record's row index: ``extra_info.index`` (then its own ``index`` with ``top_level``), else ``default``.

    Released rows carry their index in extra_info; a missing or non-numeric one falls back
    to ``default`` (the record's position in its file), never to an error.
    """
    info = record.get("extra_info")
    if isinstance(info, Mapping) and "index" in info:
        value = info["index"]
    elif top_level and "index" in record:
        value = record["index"]
    else:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
