"""Which stored row a trainer's i-th draw reads: the order hook both backends share.

The trainers keep their own samplers (veRL's ``create_rl_sampler``, TRL's RepeatSampler);
mdrl only maps the index they draw to a row, from each row's domain and difficulty:

- ``shuffled``: row i (the trainer's sampler shuffles);
- ``ordered``: rows sorted by difficulty, ties kept in stored order (easy to hard, or hard
  to easy with ``reverse``); the trainer's sampler must be sequential;
- ``adaptive``: a draw of a row of an adaptive domain reads a row of that domain at the
  domain's *current* level instead (the n-th draw of the domain reads the n-th row of
  that level's pool, cyclically), so the mixture's domain shares stay as prepared and only
  the difficulty follows :class:`~mdrl.curricula.adaptive.AdaptiveCurriculum`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from .adaptive import AdaptiveCurriculum

MODES = ("shuffled", "ordered", "adaptive")


class CurriculumIndex:
    """Maps a trainer's draw index to a stored row index."""

    def __init__(self, domains: Sequence[str], difficulties: Sequence[float], mode: str = "shuffled", adaptive: AdaptiveCurriculum | None = None, reverse: bool = False) -> None:
        if mode not in MODES:
            raise ValueError(f"curriculum order must be one of {', '.join(MODES)}, not {mode!r}")
        if mode == "adaptive" and adaptive is None:
            raise ValueError("the adaptive order needs an AdaptiveCurriculum")
        if len(domains) != len(difficulties):
            raise ValueError("domains and difficulties differ in length")
        self.mode, self.adaptive = mode, adaptive
        self.domains = [str(d) for d in domains]
        self.difficulties = [float(x) for x in difficulties]
        n = len(self.domains)
        self.perm = sorted(range(n), key=lambda i: self.difficulties[i], reverse=reverse) if mode == "ordered" else list(range(n))
        self.pools: dict[tuple[str, int], list[int]] = defaultdict(list)
        self.rank: list[int] = []
        seen: dict[str, int] = defaultdict(int)
        for i, (dom, diff) in enumerate(zip(self.domains, self.difficulties)):
            self.pools[(dom, int(round(diff)))].append(i)
            self.rank.append(seen[dom])
            seen[dom] += 1
        if adaptive is not None:
            for dom, d in adaptive.domains.items():
                missing = [lv for lv in d.levels if not self.pools.get((dom, lv))] if dom in seen else []
                if missing:
                    raise ValueError(f"adaptive domain {dom!r} has no rows at level(s) {missing}")

    def __len__(self) -> int:
        return len(self.domains)

    def __call__(self, i: int) -> int:
        i = self.perm[i]
        if self.mode != "adaptive":
            return i
        level = self.adaptive.level(self.domains[i])
        pool = self.pools.get((self.domains[i], level)) if level is not None else None
        return pool[self.rank[i] % len(pool)] if pool else i
