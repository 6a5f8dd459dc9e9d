"""TRL's reward function over the shared scoring path (for the local GRPO backend).

TRL calls ``reward_funcs`` with the prompts, the completions and every other dataset
column as keyword lists; the prepared parquet carries data_source, reward_model and
extra_info, so the same verifiers score TRL's rollouts as veRL's.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from mdrl.scoring.executor import score_batch
from mdrl.scoring.metrics import domain_metrics


def _text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))  # conversational completions
    return str(completion)


def _info(info: Any) -> Any:
    # extra_info travels through the HF dataset as JSON text (its keys differ by domain)
    if isinstance(info, str):
        try:
            return json.loads(info)
        except ValueError:
            return None
    return info


class TRLReward:
    """A callable TRL reward function; keeps the last batch's per-domain metrics.

    Only the last batch's: the trainer logs them every step (metrics.jsonl holds the
    history), so nothing here grows with the length of a run.
    """

    def __init__(self, settings: Mapping, workers: int | None = None) -> None:
        self.settings = dict(settings)
        self.workers = workers
        self.__name__ = f"mdrl_{self.settings.get('scheme', 'binary')}"  # TRL logs by name
        self.last_metrics: dict[str, float] = {}

    def __call__(self, prompts: list, completions: list, **columns: Any) -> list[float]:
        n = len(completions)
        sources = columns.get("data_source") or [None] * n
        gts = columns.get("ground_truth") or [(rm or {}).get("ground_truth") for rm in columns.get("reward_model") or [{}] * n]
        infos = [_info(i) for i in (columns.get("extra_info") or [None] * n)]
        items = [
            {"data_source": s, "response": _text(c), "ground_truth": gt, "extra_info": info}
            for s, c, gt, info in zip(sources, completions, gts, infos)
        ]
        results = score_batch(items, self.settings, self.workers)
        self.last_metrics = domain_metrics(sources, results)
        return [float(r["score"]) for r in results]
