"""The batch executor: score many items in worker processes, each under a hard time limit.

A thread cannot be stopped and math-verify's signal-based timeout fails off the main
thread (PITFALLS.md), so every item runs in a pebble worker process that is killed and
replaced when the item passes its wall-clock limit. One pool lives per process and is
reused across calls, so veRL's per-step reward calls pay the start-up cost once.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Iterable, Iterator, Mapping, Sequence

from pebble import ProcessExpired, ProcessPool

from mdrl.scoring.core import DEFAULT_SETTINGS, failure, item_timeout, score_one

_POOL: ProcessPool | None = None
_POOL_SIZE = 0
_LOCK = threading.Lock()
# Recycle workers now and then: sympy and math-verify keep caches that only grow.
_MAX_TASKS_PER_WORKER = 2000


def _warm(plugins: str) -> None:
    import mdrl.domains  # import verifiers once per worker, not per item

    # a forkserver keeps the environment it started with: take the plugins the pool's
    # creator sees now, not whatever the server inherited
    mdrl.domains.load_plugins(plugins)


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def get_pool(workers: int | None = None) -> ProcessPool:
    """The shared worker pool, (re)started with ``workers`` processes."""
    global _POOL, _POOL_SIZE
    n = workers or default_workers()
    with _LOCK:
        if _POOL is None or _POOL_SIZE != n or not _POOL.active:
            if _POOL is not None:
                _POOL.stop()
                _POOL.join()
            # forkserver: workers fork from a clean server, never from a parent that holds
            # torch/Ray threads (fork after threads can deadlock).
            ctx = multiprocessing.get_context("forkserver")
            _POOL = ProcessPool(max_workers=n, max_tasks=_MAX_TASKS_PER_WORKER, initializer=_warm, initargs=(os.environ.get("MDRL_PLUGINS", ""),), context=ctx)
            _POOL_SIZE = n
        return _POOL


@atexit.register
def shutdown() -> None:
    """Stop the shared pool (also run at interpreter exit)."""
    global _POOL
    with _LOCK:
        if _POOL is not None:
            _POOL.stop()
            _POOL.join()
            _POOL = None


def score_iter(
    items: Iterable[Mapping[str, Any]],
    settings: Mapping | None = None,
    workers: int | None = None,
) -> Iterator[dict]:
    """Yield {"score", "details"} for each item, in input order, as they finish.

    Items are mappings with data_source, response, ground_truth and optional extra_info.
    ``workers=0`` scores inline in this process with no time limit (debugging only).
    """
    settings = settings or DEFAULT_SETTINGS
    if workers == 0:
        for it in items:
            yield score_one(it.get("data_source"), it.get("response"), it.get("ground_truth"), it.get("extra_info"), settings)
        return
    pool = get_pool(workers)
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
    """Schedule one item on ``pool`` under its hard wall-clock limit; returns (future, limit)."""
    limit = item_timeout(data_source, settings)
    return pool.schedule(score_one, args=(data_source, response, ground_truth, extra_info, settings), timeout=limit), limit


def collect(fut: Any, limit: float, settings: Mapping) -> dict:
    """The result of a :func:`submit` future; a timeout, dead worker or executor error scores 0."""
    try:
        return fut.result()
    except FutureTimeout:
        out = failure(f"timeout: item exceeded its {limit:g}s limit and was killed", settings)
        out["details"]["elapsed_s"] = limit
        return out
    except ProcessExpired as exc:
        return failure(f"worker process died ({exc}); item scored 0", settings)
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable ground truth
        return failure(f"executor error: {type(exc).__name__}: {str(exc)[:200]}", settings)


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
