"""Curricula on the local TRL path: the same order hook as veRL's dataset class.

TRL's GRPOTrainer draws indices with its RepeatSampler (each prompt ``num_generations``
times in a row) and shuffles unless ``shuffle_dataset=False``. mdrl wraps that sampler
(:class:`CurriculumSampler`): for an ordered curriculum it is made sequential and draw i
reads the i-th easiest row; for an adaptive one
draw i reads a row of its domain at the current level, and a wrapper around mdrl's reward
function reports each batch's per-domain pass rate to the
:class:`~mdrl.curricula.adaptive.AdaptiveCurriculum` after scoring it. Accelerate's data
loader fetches one batch ahead, so a level change shows up one batch after the decision.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any, Mapping

from mdrl.curricula import order_mode
from mdrl.curricula.adaptive import AdaptiveCurriculum
from mdrl.curricula.order import CurriculumIndex
from mdrl.errors import UserError


class CurriculumSampler:
    """TRL's own sampler with each drawn index passed through a :class:`CurriculumIndex`.

    Indices are mapped as the data loader pulls them, so an adaptive level change reaches
    the next batch drawn (TRL 1.16 accepts only HF datasets, so the hook is the sampler).
    """

    def __init__(self, inner, index: CurriculumIndex) -> None:
        self.inner, self.index = inner, index

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self):
        for i in self.inner:
            yield self.index(int(i))


def trainer_class(index: CurriculumIndex | None):
    """GRPOTrainer, or a subclass whose train sampler follows ``index``."""
    from trl import GRPOTrainer

    if index is None:
        return GRPOTrainer

    class CurriculumGRPOTrainer(GRPOTrainer):
        def _get_train_sampler(self, dataset=None):
            return CurriculumSampler(super()._get_train_sampler(dataset), index)

    return CurriculumGRPOTrainer


class AdaptiveReward:
    """mdrl's TRL reward function that also moves the curriculum after each scored batch."""

    def __init__(self, inner, curriculum: AdaptiveCurriculum, log: Path | None = None, state: Path | None = None) -> None:
        self.inner, self.curriculum, self.log, self.state = inner, curriculum, log, state
        self.__name__ = inner.__name__  # TRL logs rewards under the function's name

    def __call__(self, prompts: list, completions: list, **columns: Any) -> list[float]:
        scores = self.inner(prompts, completions, **columns)
        metrics = self.inner.last_metrics
        infos = [json.loads(i) if isinstance(i, str) else (i or {}) for i in columns.get("extra_info") or []]
        counts = Counter((src, info.get("domain", "")) for src, info in zip(columns.get("data_source") or [], infos))
        seen = [(dom, float(metrics.get(f"reward/{src}/accuracy", 0.0))) for (src, dom), n in counts.items() for _ in range(n)]
        levels_used = Counter((info.get("domain", ""), info.get("difficulty")) for info in infos)
        moves = self.curriculum.observe(seen)
        for dom, level in self.curriculum.levels().items():
            metrics[f"curriculum/{dom}/level"] = float(level)
        if self.state is not None:
            tmp = self.state.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.curriculum.state_dict()))
            tmp.replace(self.state)
        if self.log is not None:
            with self.log.open("a") as fh:
                fh.write(json.dumps({"update": self.curriculum.updates, "rows_by_level": {f"{d}@{l}": n for (d, l), n in levels_used.items()}, "moves": moves, "levels": self.curriculum.levels()}) + "\n")
        return scores


def weights_digest(model) -> str:
    """sha256 of a model's parameters in name order (equal digests: equal weights)."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def start_record_callback(path: Path, trainer):
    """A callback writing the policy's and reference's weight digests when GRPO starts."""
    from transformers import TrainerCallback

    class StartRecord(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            if path.is_file():  # a resumed job keeps the record of its first start
                return
            ref = getattr(trainer, "ref_model", None)
            path.write_text(json.dumps({"global_step": state.global_step, "policy": weights_digest(model), "reference": weights_digest(ref) if ref is not None else None}))

    return StartRecord()


def apply(cfg: Mapping, rows: list[dict], reward, out: Path) -> tuple[Any, Any, bool]:
    """(trainer class, reward function, shuffle) for ``cfg``'s curriculum on TRL."""
    cur = cfg.get("curriculum") or {}
    mode = order_mode(cur)
    if mode == "shuffled":
        return trainer_class(None), reward, True
    infos = [r["extra_info"] for r in rows]
    domains = [i.get("domain", "") for i in infos]
    diffs = [float(i.get("difficulty") or 0.0) for i in infos]
    try:
        adaptive = AdaptiveCurriculum.from_config(cur, domains) if mode == "adaptive" else None
        index = CurriculumIndex(domains, diffs, mode, adaptive, reverse=bool(cur.get("reverse", False)))
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"curriculum={cur.get('name')}: {exc}") from None
    if adaptive is not None:
        state = out / "curriculum_state.json"
        if state.is_file():  # a resumed run continues at the levels it had reached
            adaptive.load_state_dict(json.loads(state.read_text()))
        reward = AdaptiveReward(reward, adaptive, out / "curriculum.jsonl", state)
    return trainer_class(index), reward, False
