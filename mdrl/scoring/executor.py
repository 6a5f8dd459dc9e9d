"""The batch executor: score many items in worker processes, each under a hard time limit.

A thread cannot be stopped and math-verify's signal-based timeout fails off the main
thread (PITFALLS.md), so every item runs in a pebble worker process that is killed and
replaced when the item passes its wall-clock limit. One pool lives per process and is
reused across calls, so veRL's per-step reward calls pay the start-up cost once.

Settings travel to the workers once, not with every item: callers may hand them over as
OmegaConf nodes (veRL's ``reward_kwargs`` are copied one level deep, so nested values still
reference the whole trainer config, about 100 KB pickled), so they are converted once to
plain containers, registered under a short content key, and installed in every worker
when the pool starts. An item then carries only that key (PITFALLS.md).
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeout
import hashlib
import json
from typing import Any, Iterable, Iterator, Mapping, Sequence

from pebble import ProcessExpired, ProcessPool

from mdrl.scoring.core import DEFAULT_SETTINGS, failure, item_timeout, score_one

_POOL: ProcessPool | None = None
_POOL_SIZE = 0
_POOL_KEYS: frozenset[str] = frozenset()  # settings keys the running pool's workers hold
_IN_FLIGHT = 0  # items scheduled and not finished (the pool is restarted only when idle)
_LOCK = threading.Lock()
_COUNT_LOCK = threading.Lock()  # separate: done-callbacks may run while _LOCK stops the pool
# Recycle workers now and then: sympy and math-verify keep caches that only grow.
_MAX_TASKS_PER_WORKER = 2000

_TABLE: dict[str, dict] = {}  # settings key -> plain settings, in this (parent) process
_WORKER_TABLE: dict[str, dict] = {}  # the same, inside a worker (installed by _warm)


def _warm(plugins: str, table: dict[str, dict]) -> None:
    import mdrl.domains  # import verifiers once per worker, not per item

    # a forkserver keeps the environment it started with: take the plugins the pool's
    # creator sees now, not whatever the server inherited
    mdrl.domains.load_plugins(plugins)
    _WORKER_TABLE.update(table)


def plain_settings(settings: Mapping | None) -> dict:
    """``settings`` as plain dicts/lists/scalars, whether they came as OmegaConf nodes or not."""
    from omegaconf import DictConfig, ListConfig, OmegaConf

    def plain(v: Any) -> Any:
        if isinstance(v, (DictConfig, ListConfig)):
            return OmegaConf.to_container(v, resolve=True)
        if isinstance(v, Mapping):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v

    return plain(settings if settings is not None else DEFAULT_SETTINGS)


def register_settings(settings: Mapping | None) -> tuple[str, dict]:
    """(key, plain settings): the key is a short hash of the content, the same in every process."""
    plain = plain_settings(settings)
    key = hashlib.sha1(json.dumps(plain, sort_keys=True, default=str).encode()).hexdigest()[:16]
    _TABLE.setdefault(key, plain)
    return key, _TABLE[key]


def _score_keyed(key: str, inline: Mapping | None, data_source: Any, response: Any, ground_truth: Any, extra_info: Any) -> dict:
    """Worker side of :func:`submit`: settings by key (installed at start-up), else inline."""
    settings = inline if inline is not None else _WORKER_TABLE[key]
    if inline is not None:
        _WORKER_TABLE.setdefault(key, dict(inline))
    return score_one(data_source, response, ground_truth, extra_info, settings)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def get_pool(workers: int | None = None, settings: Mapping | None = None) -> ProcessPool:
    """The shared worker pool, (re)started with ``workers`` processes.

    With ``settings``, the workers hold them from start-up: a running pool that lacks them
    is restarted when no item is in flight (until then, items carry them inline).
    """
    global _POOL, _POOL_SIZE, _POOL_KEYS
    n = workers or default_workers()
    key = register_settings(settings)[0] if settings is not None else None
    with _LOCK:
        stale = key is not None and key not in _POOL_KEYS and _IN_FLIGHT == 0
        if _POOL is None or _POOL_SIZE != n or not _POOL.active or stale:
            if _POOL is not None:
                _POOL.stop()
                _POOL.join()
            # forkserver: workers fork from a clean server, never from a parent that holds
            # torch/Ray threads (fork after threads can deadlock).
            ctx = multiprocessing.get_context("forkserver")
            table = dict(_TABLE)
            _POOL = ProcessPool(max_workers=n, max_tasks=_MAX_TASKS_PER_WORKER, initializer=_warm, initargs=(os.environ.get("MDRL_PLUGINS", ""), table), context=ctx)
            _POOL_SIZE, _POOL_KEYS = n, frozenset(table)
        return _POOL


@atexit.register
def shutdown() -> None:
    """Stop the shared pool (also run at interpreter exit)."""
    global _POOL, _POOL_KEYS
    with _LOCK:
        if _POOL is not None:
            _POOL.stop()
            _POOL.join()
            _POOL = None
            _POOL_KEYS = frozenset()


def score_iter(
    items: Iterable[Mapping[str, Any]],
    settings: Mapping | None = None,
    workers: int | None = None,
) -> Iterator[dict]:
    """Yield {"score", "details"} for each item, in input order, as they finish.

    Items are mappings with data_source, response, ground_truth and optional extra_info.
    ``workers=0`` scores inline in this process with no time limit (debugging only).
    """
    settings = plain_settings(settings)
    if workers == 0:
        for it in items:
            yield score_one(it.get("data_source"), it.get("response"), it.get("ground_truth"), it.get("extra_info"), settings)
        return
    pool = get_pool(workers, settings)
    pending: list[tuple[Any, float]] = []
    window = 4 * (workers or default_workers()) + 64
    it = iter(items)
    exhausted = False
    while True:
        # Keep a bounded window in flight so huge inputs stream instead of sitting in RAM.
        while not exhausted and len(pending) < window:
            try:
                item = next(it)
            except StopIteration:
                exhausted = True
                break
            pending.append(submit(pool, item.get("data_source"), item.get("response"), item.get("ground_truth"), item.get("extra_info"), settings))
        if not pending:
            return
        fut, limit = pending.pop(0)
        yield collect(fut, limit, settings)


def submit(pool: ProcessPool, data_source: Any, response: Any, ground_truth: Any, extra_info: Any, settings: Mapping) -> tuple[Any, float]:
    """Schedule one item on ``pool`` under its hard wall-clock limit; returns (future, limit).

    The item carries its settings' key only when the pool's workers hold them (see
    :func:`get_pool`), else the plain settings themselves, never OmegaConf nodes.
    """
    global _IN_FLIGHT
    key, plain = register_settings(settings)
    limit = item_timeout(data_source, plain)
    inline = None if (pool is _POOL and key in _POOL_KEYS) else plain
    with _COUNT_LOCK:
        _IN_FLIGHT += 1
    try:
        fut = pool.schedule(_score_keyed, args=item_args(key, inline, data_source, response, ground_truth, extra_info), timeout=limit)
    except BaseException:
        _finished(None)
        raise
    fut.add_done_callback(_finished)
    return fut, limit


def item_args(key: str, inline: Mapping | None, data_source: Any, response: Any, ground_truth: Any, extra_info: Any) -> tuple:
    """What one scheduled item sends to a worker (its size is what each item costs to ship)."""
    return (key, inline, data_source, response, ground_truth, extra_info)


def _finished(_fut: Any) -> None:
    global _IN_FLIGHT
    with _COUNT_LOCK:
        _IN_FLIGHT -= 1


def collect(fut: Any, limit: float, settings: Mapping) -> dict:
    """The result of a :func:`submit` future; a timeout, dead worker or executor error scores 0."""
    try:
        return fut.result()
    except FutureTimeout:
        out = failure(f"timeout: item exceeded its {limit:g}s limit and was killed", plain_settings(settings))
        out["details"]["elapsed_s"] = limit
        return out
    except ProcessExpired as exc:
        return failure(f"worker process died ({exc}); item scored 0", plain_settings(settings))
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable ground truth
        return failure(f"executor error: {type(exc).__name__}: {str(exc)[:200]}", plain_settings(settings))


def score_batch(
    items: Sequence[Mapping[str, Any]],
    settings: Mapping | None = None,
    workers: int | None = None,
    progress: bool = False,
    desc: str = "scoring",
) -> list[dict]:
    """Score a list of items in parallel; one result per item, same order."""
    results = score_iter(items, settings, workers)
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=len(items), desc=desc, unit="resp", dynamic_ncols=True)
    return list(results)
