"""Curricula: the order in which training rows reach the trainer, and its stages.

A curriculum is a function ``(rows, domains, cfg, rng) -> list of stages`` (each a list of
rows) registered under a name; ``conf/curriculum/<name>.yaml`` selects it. Every row
leaves with ``extra_info.difficulty`` (from :mod:`mdrl.curricula.difficulty`), which the
trainers' order hooks (:mod:`mdrl.curricula.order`) read.

Stages: ``stages: N`` cuts the easy-to-hard order into N parts; ``stages: [ {...}, ... ]``
lists them explicitly (difficulty range, mixture weights, trainer overrides per stage).
``mdrl train`` runs a staged curriculum as a chain of jobs (:mod:`mdrl.jobs.stages`), each
stage preparing only its own rows through ``cfg.select`` (set by the chain).
"""

from __future__ import annotations

import random
from typing import Any, Callable, Mapping, Sequence

from mdrl.registry import Registry

from .difficulty import annotate, difficulty

Curriculum = Callable[[list, Sequence[str], Mapping, random.Random], list]
_CURRICULA: Registry[Curriculum] = Registry("curriculum")

curriculum = _CURRICULA.register  # @curriculum("name") above a curriculum function


def get_curriculum(name: str) -> Curriculum:
    """The curriculum registered under ``name``; an unknown name raises a KeyError listing the known ones."""
    return _CURRICULA.get(name)


def order_mode(cfg: Mapping) -> str:
    """The trainer-side order of a curriculum config: shuffled, ordered or adaptive."""
    name = str(cfg.get("order") or cfg.get("name") or "none")
    return {"none": "shuffled", "shuffled": "shuffled", "easy_to_hard": "ordered", "ordered": "ordered", "adaptive": "adaptive"}.get(name, "shuffled")


def _split(rows: list, n: int) -> list[list]:
    n = max(1, min(int(n), len(rows) or 1))
    size, extra = divmod(len(rows), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(rows[start:end])
        start = end
    return out


def _sorted(rows: list, domains: Sequence[str], rng: random.Random, reverse: bool = False) -> list:
    keyed = [(difficulty(d, r), rng.random(), r) for r, d in zip(rows, domains)]
    keyed.sort(key=lambda k: (k[0], k[1]), reverse=reverse)
    return [r for _, _, r in keyed]


def _select(rows: list, domains: Sequence[str], cfg: Mapping, rng: random.Random) -> tuple[list, list]:
    """The rows of one stage: a difficulty range and/or part ``part`` of ``of`` of the easy-to-hard order."""
    sel = cfg.get("select") or {}
    pairs = list(zip(rows, domains))
    rng_d = sel.get("difficulty")
    if rng_d:
        lo, hi = (rng_d[0], rng_d[1]) if len(rng_d) > 1 else (rng_d[0], rng_d[0])
        pairs = [(r, d) for r, d in pairs if (lo is None or difficulty(d, r) >= lo) and (hi is None or difficulty(d, r) <= hi)]
    if sel.get("of"):
        keyed = sorted(pairs, key=lambda p: (difficulty(p[1], p[0]), rng.random()))
        pairs = _split(keyed, int(sel["of"]))[int(sel["part"])]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _stage_count(cfg: Mapping) -> int:
    stages = cfg.get("stages", 1)
    return 1 if cfg.get("select") or not isinstance(stages, int) else int(stages)


@curriculum("none")
def shuffled(rows: list, domains: Sequence[str], cfg: Mapping, rng: random.Random) -> list:
    """One stage, rows shuffled (the trainer may shuffle again)."""
    rows, domains = _select(rows, domains, cfg, rng)
    annotate(rows, list(domains))
    rows = list(rows)
    rng.shuffle(rows)
    return [rows]


@curriculum("easy_to_hard")
def easy_to_hard(rows: list, domains: Sequence[str], cfg: Mapping, rng: random.Random) -> list:
    """Rows sorted by difficulty (ties shuffled), cut into ``cfg.stages`` stages."""
    rows, domains = _select(rows, domains, cfg, rng)
    annotate(rows, list(domains))
    return _split(_sorted(rows, domains, rng, bool(cfg.get("reverse", False))), _stage_count(cfg))


@curriculum("adaptive")
def adaptive(rows: list, domains: Sequence[str], cfg: Mapping, rng: random.Random) -> list:
    """Rows of every level, shuffled; the trainer's hook picks the level (see curricula.order)."""
    return shuffled(rows, domains, cfg, rng)


def is_staged(cfg: Mapping) -> bool:
    """Whether ``mdrl train`` runs this curriculum as a chain of stage jobs."""
    stages = cfg.get("stages", 1)
    return not cfg.get("select") and (isinstance(stages, (list, tuple)) or int(stages or 1) > 1)


def stage_plan(cfg: Mapping) -> list[dict[str, Any]]:
    """The stages of a curriculum config, each {name, select, mixture, overrides}.

    An int ``stages: N`` gives the paper's easy-to-hard stages (part i of N of the sorted
    rows); a list gives explicit stages whose ``difficulty: [lo, hi]`` selects rows,
    ``weights: {source: w}`` (or a full ``mixture: {...}`` patch) sets that stage's domain
    mixture, and ``overrides: {dotted.key: value}`` any other setting (steps, lr, ...).
    """
    stages = cfg.get("stages", 1)
    if not isinstance(stages, (list, tuple)):
        n = int(stages or 1)
        return [{"name": f"part{i}", "select": {"part": i, "of": n}, "mixture": {}, "overrides": {}} for i in range(n)]
    plan = []
    for i, st in enumerate(stages):
        st = dict(st or {})
        unknown = set(st) - {"name", "difficulty", "weights", "mixture", "overrides"}
        if unknown:
            raise ValueError(f"curriculum stage {i} has unknown keys {sorted(unknown)} (known: name, difficulty, weights, mixture, overrides)")
        mixture = dict(st.get("mixture") or {})
        if st.get("weights"):
            mixture.setdefault("sources", {})
            for src, w in dict(st["weights"]).items():
                mixture["sources"][src] = {**(mixture["sources"].get(src) or {}), "weight": w}
        select = {"difficulty": list(st["difficulty"])} if st.get("difficulty") is not None else {}
        plan.append({"name": str(st.get("name") or f"stage{i}"), "select": select, "mixture": mixture, "overrides": dict(st.get("overrides") or {})})
    return plan
