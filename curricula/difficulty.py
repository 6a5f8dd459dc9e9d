"""A difficulty number per row, as the domain that owns the row defines it.

Higher is harder. Each domain declares ``difficulty(row)`` (see :mod:`mdrl.domains`): its
loaders and generators write the number a researcher would sort by into ``extra_info`` (KK
``num_people``, zebra/LPB ``houses``, generated CountDown ``num_count``, MATH ``level``,
LeetCode ``difficulty``) and its rule reads that first, falling back to the ground truth for
rows written elsewhere. Rows whose domain records nothing usable get 0, so ordering keeps
them first and stable rather than guessing.

The generated domains take the same number as their generator knob (``Domain.knob``), so a
curriculum can also be generated: ``generate_at("kk", 5, n=100)`` gives rows whose
``difficulty("kk", row) == 5``.
"""

from __future__ import annotations

from typing import Any

from mdrl.domains import all_domains, domain_for_source, get_domain


def __getattr__(name: str) -> Any:
    """``KNOBS`` and ``KNOB_RANGE``, the old central tables, computed from the registry."""
    if name == "KNOBS":
        return {d.name: d.knob.name for d in all_domains() if d.knob}
    if name == "KNOB_RANGE":
        return {d.name: (d.knob.low, d.knob.high) for d in all_domains() if d.knob}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def difficulty(domain: str, row: dict) -> float:
    """Difficulty of ``row`` of ``domain`` (0 where the data records none or nothing claims it)."""
    dom = domain_for_source(domain)
    try:
        return float(dom.difficulty(row)) if dom else 0.0
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
    dom = get_domain(domain)
    if dom.knob is None:
        known = ", ".join(d.name for d in all_domains() if d.knob)
        raise ValueError(f"domain {domain!r} has no generator difficulty knob (known: {known})")
    lo, hi = dom.knob.low, dom.knob.high
    if not lo <= int(level) <= hi:
        raise ValueError(f"{domain} difficulty must be between {lo} and {hi}, got {level}")
    return dom.generate(n=n, seed=seed, **{**settings, dom.knob.name: int(level)})
