"""A difficulty number per row, from what the domain that owns the row records.

Higher is harder. Each domain's loaders and generators already write the number a
researcher would sort by into ``extra_info`` (KK ``num_people``, zebra/LPB ``houses``,
generated CountDown ``num_count``, MATH ``level``, LeetCode ``difficulty``); the rules
below read that first and fall back to the ground truth for rows written elsewhere.
Rows whose domain records nothing usable get 0, so ordering keeps them first and stable
rather than guessing.

The generated domains take the same number as their generator knob (:data:`KNOBS`), so a
curriculum can also be generated: ``generate_at("kk", 5, n=100)`` gives rows whose
``difficulty("kk", row) == 5``.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from mdrl.domains.io import row_ground_truth

_RULES: dict[str, Callable[[dict], float]] = {}

# generator keyword that sets each generated domain's difficulty, and its valid range
KNOBS: dict[str, str] = {"countdown": "num_count", "kk": "num_people", "lpb": "houses"}
KNOB_RANGE: dict[str, tuple[int, int]] = {"countdown": (2, 12), "kk": (2, 8), "lpb": (2, 8)}
CODE_LEVELS = {"easy": 1.0, "medium": 2.0, "hard": 3.0}


def rule(domain: str) -> Callable[[Callable[[dict], float]], Callable[[dict], float]]:
    def deco(fn: Callable[[dict], float]) -> Callable[[dict], float]:
        _RULES[domain] = fn
        return fn

    return deco


def _info(row: dict) -> dict:
    info = row.get("extra_info") or {}
    return info if isinstance(info, dict) else {}


def _num(value: Any) -> float | None:
    """A number from an int/float or the first integer in a string ("Level 3")."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    m = re.search(r"\d+", str(value))
    return float(m.group()) if m else None


@rule("kk")
def _kk(row: dict) -> float:
    known = _num(_info(row).get("num_people"))
    if known:
        return known
    gt = row_ground_truth(row) or {}
    text = gt.get("solution_text_format", "") if isinstance(gt, dict) else ""
    return float(len(re.findall(r"\bis an? (?:knight|knave)", text, flags=re.I)))


@rule("countdown")
def _countdown(row: dict) -> float:
    known = _num(_info(row).get("num_count"))
    if known:
        return known
    gt = row_ground_truth(row) or {}
    return float(len(gt.get("numbers") or gt.get("nums") or [])) if isinstance(gt, dict) else 0.0


@rule("lpb")
def _lpb(row: dict) -> float:
    # grid size: houses is the generator's knob; rows of the released sets record it too
    known = _num(_info(row).get("houses"))
    if known:
        return known
    gt = row_ground_truth(row)
    return float(len(gt)) if isinstance(gt, dict) else 0.0


@rule("math")
def _math(row: dict) -> float:
    return _num(_info(row).get("level")) or 0.0


@rule("code")
def _code(row: dict) -> float:
    return CODE_LEVELS.get(str(_info(row).get("difficulty", "")).lower(), 0.0)


def difficulty(domain: str, row: dict) -> float:
    """Difficulty of ``row`` of ``domain`` (0 where the data records none)."""
    fn = _RULES.get(domain)
    try:
        return fn(row) if fn else 0.0
    except Exception:  # noqa: BLE001 - odd rows sort first, they never break a run
        return 0.0


def annotate(rows: list[dict], domains: list[str]) -> list[dict]:
    """Write ``extra_info.difficulty`` into each row (in place) so trainers can read it."""
    for row, dom in zip(rows, domains):
        info = row.setdefault("extra_info", {})
        info["difficulty"] = difficulty(dom, row)
    return rows


def generate_at(domain: str, level: int, n: int, seed: int = 0, **settings: Any) -> list[dict]:
    """``n`` generated rows of ``domain`` at difficulty ``level`` (its generator knob)."""
    from mdrl.domains import get_domain

    if domain not in KNOBS:
        raise ValueError(f"domain {domain!r} has no generator difficulty knob (known: {', '.join(KNOBS)})")
    lo, hi = KNOB_RANGE[domain]
    if not lo <= int(level) <= hi:
        raise ValueError(f"{domain} difficulty must be between {lo} and {hi}, got {level}")
    gen = get_domain(domain).generate
    return gen(n=n, seed=seed, **{**settings, KNOBS[domain]: int(level)})
