"""Latency of the verifiers on hostile input, and of the executor with hanging items.

The unit tests check that hostile answers score 0 and that hangs are cut; how fast that
happens depends on the machine's load, so it is measured here instead of asserted there.
Reports, per case, the worst and median seconds over ``--repeat`` runs, and a verdict
against the budget each case is meant to stay within (the figures the tests once asserted):

- CountDown attacks (exponent towers, deep nesting, huge literals): < 1 s each
- Knights-and-knaves and LPB fuzz-like answers: < 0.5 s / < 1 s each
- LPB generation at 5 houses x 4 categories: < 0.5 s per puzzle
- math "dangerous" expressions in a worker: < 5 s each
- a batch of 6 items with two 1 s hangs on 2 workers: < 10 s

Writes JSON to --out (default benchmarks/out/adversarial_latency.json, git-ignored) and
prints a table; it never writes tracked files.

    python benchmarks/adversarial_latency.py [--repeat 3] [--only countdown,kk,lpb,math,executor] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/ holds the adversarial cases and the slow test domain


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def countdown_cases() -> list[tuple[str, Callable[[], object], float]]:
    from mdrl.domains import countdown as cd

    attacks = ["2**99999999", "9^9^9^9", "(" * 5000 + "1" + ")" * 5000, "1 + " * 100_000 + "2", "9" * 400, "1" * 10_000_000]
    gt = {"numbers": [1, 2], "target": 3}
    return [(f"countdown {ascii(a[:20])}", lambda a=a: cd.verify(a, gt), 1.0) for a in attacks]


def kk_cases() -> list[tuple[str, Callable[[], object], float]]:
    from mdrl.domains import kk

    gt = {"solution_text_format": "(1) Aurora is a knight\n(2) Logan is a knave", "statements": "()"}
    answers = ["Aurora is " * 3000 + "a knight", "(" * 5000 + "Logan" + ")" * 5000, "knight " * 20_000]
    return [(f"kk {ascii(a[:20])}", lambda a=a: kk.verify(a, gt), 0.5) for a in answers]


def lpb_cases() -> list[tuple[str, Callable[[], object], float]]:
    from mdrl.domains import lpb

    gt = json.dumps({"House 1": {"Name": "Arnold"}, "House 2": {"Name": "Eric"}})
    answers = ["{" * 150_000, '{"solution": ' + "[" * 60_000 + "]" * 60_000 + "}", '{"a": ' * 30_000 + "1" + "}" * 30_000, "{} " * 60_000]
    cases = [(f"lpb {ascii(a[:20])}", lambda a=a: lpb.verify(a, gt, {"row_order": "any"}), 1.0) for a in answers]
    cases.append(("lpb generate 1 puzzle 5x4", lambda: lpb.generate(1, seed=1, houses=5, categories=4), 0.5))
    return cases


def _math_in_worker(answer: str) -> bool:
    from mdrl.domains import math_domain as m

    return m.verify(f"\\boxed{{{answer}}}", "5").correct


def math_cases() -> list[tuple[str, Callable[[], object], float]]:
    import multiprocessing

    from tests.test_math import DANGEROUS

    pool = multiprocessing.get_context("fork").Pool(1)
    pool.apply(_math_in_worker, ("1",))  # imports warmed outside the timed region
    return [(f"math {ascii(a[:20])}", lambda a=a: pool.apply_async(_math_in_worker, (a,)).get(timeout=60), 5.0) for a in DANGEROUS]


def executor_cases() -> list[tuple[str, Callable[[], object], float]]:
    import os

    os.environ["MDRL_PLUGINS"] = "tests.plugins.slow_domain"  # the pool hands it to its workers
    import tests.plugins.slow_domain  # noqa: F401  (registers slowtest here too)
    from mdrl.scoring import score_batch, shutdown
    from mdrl.scoring.executor import get_pool

    shutdown()
    get_pool(2)
    items = [{"data_source": "slowtest", "response": f"<answer>{a}</answer>", "ground_truth": g}
             for a, g in (("hang", "x"), ("7", "7"), ("die", "x"), ("raise", "x"), ("hang", "x"), ("8", "8"))]
    return [("executor 6 items, 2 hangs of 1 s, 2 workers", lambda: score_batch(items, {"scheme": "binary"}, workers=2), 10.0)]


GROUPS = {"countdown": countdown_cases, "kk": kk_cases, "lpb": lpb_cases, "math": math_cases, "executor": executor_cases}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default=",".join(GROUPS), help=f"comma-separated groups of {', '.join(GROUPS)}")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "adversarial_latency.json"))
    args = ap.parse_args()

    rows = []
    for group in filter(None, args.only.split(",")):
        if group not in GROUPS:
            raise SystemExit(f"unknown group {group!r} (known: {', '.join(GROUPS)})")
        for name, fn, budget in GROUPS[group]():
            times = _timed(fn, args.repeat)
            rows.append({"case": name, "worst_s": round(max(times), 4), "median_s": round(statistics.median(times), 4),
                         "budget_s": budget, "within_budget": max(times) < budget})
            r = rows[-1]
            print(f"{r['case']:<50} worst {r['worst_s']:8.3f} s  median {r['median_s']:8.3f} s  budget {budget:5.1f} s  "
                  f"{'ok' if r['within_budget'] else 'OVER'}", flush=True)
    from mdrl.scoring import shutdown

    shutdown()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"repeat": args.repeat, "cases": rows}, indent=2))
    over = sum(not r["within_budget"] for r in rows)
    print(f"{len(rows)} cases, {over} over budget; wrote {out}")


if __name__ == "__main__":
    main()
