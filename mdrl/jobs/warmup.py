"""Well-formed gold responses for a short supervised warm-up before GRPO.

A random tiny model never emits ``<answer>`` by chance, so GRPO would see zero reward and
zero advantage. A brief SFT on gold responses built from the data itself teaches the
format; GRPO then has signal to improve on. Only used by the local TRL backend.

The gold answer of a row is its domain's business (``Domain.gold``, see
:mod:`mdrl.domains`); this module only wraps it in the response layout.
"""

from __future__ import annotations

from mdrl.domains import domain_for_source
from mdrl.domains.countdown_solver import solve_countdown  # noqa: F401 - importable here, as before


def gold_response(domain: str, row: dict) -> str | None:
    """``... </think> <answer>gold</answer>`` for ``row``, or None where no gold is known."""
    dom = domain_for_source(domain)
    try:
        answer = dom.gold(row) if dom and dom.gold else None
    except Exception:  # noqa: BLE001 - rows without usable gold are skipped
        answer = None
    if not answer:
        return None
    return f" </think> <answer> {answer} </answer>"
