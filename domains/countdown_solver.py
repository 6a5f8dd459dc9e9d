"""An exhaustive CountDown solver: the gold equation of a puzzle, for warm-up SFT and benchmarks.

Tries every pair of remaining values under + - * / (exact fractions), so it is exponential
in the count of numbers; the puzzles here have at most a handful.
"""

from __future__ import annotations

import itertools
from fractions import Fraction


def solve_countdown(numbers: list[int], target: int) -> str | None:
    """An expression using every number once that equals ``target``, or None when there is none."""
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
    """Whether the parentheses of ``s`` pair up (so its outer pair may be dropped)."""
    depth = 0
    for ch in s:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0
