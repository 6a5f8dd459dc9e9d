"""The contract every domain implements, and the registry that routes data_source to it.

A domain owns three things: its verifier (``verify``), its loaders (released parquet,
local JSONL/parquet, Hugging Face id) and, where it has one, a procedural generator.
Answer extraction (the last ``<answer>`` block) and reward schemes live outside the
domain, in :mod:`mdrl.scoring`, so every domain is scored by the same rules.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping

# Canonical veRL row layout written by loaders and generators:
#   {"data_source": str, "prompt": [{"role": "user", "content": str}], "ability": str,
#    "reward_model": {"style": "rule", "ground_truth": <domain format>},
#    "extra_info": {"question": <raw problem text, no template>, "split": str, "index": int, ...}}
Row = dict


@dataclasses.dataclass
class Verdict:
    """Outcome of checking one extracted answer against its ground truth.

    ``fraction`` is partial credit in [0, 1] (what the proportional scheme pays);
    ``correct`` is the all-or-nothing outcome (what the binary scheme pays).
    ``details`` carries anything a researcher wants to see per item (parsed answer, reason).
    """

    fraction: float
    correct: bool
    details: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def wrong(cls, reason: str, **details: Any) -> "Verdict":
        return cls(0.0, False, {"reason": reason, **details})

    @classmethod
    def right(cls, **details: Any) -> "Verdict":
        return cls(1.0, True, {"reason": "correct", **details})


@dataclasses.dataclass
class Domain:
    """One reasoning domain behind the registry.

    verify(answer, ground_truth, extra_info) -> Verdict  must be a pure function of its
    inputs; it may be slow or hang (sympy, model code): the batch executor bounds it with
    ``timeout_s`` of wall clock in a killable worker process.
    """

    name: str
    data_sources: tuple[str, ...]
    verify: Callable[[str, Any, Mapping | None], Verdict]
    timeout_s: float = 10.0
    ability: str = ""
    loaders: Mapping[str, Callable[..., list[Row]]] = dataclasses.field(default_factory=dict)
    generate: Callable[..., list[Row]] | None = None
    description: str = ""


_DOMAINS: dict[str, Domain] = {}
_BY_SOURCE: dict[str, str] = {}


def register(domain: Domain) -> Domain:
    """Add a domain; its name and every data_source alias route to it (case-insensitive)."""
    if domain.name in _DOMAINS:
        raise ValueError(f"domain {domain.name!r} is registered twice")
    _DOMAINS[domain.name] = domain
    for src in (domain.name, *domain.data_sources):
        key = src.lower()
        if key in _BY_SOURCE and _BY_SOURCE[key] != domain.name:
            raise ValueError(f"data_source {src!r} claimed by {_BY_SOURCE[key]!r} and {domain.name!r}")
        _BY_SOURCE[key] = domain.name
    return domain


def get_domain(name: str) -> Domain:
    """The domain registered under ``name`` (a domain name, not a data_source)."""
    try:
        return _DOMAINS[name]
    except KeyError:
        raise KeyError(f"unknown domain {name!r}; known: {', '.join(sorted(_DOMAINS))}") from None


def domain_for_source(data_source: str) -> Domain | None:
    """The domain that scores ``data_source``, or None when nothing claims it."""
    if not isinstance(data_source, str):
        return None
    name = _BY_SOURCE.get(data_source.strip().lower())
    return _DOMAINS[name] if name else None


def all_domains() -> Iterable[Domain]:
    return list(_DOMAINS.values())


def known_sources() -> list[str]:
    return sorted(_BY_SOURCE)
