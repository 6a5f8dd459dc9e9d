"""``conf/curriculum``: the order rows reach the trainer, and its stages.

Three shapes, because the keys mean something only where the order has parts:
:class:`ShuffledCurriculum` (``none``: nothing to set), :class:`OrderedCurriculum`
(``easy_to_hard`` and explicit stage lists) and :class:`AdaptiveCurriculum`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from omegaconf import MISSING

from mdrl.config.checks import setting
from mdrl.errors import UserError


def curriculum_names() -> list[str]:
    """The registered orders (mdrl.curricula)."""
    from mdrl.curricula import _CURRICULA

    return sorted(_CURRICULA)


@dataclass
class ShuffledCurriculum:
    """curriculum=none: rows shuffled, one stage. name: the order (none | easy_to_hard | adaptive)."""

    name: str = setting(MISSING, choices=curriculum_names)


@dataclass
class OrderedCurriculum(ShuffledCurriculum):
    """An ordered curriculum.

    stages: 1 = one job; N = the easy-to-hard order cut into N stage jobs; or a list of
        explicit stages (see staged_puzzle.yaml). More than one stage runs as a chain of
        jobs (mdrl/jobs/stages.py), each from the previous stage's final weights.
    policy_refresh: between stages, true = reference model and optimizer start afresh from
        the previous stage's final policy (the paper's "policy refresh"); false = the
        reference stays the first stage's and the optimizer state carries on.
    reverse: hard-to-easy instead of easy-to-hard.
    """

    stages: Any = 1
    policy_refresh: bool = True
    reverse: bool = False

    @classmethod
    def check_node(cls, node, prefix: str) -> None:
        stages = node.get("stages")
        if isinstance(stages, bool) or not (isinstance(stages, int) and stages >= 1 or hasattr(stages, "__len__") and not isinstance(stages, str) and len(stages) > 0):
            raise UserError(f"{prefix}.stages must be a whole number >= 1 or a non-empty list of stages, not {stages!r}")


@dataclass
class AdaptiveDomain:
    """One generated domain's levels (the generator knob's values), first level and rows per level."""

    levels: List[int] = setting(MISSING, ge=1, each=True)
    start: int = setting(MISSING, ge=1)
    rows_per_level: Optional[int] = setting(None, ge=1)


@dataclass
class AdaptiveCurriculum(OrderedCurriculum):
    """curriculum=adaptive: difficulty follows the policy's recent pass rate.

    band: [low, high] pass rates (0 <= low < high <= 1); above high a domain moves one
    ``step`` up its levels, below low one step down, judged on its last ``min_samples``
    rollouts. domains.<domain>: :class:`AdaptiveDomain`. How band, levels and start fit
    together is checked by mdrl.curricula.adaptive, which knows each domain's knob.
    """

    band: List[float] = setting([0.3, 0.7], ge=0, le=1, each=True)
    min_samples: int = setting(16, ge=1)
    step: int = setting(1, ge=1)
    domains: Dict[str, Any] = setting({}, items=AdaptiveDomain)
