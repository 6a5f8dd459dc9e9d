"""veRL's custom reward function, over the shared scoring path.

veRL 0.9 loads this module through ``reward.custom_reward_function.path`` (as
``pkg://mdrl.scoring.verl_reward``) and its reward loop calls ``compute_score`` once per
response, concurrently (an ``async`` function is awaited directly). Each call is sent to
mdrl's worker pool through the same ``submit`` / ``collect`` pair as ``mdrl score``, so every
item runs under the same hard wall-clock limit, and the batch is scored in parallel. The
returned dict's extra keys become veRL's ``reward_extra_info`` (logged per data_source).

veRL binds ``reward_kwargs`` copied one level deep, so the nested settings arrive as
OmegaConf nodes of the whole trainer config on every call. They are converted to plain
containers once per distinct set of nodes and handed to the pool once; each item then
carries only a short key. veRL runs ``reward.num_workers`` scoring actors spread
round-robin over the nodes, each calling this hook: each actor's pool gets its share of
the node's cores (``cores // actors_per_node``) unless ``workers`` sets it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Mapping

from mdrl.scoring.core import DEFAULT_SETTINGS, SETTING_KEYS
from mdrl.scoring.executor import collect, default_workers, get_pool, plain_settings, submit
from mdrl.scoring.metrics import item_metrics

_FORWARDED = ("num_turns", "rollout_reward_scores")  # veRL adds these to extra_info
# keys of reward_kwargs that size the pool rather than shape the score
POOL_KEYS = ("workers", "actors_per_node")

_MEMO: dict[tuple, tuple[tuple, dict]] = {}  # ids of veRL's setting nodes -> (the nodes, plain)
_MEMO_LOCK = threading.Lock()


def _settings(kwargs: Mapping[str, Any]) -> dict:
    """The plain settings of a call, converted once per distinct set of values."""
    values = tuple(kwargs.get(k) for k in SETTING_KEYS)
    ident = tuple(id(v) for v in values)
    with _MEMO_LOCK:
        hit = _MEMO.get(ident)
        # the memo keeps the values alive, so their ids cannot be reused by other objects
        if hit is not None and all(a is b for a, b in zip(hit[0], values)):
            return hit[1]
        settings = dict(DEFAULT_SETTINGS)
        settings.update({k: v for k, v in zip(SETTING_KEYS, values) if k in kwargs})
        plain = plain_settings(settings)
        if len(_MEMO) > 64:  # a long-lived process with ever-new settings: start over
            _MEMO.clear()
        _MEMO[ident] = (values, plain)
        return plain


def pool_size(kwargs: Mapping[str, Any]) -> int:
    """Worker processes for this scoring actor: ``workers``, else its share of the cores."""
    if kwargs.get("workers"):
        return int(kwargs["workers"])
    return max(1, default_workers() // max(1, int(kwargs.get("actors_per_node") or 1)))


def _clean_info(extra_info: Any) -> Any:
    if isinstance(extra_info, Mapping):
        return {k: v for k, v in extra_info.items() if k not in _FORWARDED}
    return extra_info


async def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, **kwargs: Any) -> dict:
    """Score one rollout in a worker process; never raises, never exceeds the item limit."""
    settings = _settings(kwargs)
    fut, limit = submit(get_pool(pool_size(kwargs), settings), data_source, solution_str, ground_truth, _clean_info(extra_info), settings)
    try:
        await asyncio.wrap_future(fut)
    except Exception:  # noqa: BLE001 - collect() turns a timeout or dead worker into a 0 with a reason
        pass
    return item_metrics(collect(fut, limit, settings))
