"""Adaptive curriculum: each generated domain's difficulty follows the policy's pass rate.

After every training batch the trainer reports, per domain, how many rollouts passed
(all-correct verdicts). Once a domain has ``min_samples`` reports in its window, its
recent pass rate is compared with a target band ``[low, high]``: above the band the
domain's difficulty knob goes up one ``step``, below it goes down, inside it stays; the
window is cleared after each move so the next decision sees only the new level. This is
the teacher rule of adaptive-environment RL (arXiv 2511.07317, "keep the task at the edge
of the policy's ability") specialised to a knob per domain.

The state is plain data (``state_dict`` / ``load_state_dict``) so veRL's StatefulDataLoader
and TRL checkpoints resume it with the run.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from typing import Any, Iterable, Mapping


@dataclasses.dataclass
class DomainLevel:
    """One domain's knob: its allowed levels, where it is, and its recent outcomes."""

    levels: list[int]
    index: int
    window: deque = dataclasses.field(default_factory=deque)

    @property
    def level(self) -> int:
        return self.levels[self.index]


class AdaptiveCurriculum:
    """Per-domain difficulty levels moved by the recent pass rate against a target band."""

    def __init__(self, domains: Mapping[str, Mapping[str, Any]], low: float = 0.3, high: float = 0.7, min_samples: int = 16, step: int = 1) -> None:
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(f"need 0 <= low <= high <= 1 for the target band, got [{low}, {high}]")
        if min_samples < 1 or step < 1:
            raise ValueError("min_samples and step must be >= 1")
        self.low, self.high, self.min_samples, self.step = float(low), float(high), int(min_samples), int(step)
        self.domains: dict[str, DomainLevel] = {}
        for name, spec in domains.items():
            levels = sorted(int(x) for x in spec["levels"])
            if not levels:
                raise ValueError(f"adaptive domain {name!r} has no levels")
            start = int(spec.get("start", levels[0]))
            if start not in levels:
                raise ValueError(f"adaptive domain {name!r}: start {start} is not one of its levels {levels}")
            self.domains[name] = DomainLevel(levels, levels.index(start))
        self.updates = 0
        self.history: list[dict[str, Any]] = []  # one entry per move, for the run's log

    def level(self, domain: str) -> int | None:
        """The current difficulty of ``domain`` (None for domains that do not adapt)."""
        d = self.domains.get(domain)
        return d.level if d else None

    def levels(self) -> dict[str, int]:
        return {name: d.level for name, d in self.domains.items()}

    def observe(self, outcomes: Iterable[tuple[str, float]]) -> dict[str, int]:
        """Record (domain, passed) outcomes of one batch, then move levels; returns the moves."""
        self.updates += 1
        for domain, passed in outcomes:
            d = self.domains.get(domain)
            if d is not None:
                d.window.append(float(passed))
        moves: dict[str, int] = {}
        for name, d in self.domains.items():
            if len(d.window) < self.min_samples:
                continue
            rate = sum(d.window) / len(d.window)
            old = d.index
            if rate > self.high:
                d.index = min(len(d.levels) - 1, d.index + self.step)
            elif rate < self.low:
                d.index = max(0, d.index - self.step)
            if d.index != old:
                moves[name] = d.level
                self.history.append({"update": self.updates, "domain": name, "pass_rate": rate, "from": d.levels[old], "to": d.level})
                d.window.clear()
            else:
                # keep the window to the most recent min_samples outcomes ("recent" pass rate)
                while len(d.window) > self.min_samples:
                    d.window.popleft()
        return moves

    def state_dict(self) -> dict[str, Any]:
        return {
            "updates": self.updates,
            "history": list(self.history),
            "domains": {n: {"index": d.index, "window": list(d.window)} for n, d in self.domains.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.updates = int(state.get("updates", 0))
        self.history = list(state.get("history", []))
        for name, s in (state.get("domains") or {}).items():
            if name in self.domains:
                self.domains[name].index = int(s["index"])
                self.domains[name].window = deque(float(x) for x in s.get("window", []))

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], present: Iterable[str] | None = None) -> "AdaptiveCurriculum":
        """From ``conf/curriculum/adaptive.yaml``'s keys (band, min_samples, step, domains),
        keeping only the domains in ``present`` (those the training rows hold) when given."""
        band = cfg.get("band") or [0.3, 0.7]
        domains = dict(cfg.get("domains") or {})
        if present is not None:
            keep = set(present)
            domains = {d: spec for d, spec in domains.items() if d in keep}
        return cls(domains, low=band[0], high=band[1], min_samples=int(cfg.get("min_samples", 16)), step=int(cfg.get("step", 1)))
