"""veRL's dataset hook for mdrl curricula: ``data.custom_cls`` names this class.

veRL 0.9.1 has no sampler-class setting: ``create_rl_sampler`` builds a RandomSampler
(``data.shuffle=true``) or a SequentialSampler, and ``AbstractCurriculumSampler`` of
earlier veRL releases is gone. What it does load by name, through its own
``create_rl_dataset``/``get_dataset_class``, is the dataset class in
``data.custom_cls.{path,name}``; and its legacy trainer (``trainer.use_v1=false``) calls the
dataset's ``on_batch_end(batch)`` after every step. So the curriculum rides on the dataset:

- ``ordered`` (easy-to-hard): draw i reads the i-th easiest row; ``data.shuffle=false``
  makes veRL's sampler sequential, so batches come easy to hard.
- ``adaptive``: draw i reads a row of its domain at the domain's current level;
  ``on_batch_end`` feeds the batch's per-item ``acc`` (mdrl's reward hook returns it) to
  :class:`~mdrl.curricula.adaptive.AdaptiveCurriculum`. The state lives in this process,
  so ``data.dataloader_num_workers=0`` (worker copies would never see a level change);
  ``state_dict`` lets StatefulDataLoader checkpoint it.

Settings come from ``data.custom_cls.curriculum`` (mdrl writes them; veRL ignores the
extra key). Only the files listed there as train files are remapped: veRL builds the
validation set with the same class, and it stays as stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from verl.utils.dataset.rl_dataset import RLHFDataset

from .adaptive import AdaptiveCurriculum
from .order import CurriculumIndex


def _info(value: Any) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


class CurriculumDataset(RLHFDataset):
    """RLHFDataset whose draw order follows an mdrl curriculum (see the module docstring)."""

    index: CurriculumIndex | None = None  # set after RLHFDataset's own set-up
    adaptive: AdaptiveCurriculum | None = None

    def __init__(self, data_files, tokenizer, processor=None, config=None, max_samples: int = -1):
        super().__init__(data_files=data_files, tokenizer=tokenizer, processor=processor, config=config, max_samples=max_samples)
        spec = (config.get("custom_cls") or {}).get("curriculum") if config is not None else None
        spec = dict(spec or {})
        files = data_files if isinstance(data_files, (list, tuple)) else [data_files]
        train = {str(Path(str(f)).resolve()) for f in spec.get("train_files") or []}
        self.is_train = bool(train) and {str(Path(str(f)).resolve()) for f in files} <= train
        self.adaptive: AdaptiveCurriculum | None = None
        self.index: CurriculumIndex | None = None
        if not self.is_train:
            return
        mode = str(spec.get("mode", "shuffled"))
        infos = [_info(x) for x in self.dataframe["extra_info"]]
        domains = [i.get("domain", "") for i in infos]
        diffs = [float(i.get("difficulty") or 0.0) for i in infos]
        if mode == "adaptive":
            self.adaptive = AdaptiveCurriculum.from_config(spec.get("adaptive") or {}, domains)
        self.index = CurriculumIndex(domains, diffs, mode, self.adaptive, reverse=bool(spec.get("reverse", False)))

    def __getitem__(self, item):
        return super().__getitem__(self.index(item) if self.index is not None else item)

    def on_batch_end(self, batch) -> None:
        """Feed one training batch's outcomes to the adaptive curriculum (veRL's legacy trainer hook)."""
        if self.adaptive is None:
            return
        nt = batch.non_tensor_batch
        infos = [_info(x) for x in nt.get("extra_info", [])]
        if "acc" in nt:
            passed = [float(x) for x in nt["acc"]]
        else:  # no mdrl reward extras: a positive sequence reward counts as a pass
            passed = [float(x > 0) for x in batch.batch["token_level_scores"].sum(-1).tolist()]
        self.adaptive.observe((i.get("domain", ""), p) for i, p in zip(infos, passed))

    def state_dict(self) -> dict:
        return {"adaptive": self.adaptive.state_dict()} if self.adaptive is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.adaptive is not None and state.get("adaptive"):
            self.adaptive.load_state_dict(state["adaptive"])
