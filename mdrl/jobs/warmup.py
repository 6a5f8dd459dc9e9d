"""Well-formed gold responses for a short supervised warm-up before GRPO.

A random tiny model never emits ``<answer>`` by chance, so GRPO would see zero reward and
zero advantage. A brief SFT on gold responses built from the data itself teaches the
format; GRPO then has signal to improve on. Only used by the local TRL backend.
"""

from __future__ import annotations

import itertools
import json
from fractions import Fraction
from typing import Callable

from mdrl.domains.io import row_ground_truth

_GOLD: dict[str, Callable[[dict], str | None]] = {}


def gold(domain: str) -> Callable[[Callable[[dict], str | None]], Callable[[dict], str | None]]:
    def deco(fn: Callable[[dict], str | None]) -> Callable[[dict], str | None]:
        _GOLD[domain] = fn
        return fn

    return deco


_gt = row_ground_truth


def solve_countdown(numbers: list[int], target: int) -> str | None:
    """An expression using every number once that equals ``target``, by exhaustive search."""
    start = [(Fraction(n), str(n)) for n in numbers]

    def search(items: list[tuple[Fraction, str]]) -> str | None:
        if len(items) == 1:
            return items[0][1] if items[0][0] == target else None
        for i, j in itertools.permutations(range(len(items)), 2):
            (a, ea), (b, eb) = items[i], items[j]
            rest = [items[k] for k in range(len(items)) if k not in (i, j)]
            options = [(a + b, f"({ea} + {eb})"), (a - b, f"({ea} - {eb})"), (a * b, f"({ea} * {eb})")]
            if b != 0:
                options.append((a / b, f"({ea} / {eb})"))
            for value, expr in options:
                found = search(rest + [(value, expr)])
                if found:
                    return found
        return None

    found = search(start)
    if found and found.startswith("(") and found.endswith(")"):
        found = found[1:-1] if _balanced(found[1:-1]) else found
    return found


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


@gold("countdown")
def _countdown(row: dict) -> str | None:
    gt = _gt(row)
    nums = gt.get("numbers") or gt.get("nums")
    return solve_countdown([int(n) for n in nums], int(gt["target"]))


@gold("kk")
def _kk(row: dict) -> str | None:
    return _gt(row).get("solution_text_format")


@gold("lpb")
def _lpb(row: dict) -> str | None:
    gt = _gt(row)
    return json.dumps({"solution": gt}) if isinstance(gt, dict) else None


@gold("math")
def _math(row: dict) -> str | None:
    gt = _gt(row)
    return f"\\boxed{{{gt}}}" if isinstance(gt, str) else None


@gold("code")
def _code(row: dict) -> str | None:
    # LeetCode rows carry the dataset's reference solution; TACO/HumanEval rows may not
    ref = (row.get("extra_info") or {}).get("reference")
    return f"```python\n{ref}\n```" if isinstance(ref, str) and ref.strip() else None


def gold_response(domain: str, row: dict) -> str | None:
    """``... </think> <answer>gold</answer>`` for ``row``, or None where no gold is known."""
    fn = _GOLD.get(domain)
    try:
        answer = fn(row) if fn else None
    except Exception:  # noqa: BLE001 - rows without usable gold are skipped
        answer = None
    if not answer:
        return None
    return f" </think> <answer> {answer} </answer>"
