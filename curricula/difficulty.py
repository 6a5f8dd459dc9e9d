"""A difficulty number per row, from what each domain's data records.

Higher is harder. Rows whose domain records nothing usable get 0, so ordering keeps
them first and stable rather than guessing.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from mdrl.domains.io import row_ground_truth

_RULES: dict[str, Callable[[dict], float]] = {}


def rule(domain: str) -> Callable[[Callable[[dict], float]], Callable[[dict], float]]:
    def deco(fn: Callable[[dict], float]) -> Callable[[dict], float]:
        _RULES[domain] = fn
        return fn

    return deco


_gt = row_ground_truth


@rule("kk")
def _kk(row: dict) -> float:
    gt = _gt(row) or {}
    text = gt.get("solution_text_format", "") if isinstance(gt, dict) else ""
    return float(len(re.findall(r"\bis an? (?:knight|knave)", text, flags=re.I)))


@rule("countdown")
def _countdown(row: dict) -> float:
    gt = _gt(row) or {}
    return float(len(gt.get("numbers") or gt.get("nums") or [])) if isinstance(gt, dict) else 0.0


@rule("lpb")
def _lpb(row: dict) -> float:
    gt = _gt(row)
    if isinstance(gt, dict):
        return float(sum(len(v) for v in gt.values() if isinstance(v, dict)))
    return 0.0


@rule("math")
def _math(row: dict) -> float:
    info = row.get("extra_info") or {}
    level = str(info.get("level", ""))
    m = re.search(r"\d+", level)
    return float(m.group()) if m else 0.0


@rule("code")
def _code(row: dict) -> float:
    info = row.get("extra_info") or {}
    return {"easy": 1.0, "medium": 2.0, "hard": 3.0}.get(str(info.get("difficulty", "")).lower(), 0.0)


def difficulty(domain: str, row: dict) -> float:
    """Difficulty of ``row`` of ``domain`` (0 where the data records none)."""
    fn = _RULES.get(domain)
    try:
        return fn(row) if fn else 0.0
    except Exception:  # noqa: BLE001 - odd rows sort first, they never break a run
        return 0.0
