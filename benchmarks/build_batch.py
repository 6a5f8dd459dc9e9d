"""Build a mixed batch of scored-response items from the shared test files.

Half gold, half perturbed, about a fifth code, every domain present. Used by the
throughput benchmark and to refresh the sample shipped in mdrl/samples/.

    python benchmarks/build_batch.py --n 2048 --out batch.jsonl [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import random
import re
from pathlib import Path

import pyarrow.parquet as pq

from mdrl.domains.countdown_solver import solve_countdown

THINK = "<think>Let me work through this carefully.</think> "


def wrap(answer: str) -> str:
    return f"{THINK}<answer>{answer}</answer>"


def _rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def math_items(data: Path, rng: random.Random) -> list[dict]:
    out = []
    for r in _rows(data / "dcs/deepscaler/test.parquet"):
        gt = r["reward_model"]["ground_truth"]
        out.append({"data_source": r["data_source"], "ground_truth": gt, "gold": wrap(f"\\boxed{{{gt}}}"), "bad": wrap(f"\\boxed{{{gt}+1}}")})
    return out


def countdown_items(data: Path, rng: random.Random, limit: int = 300) -> list[dict]:
    out = []
    for r in _rows(data / "dcs/countdown/test.parquet")[:limit]:
        gt = {"numbers": list(r["reward_model"]["ground_truth"]["numbers"]), "target": int(r["reward_model"]["ground_truth"]["target"])}
        expr = solve_countdown(gt["numbers"], gt["target"])
        if expr:
            first = gt["numbers"][0]
            bad = re.sub(rf"\b{first}\b", str(first + 1), expr, count=1)
            out.append({"data_source": "countdown", "ground_truth": gt, "gold": wrap(expr), "bad": wrap(bad)})
    return out


def kk_items(data: Path, rng: random.Random) -> list[dict]:
    out = []
    for r in _rows(data / "dcs/kk/test.parquet"):
        gt = dict(r["reward_model"]["ground_truth"])
        sol = gt["solution_text_format"]
        bad = re.sub(r"knight|knave", lambda m: "knave" if m.group() == "knight" else "knight", sol, count=1)
        out.append({"data_source": r["data_source"], "ground_truth": gt, "gold": wrap(sol), "bad": wrap(bad)})
    return out


def lpb_items(data: Path, rng: random.Random) -> list[dict]:
    out = []
    for r in _rows(data / "dcs/zebra/test.parquet"):
        gt = r["reward_model"]["ground_truth"]
        grid = json.loads(gt)
        bad = json.loads(gt)
        house = next(iter(bad))
        cat = next(iter(bad[house]))
        bad[house][cat] = "___"
        out.append({"data_source": r["data_source"], "ground_truth": gt, "gold": wrap(json.dumps({"solution": grid})), "bad": wrap(json.dumps({"solution": bad}))})
    return out


def code_items(data: Path, rng: random.Random) -> list[dict]:
    out = []
    for r in _rows(data / "dcs/code-r1-12k/test.parquet"):
        if not r.get("completion"):
            continue
        code = r["completion"]
        # a plausible wrong program: every return value is off
        bad = re.sub(r"return (.+)", r"return None", code)
        out.append({"data_source": r["data_source"], "ground_truth": r["reward_model"]["ground_truth"],
                    "gold": wrap(f"```python\n{code}\n```"), "bad": wrap(f"```python\n{bad}\n```")})
    return out


def build(shared: Path, n: int, seed: int = 0, code_share: float = 0.2) -> list[dict]:
    """``n`` items, alternating gold and perturbed, code about ``code_share`` of them."""
    rng = random.Random(seed)
    data = shared / "data"
    pools = {"code": code_items(data, rng), "math": math_items(data, rng), "countdown": countdown_items(data, rng),
             "kk": kk_items(data, rng), "lpb": lpb_items(data, rng)}
    n_code = round(n * code_share)
    per_other = (n - n_code) // 4
    counts = {"code": n_code, "math": per_other, "countdown": per_other, "kk": per_other, "lpb": n - n_code - 3 * per_other}
    items = []
    for dom, k in counts.items():
        pool = pools[dom]
        for i in range(k):
            src = pool[rng.randrange(len(pool))]
            kind = "gold" if i % 2 == 0 else "bad"
            items.append({"id": f"{dom}-{i}", "data_source": src["data_source"], "response": src[kind],
                          "ground_truth": src["ground_truth"], "extra_info": {"expected": 1.0 if kind == "gold" else 0.0}})
    rng.shuffle(items)
    return items


def write_report(report: dict, out: Path) -> None:
    """Print a benchmark's figures and write them to ``out``.

    Runs never write into benchmarks/results/ (the committed figures quoted in notes): the
    scripts default to benchmarks/out/, which git ignores.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    print(f"figures written to {out}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shared", default=os.environ.get("MDRL_SHARED", str(Path(__file__).resolve().parents[2] / "shared")))
    args = ap.parse_args()
    items = build(Path(args.shared), args.n, args.seed)
    with open(args.out, "w") as fh:
        for it in items:
            fh.write(json.dumps(it) + "\n")
    print(f"wrote {len(items)} items to {args.out}")


if __name__ == "__main__":
    main()
