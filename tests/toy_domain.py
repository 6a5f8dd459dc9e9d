"""A whole domain in one file: what adding a sixth domain to mdrl takes (see mdrl.domains).

"toyadd" asks for the sum of two numbers of ``digits`` digits. It has a loader (JSONL of
{"a", "b"}), a generator whose difficulty knob is ``digits``, a verifier, its wording in
English, a difficulty rule and a gold answer. Loaded as a plugin: ``MDRL_PLUGINS=tests.toy_domain``.
"""

from __future__ import annotations

import json
import random
from typing import Any, Mapping

from mdrl.domains.base import Domain, Knob, Row, Verdict, Wording, register
from mdrl.domains.row_io import read_records, verl_row

NAME = "toyadd"


def _row(a: int, b: int, split: str, index: int) -> Row:
    question = f"What is {a} + {b}?"
    digits = max(len(str(a)), len(str(b)))
    return verl_row(NAME, question, str(a + b), "math", split, index, a=a, b=b, digits=digits)


def load(path: str | None, split: str = "train") -> list[Row]:
    """Rows of a JSONL file of {"a": int, "b": int}."""
    if path is None:
        raise ValueError("the toyadd loader needs a file")
    return [_row(int(r["a"]), int(r["b"]), split, i) for i, r in enumerate(read_records(path))]


def generate(n: int = 64, seed: int = 0, split: str = "train", digits: int | None = None) -> list[Row]:
    """``n`` sums of two ``digits``-digit numbers (1 to 3 digits, drawn per row, when not given)."""
    rng = random.Random(f"{seed}-{split}")
    rows = []
    for i in range(int(n)):
        d = int(digits) if digits else rng.randint(1, 3)
        lo, hi = (0 if d == 1 else 10 ** (d - 1)), 10**d - 1
        rows.append(_row(rng.randint(lo, hi), rng.randint(lo, hi), split, i))
    return rows


def verify(answer: str, ground_truth: Any, extra_info: Mapping | None = None, **_: Any) -> Verdict:
    """Correct when the answer is the sum as a whole number."""
    try:
        value = int(str(answer).strip())
    except ValueError:
        return Verdict.wrong("not a whole number", answer=answer)
    gt = json.loads(ground_truth) if isinstance(ground_truth, str) and ground_truth.startswith("{") else ground_truth
    return Verdict.right() if value == int(gt) else Verdict.wrong("wrong sum", answer=value)


def difficulty(row: Row) -> float:
    """Digits of the larger addend."""
    return float((row.get("extra_info") or {}).get("digits") or 0)


def gold(row: Row) -> str | None:
    """The sum itself."""
    gt = (row.get("reward_model") or {}).get("ground_truth")
    return str(gt) if gt is not None else None


DOMAIN = register(
    Domain(
        name=NAME,
        data_sources=(NAME, "toy_sum"),
        verify=verify,
        wording={"en": Wording(task="an addition problem", instruction="state the sum within <answer> </answer> tags.")},
        difficulty=difficulty,
        gold=gold,
        timeout_s=2.0,
        loaders={NAME: load},
        generate=generate,
        knob=Knob("digits", 1, 3),
    )
)
