"""Reward schemes: how a verifier's verdict and the response's shape become one number.

Add a scheme by writing a function ``(verdict, well_formed, settings) -> float`` and
decorating it with ``@scheme("name")``; ``conf/reward/<name>.yaml`` then selects it.
"""

from __future__ import annotations

from typing import Callable, Mapping

from mdrl.config.reward import FORMAT_DEFAULTS
from mdrl.domains.base import Verdict
from mdrl.registry import Registry

SchemeFn = Callable[[Verdict, bool, Mapping], float]
_SCHEMES: Registry[SchemeFn] = Registry("reward scheme")
scheme = _SCHEMES.register
get_scheme = _SCHEMES.get


def scheme_names() -> list[str]:
    """The registered scheme names, sorted (what ``reward.scheme`` may be)."""
    return sorted(_SCHEMES.names())


@scheme("binary")
def binary(verdict: Verdict, well_formed: bool, settings: Mapping) -> float:
    """1 when the whole answer is right, else 0."""
    return 1.0 if verdict.correct else 0.0


@scheme("proportional")
def proportional(verdict: Verdict, well_formed: bool, settings: Mapping) -> float:
    """Partial credit: the verifier's fraction (persons, cells, test cases); math stays 0/1."""
    return float(min(1.0, max(0.0, verdict.fraction)))


@scheme("format")
def format_scheme(verdict: Verdict, well_formed: bool, settings: Mapping) -> float:
    """Answer score (``answer_scheme``) plus a format bonus or penalty.

    The numbers come from ``settings["format"]``; a key it lacks takes the schema's default
    (mdrl/config/reward.py, FormatSettings), the one place they are written.
    """
    fmt = settings.get("format", {}) or {}
    base = get_scheme(fmt.get("answer_scheme", FORMAT_DEFAULTS.answer_scheme))
    if base is format_scheme:  # the schema refuses it at composition; direct callers get this
        raise ValueError("format.answer_scheme cannot be 'format'")
    answer = base(verdict, well_formed, settings)
    term = float(fmt.get("bonus", FORMAT_DEFAULTS.bonus)) if well_formed else float(fmt.get("penalty", FORMAT_DEFAULTS.penalty))
    return answer + term


# Domains the authors paid partial credit on: their zebra scorer returns cell accuracy
# (A-Data-Centric-Study verl/utils/reward_score/zebra.py); math, countdown, KK and code
# score 0/1, and their dispatcher (reward_score/__init__.py) sets every format score to 0.
PAPER_PARTIAL_CREDIT = frozenset({"lpb"})


@scheme("paper")
def paper(verdict: Verdict, well_formed: bool, settings: Mapping) -> float:
    """The study's scheme per domain: LPB/zebra cell accuracy, every other domain 0/1, no format term.

    ``settings["domain"]`` is the item's domain, set by the scorer; without it (an item
    that never reached a domain) the answer is simply wrong or right.
    """
    if settings.get("domain") in PAPER_PARTIAL_CREDIT:
        return proportional(verdict, well_formed, settings)
    return binary(verdict, well_formed, settings)
