"""Curricula: the order in which training rows reach the trainer, and its stages.

A curriculum is a function ``(rows, domains, cfg, rng) -> list of stages`` (each a list of
rows) registered under a name; ``conf/curriculum/<name>.yaml`` selects it. With ordered
curricula the trainer must not reshuffle (data.shuffle=false is set for veRL). With more
than one stage, ``mdrl train`` runs the stages one after the other, each starting from the
previous stage's checkpoint with a fresh reference model and optimizer ("policy refresh").
"""

from __future__ import annotations

import random
from typing import Callable, Mapping, Sequence

from mdrl.curricula.difficulty import difficulty

Curriculum = Callable[[list, Sequence[str], Mapping, random.Random], list]
_CURRICULA: dict[str, Curriculum] = {}


def curriculum(name: str) -> Callable[[Curriculum], Curriculum]:
    def deco(fn: Curriculum) -> Curriculum:
        _CURRICULA[name] = fn
        return fn

    return deco


def get_curriculum(name: str) -> Curriculum:
    try:
        return _CURRICULA[name]
    except KeyError:
        raise KeyError(f"unknown curriculum {name!r}; known: {', '.join(sorted(_CURRICULA))}") from None


def _split(rows: list, n: int) -> list[list]:
    n = max(1, min(int(n), len(rows) or 1))
    size, extra = divmod(len(rows), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(rows[start:end])
        start = end
    return out


@curriculum("none")
def shuffled(rows: list, domains: Sequence[str], cfg: Mapping, rng: random.Random) -> list:
    """One stage, rows shuffled (the trainer may shuffle again)."""
    rows = list(rows)
    rng.shuffle(rows)
    return [rows]


@curriculum("easy_to_hard")
def easy_to_hard(rows: list, domains: Sequence[str], cfg: Mapping, rng: random.Random) -> list:
    """Rows sorted by difficulty (ties shuffled), cut into ``cfg.stages`` stages."""
    keyed = [(difficulty(d, r), rng.random(), r) for r, d in zip(rows, domains)]
    keyed.sort(key=lambda k: (k[0], k[1]), reverse=bool(cfg.get("reverse", False)))
    return _split([r for _, _, r in keyed], cfg.get("stages", 1))
