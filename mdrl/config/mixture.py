"""``conf/mixture``: which catalog sources a run trains on, in what shares.

``conf/mixture/<name>.yaml`` extends :class:`MixtureConfig` and names its sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from omegaconf import MISSING

from mdrl.config.checks import setting
from mdrl.errors import UserError

PAPER_BENCHMARKS = ["math500", "aime24", "countdown", "humaneval", "mbpp", "kk", "zebralogic"]


@dataclass
class SourceShare:
    """One source of a mixture: weight scales its share (>= 0); size caps its rows (>= 1, null = all)."""

    weight: float = setting(1.0, ge=0)
    size: Optional[int] = setting(None, ge=1)


@dataclass
class MixtureConfig:
    """``mixture``: sources and balancing.

    name: the mixture file's name. sources.<name>: a source from conf/catalog (:class:`SourceShare`).
    normalize: the paper's normalisation: every study domain in the mixture gets the same
        number of training rows (rows_per_study_domain; null = the smallest domain's total), split
        among that domain's sources by weight; a source short of its share gives the rest to
        the others, so rows repeat only when the whole domain is short.
    balance: what normalize balances: group = the study domains of the catalog (math = DSR +
        CountDown, code = CodeR1, puzzle = KK + LPB; the paper's) | source = every source
        alike. Recorded in the manifest.
    rows_per_study_domain: rows per study domain (>= 1); null = the smallest domain's total.
    filter_overlong: drop prompts longer than algorithm.max_prompt_length tokens (the run's
        tokenizer and chat template, as veRL's own filter) before balancing; skipped (and
        said so) when the model is built during the run.
    val: benchmarks from conf/catalog written to val.parquet (by default the paper's seven
        test sets, whatever the training mixture: the study measures transfer).
    val_rows: null = every row of each benchmark; a number (>= 1) = that many per benchmark,
        drawn at random (seeded), for quick runs only.
    seed: row sampling and shuffling.
    Weights and sizes are realised by resampling rows into the written train parquet (veRL
    concatenates its train files and has no per-file weight); the manifest records this.
    """

    name: str = MISSING
    sources: Dict[str, Any] = setting(MISSING, items=SourceShare)
    normalize: bool = True
    balance: str = setting("group", choices=("group", "source"))
    rows_per_study_domain: Optional[int] = setting(None, ge=1)
    filter_overlong: bool = True
    val: List[str] = field(default_factory=lambda: list(PAPER_BENCHMARKS))
    val_rows: Optional[int] = setting(None, ge=1)
    seed: int = 0

    @classmethod
    def check_node(cls, node, prefix: str) -> None:
        sources = node.get("sources") or {}
        if not sources:
            raise UserError(f"mixture {node.get('name')!r} has no sources")
        if not any(float((s or {}).get("weight", 1.0)) > 0 for s in sources.values()):
            raise UserError(f"mixture {node.get('name')!r}: every source has weight 0")
