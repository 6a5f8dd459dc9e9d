"""Scoring throughput: a mixed batch of 2048 responses on all cores.

Reports responses/s, the slowest item against its limit, timeouts, and agreement with
the expected gold/perturbed labels. Writes --out (default benchmarks/out/score_throughput.json,
git-ignored); benchmarks/results/ holds the committed figures and is never written by a run.

    python benchmarks/score_throughput.py [--n 2048] [--workers N] [--reward binary] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_batch import build, write_report  # noqa: E402

from mdrl.cli import compose  # noqa: E402
from mdrl.scoring import score_batch, shutdown  # noqa: E402
from mdrl.scoring.core import item_timeout  # noqa: E402
from mdrl.scoring.executor import default_workers, get_pool  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--reward", default="binary")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "score_throughput.json"))
    ap.add_argument("--shared", default=os.environ.get("MDRL_SHARED", str(Path(__file__).resolve().parents[2] / "shared")))
    args = ap.parse_args()

    settings = __import__("omegaconf").OmegaConf.to_container(
        compose("score", [f"reward={args.reward}", "input=x", "output=y"]).reward, resolve=True
    )
    print(f"building a mixed batch of {args.n} responses from {args.shared} ...", flush=True)
    items = build(Path(args.shared), args.n)
    workers = args.workers or default_workers()
    print(f"starting {workers} scoring workers ...", flush=True)
    get_pool(workers)  # start workers outside the timed region, as in a training run
    t0 = time.perf_counter()
    results = score_batch(items, settings, workers, progress=True, desc="benchmark")
    wall = time.perf_counter() - t0
    shutdown()

    per_dom: dict[str, list[float]] = defaultdict(list)
    over_limit, agree, timeouts = 0, 0, 0
    slowest = (0.0, None)
    for it, res in zip(items, results):
        dom = it["id"].split("-")[0]
        el = float(res["details"].get("elapsed_s", 0.0))
        per_dom[dom].append(el)
        limit = item_timeout(it["data_source"], settings)
        over_limit += el > limit + 1
        timeouts += "timeout" in str(res["details"].get("reason", ""))
        agree += (res["score"] >= 1.0) == (it["extra_info"]["expected"] >= 1.0)
        if el > slowest[0]:
            slowest = (el, it["id"])
    report = {
        "items": len(items),
        "workers": workers,
        "cpu_count": os.cpu_count(),
        "wall_s": round(wall, 2),
        "responses_per_s": round(len(items) / wall, 1),
        "slowest_item_s": round(slowest[0], 3),
        "slowest_item": slowest[1],
        "items_over_limit_plus_1s": over_limit,
        "timeouts": timeouts,
        "agreement_with_expected": round(agree / len(items), 4),
        "per_domain": {d: {"n": len(v), "mean_s": round(statistics.mean(v), 4), "max_s": round(max(v), 3)} for d, v in sorted(per_dom.items())},
        "goal": "2048 responses under 60 s on 2 cores, no item over its limit + 1 s",
        "settings": {"n": args.n, "reward": args.reward, "workers": workers, "code": settings.get("domains", {}).get("code")},
    }
    write_report(report, Path(args.out))


if __name__ == "__main__":
    main()
