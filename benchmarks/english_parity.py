"""English parity: the verifiers of an earlier git revision against the working tree's, on English data.

The Chinese answer parsing (language=zh) must leave every English verdict as it was. This
loads the kk, lpb, countdown and math verifiers of ``--rev`` from git into a scratch folder
and scores the same English items with both: released kk/zebra/ZebraLogicBench/MATH500/AIME
golds, one perturbation of each, a table-form kk answer, generated countdown solutions and
a wrong variant, and the shipped sample responses. Prints the count of identical and
differing verdicts per domain (and each difference); writes nothing tracked.

    MDRL_SHARED=../shared python benchmarks/english_parity.py --rev a192a8a
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from tqdm import tqdm

import mdrl.domains.base as base
from mdrl.domains import countdown as cd
from mdrl.domains import domain_for_source, kk, lpb
from mdrl.domains import math_domain as mth
from mdrl.scoring.answer import extract_answer

REPO = Path(__file__).resolve().parents[1]
DOMAINS = {"kk": kk, "lpb": lpb, "countdown": cd, "math": mth}


def old_modules(rev: str, scratch: Path) -> dict:
    """The domain modules of ``rev``, imported under private names (their register() is a no-op)."""
    out = {}
    real = base.register, base.Domain
    base.register = lambda d: d  # the old modules would register their domains a second time
    base.Domain = lambda **fields: fields  # and may build it with fields the contract no longer has
    try:
        for name in DOMAINS:
            src = subprocess.run(["git", "show", f"{rev}:domains/{name}.py"], cwd=REPO, check=True,
                                 capture_output=True, text=True).stdout
            path = scratch / f"old_{name}.py"
            path.write_text(src)
            # inside the package, so the relative imports of newer revisions resolve
            spec = importlib.util.spec_from_file_location(f"mdrl.domains._old_{name}", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            out[name] = mod
    finally:
        base.register, base.Domain = real
    return out


def items(data: Path, rng: random.Random) -> list[tuple[str, str, object, dict | None]]:
    """(domain, answer, ground truth, extra_info) for the English held-out items."""
    out = []
    for r in kk.load_kk(str(data / "dcs/kk/test.parquet")):
        gt, names, ks = r["reward_model"]["ground_truth"], r["extra_info"]["names"], r["extra_info"]["knights"]
        i = rng.randrange(len(names))
        flip = [k if j != i else not k for j, k in enumerate(ks)]
        out.append(("kk", gt["solution_text_format"], gt, None))
        out.append(("kk", kk.solution_text_format(names, flip), gt, None))
        out.append(("kk", "\n".join(f"| {n} | {'Knight' if k else 'Knave'} |" for n, k in zip(names, ks)), gt, None))
    zebra = lpb.load_lpb(str(data / "dcs/zebra/test.parquet"))
    zebra += lpb.load_zebralogic(str(data / "zebralogicbench/grid_mode_test.parquet"))
    for r in zebra:
        gt = r["reward_model"]["ground_truth"]
        grid = json.loads(gt)
        out.append(("lpb", json.dumps({"solution": grid}), gt, r["extra_info"]))
        h, c = list(grid), next(iter(next(iter(grid.values()))))
        grid[h[0]][c], grid[h[1]][c] = grid[h[1]][c], grid[h[0]][c]
        out.append(("lpb", json.dumps({"solution": grid}), gt, r["extra_info"]))
    for r in cd.generate(1000, seed=7, num_count=[3, 4]):
        gt, sol = r["reward_model"]["ground_truth"], r["extra_info"]["solution"]
        out.append(("countdown", sol, gt, None))
        out.append(("countdown", sol.replace("+", "-", 1) if "+" in sol else sol + " + 1", gt, None))
    test = str(data / "dcs/deepscaler/test.parquet")
    for r in mth.load_math500(test) + mth.load_aime24(test):
        gt = r["reward_model"]["ground_truth"]
        out.append(("math", f"\\boxed{{{gt}}}", gt, None))
        out.append(("math", f"\\boxed{{{gt}+1}}", gt, None))
    for line in (REPO / "mdrl/samples/responses.jsonl").read_text().splitlines():
        s = json.loads(line)
        d = domain_for_source(s["data_source"])
        if d is not None and d.name in DOMAINS:
            out.append((d.name, extract_answer(s["response"]) or "", s["ground_truth"], s.get("extra_info")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", required=True, help="git revision whose verifiers are the reference")
    ap.add_argument("--shared", default=os.environ.get("MDRL_SHARED", str(REPO.parent / "shared")))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = old_modules(args.rev, Path(tmp))
        todo = items(Path(args.shared) / "data", random.Random(0))
        same, diff = Counter(), Counter()
        for dom, answer, gt, info in tqdm(todo, desc="verdicts"):
            a, b = old[dom].verify(answer, gt, info), DOMAINS[dom].verify(answer, gt, info)
            if (a.fraction, a.correct) == (b.fraction, b.correct):
                same[dom] += 1
            else:
                diff[dom] += 1
                print(f"DIFF {dom}: {answer[:80]!r} {a.fraction} -> {b.fraction}")
    print(json.dumps({d: {"identical": same[d], "different": diff[d]} for d in sorted(set(same) | set(diff))}))


if __name__ == "__main__":
    main()
