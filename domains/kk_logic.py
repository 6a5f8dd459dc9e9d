"""K&K logic: statement tuples, their truth under an assignment, and a brute-force solver.

A statement is a nested tuple as in the released files and reasoning-gym's sampler:
``("telling-truth", i)``, ``("lying", i)``, ``("not", s)``, ``("and", s, ...)``,
``("or", s, ...)``, ``("->", s, t)``, ``("<=>", s, t)``, with i a 0-based person.
"""

from __future__ import annotations

import ast
import itertools
from typing import Any, Sequence


def parse_statements(statements: Any) -> tuple:
    """The statement tuples from their stored form (a Python-literal string or nested lists)."""
    if isinstance(statements, str):
        statements = ast.literal_eval(statements)  # literal_eval evaluates no code

    def tup(x: Any) -> Any:
        return tuple(tup(c) for c in x) if isinstance(x, (list, tuple)) else x

    return tup(statements)


def holds(stmt: Sequence, knights: Sequence[bool]) -> bool:
    """Truth of one statement tuple when ``knights[i]`` says whether person i is a knight."""
    op = stmt[0]
    if op == "telling-truth":
        return bool(knights[stmt[1]])
    if op == "lying":
        return not knights[stmt[1]]
    if op == "not":
        return not holds(stmt[1], knights)
    if op == "and":
        return all(holds(s, knights) for s in stmt[1:])
    if op == "or":
        return any(holds(s, knights) for s in stmt[1:])
    if op == "->":
        return (not holds(stmt[1], knights)) or holds(stmt[2], knights)
    if op == "<=>":
        return holds(stmt[1], knights) == holds(stmt[2], knights)
    raise ValueError(f"unknown statement operator {op!r}")


def solve(statements: Any, limit: int | None = None) -> list[tuple[bool, ...]]:
    """Every knight/knave assignment consistent with the statements, by brute force.

    Person i's statement must be true exactly when person i is a knight. ``limit`` stops
    early (2 is enough to tell unique from not).
    """
    stmts = parse_statements(statements)
    found: list[tuple[bool, ...]] = []
    for knights in itertools.product((True, False), repeat=len(stmts)):
        if all(holds(s, knights) == knights[i] for i, s in enumerate(stmts)):
            found.append(knights)
            if limit is not None and len(found) >= limit:
                break
    return found
