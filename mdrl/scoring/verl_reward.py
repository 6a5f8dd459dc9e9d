"""veRL's custom reward function, over the shared scoring path.

veRL 0.9 loads this file through ``reward.custom_reward_function.path`` and its reward
loop calls ``compute_score`` once per response, concurrently (an ``async`` function is
awaited directly). Each call is sent to mdrl's worker pool through the same ``submit`` /
``collect`` pair as ``mdrl score``, so every item runs under the same hard wall-clock
limit, and the batch is scored in parallel. The returned dict's extra keys become veRL's
``reward_extra_info`` (logged per data_source in validation metrics).
"""

from __future__ import annotations

import asyncio
from typing import Any, Mapping

from mdrl.scoring.core import DEFAULT_SETTINGS, SETTING_KEYS
from mdrl.scoring.executor import collect, get_pool, submit
from mdrl.scoring.metrics import item_metrics

_FORWARDED = ("num_turns", "rollout_reward_scores")  # veRL adds these to extra_info


def _settings(kwargs: Mapping[str, Any]) -> dict:
    settings = dict(DEFAULT_SETTINGS)
    settings.update({k: v for k, v in kwargs.items() if k in SETTING_KEYS})
    return settings


def _clean_info(extra_info: Any) -> Any:
    if isinstance(extra_info, Mapping):
        return {k: v for k, v in extra_info.items() if k not in _FORWARDED}
    return extra_info


async def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, **kwargs: Any) -> dict:
    """Score one rollout in a worker process; never raises, never exceeds the item limit."""
    settings = _settings(kwargs)
    fut, limit = submit(get_pool(kwargs.get("workers")), data_source, solution_str, ground_truth, _clean_info(extra_info), settings)
    try:
        await asyncio.wrap_future(fut)
    except Exception:  # noqa: BLE001 - collect() turns a timeout or dead worker into a 0 with a reason
        pass
    return item_metrics(collect(fut, limit, settings))
