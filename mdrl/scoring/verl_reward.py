"""veRL's custom reward function, over the shared scoring path.

veRL 0.9 loads this file through ``reward.custom_reward_function.path`` and its reward
loop calls ``compute_score`` once per response, concurrently (an ``async`` function is
awaited directly). Each call is sent to mdrl's worker pool, so every item runs under the
same hard wall-clock limit as ``mdrl score``, and the batch is scored in parallel.
The returned dict's extra keys become veRL's ``reward_extra_info`` (logged per
data_source in validation metrics).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Mapping

from pebble import ProcessExpired

from mdrl.scoring.core import DEFAULT_SETTINGS, failure, item_timeout, score_one
from mdrl.scoring.executor import get_pool

_FORWARDED = ("num_turns", "rollout_reward_scores")  # veRL adds these to extra_info


def _settings(kwargs: Mapping[str, Any]) -> dict:
    settings = dict(DEFAULT_SETTINGS)
    settings.update({k: v for k, v in kwargs.items() if k in ("scheme", "format", "domains", "item_timeout_s")})
    return settings


def _clean_info(extra_info: Any) -> Any:
    if isinstance(extra_info, Mapping):
        return {k: v for k, v in extra_info.items() if k not in _FORWARDED}
    return extra_info


def _flat(result: dict) -> dict:
    d = result["details"]
    return {
        "score": float(result["score"]),
        "acc": float(bool(d.get("correct"))),
        "fraction": float(d.get("fraction", 0.0)),
        "format": float(bool(d.get("well_formed"))),
        "timeout": float("timeout" in str(d.get("reason", ""))),
    }


async def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, **kwargs: Any) -> dict:
    """Score one rollout in a worker process; never raises, never exceeds the item limit."""
    settings = _settings(kwargs)
    limit = item_timeout(data_source, settings)
    fut = get_pool(kwargs.get("workers")).schedule(
        score_one, args=(data_source, solution_str, ground_truth, _clean_info(extra_info), settings), timeout=limit
    )
    try:
        result = await asyncio.wrap_future(fut)
    except FutureTimeout:
        result = failure(f"timeout: item exceeded its {limit:g}s limit and was killed", settings)
    except ProcessExpired as exc:
        result = failure(f"worker process died ({exc})", settings)
    except Exception as exc:  # noqa: BLE001
        result = failure(f"executor error: {type(exc).__name__}: {exc}", settings)
    return _flat(result)


def compute_score_sync(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, **kwargs: Any) -> dict:
    """The same, for callers that want a plain function (e.g. veRL's older managers)."""
    return _flat(score_one(data_source, solution_str, ground_truth, _clean_info(extra_info), _settings(kwargs)))
