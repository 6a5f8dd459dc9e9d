"""Reward seconds per training step through veRL's own reward path.

One step of the paper's shape, 256 prompts x 8 responses = 2048 rollouts (mixed domains,
half gold and half perturbed, about a fifth code), as token ids decoded by veRL's reward
manager (``load_reward_manager`` on the config ``mdrl train`` composes) and scored by
mdrl's hook in the worker pool, all items in flight at once as veRL's reward loop does.
The pool is started before the timed steps, as it is in a training run. Writes
benchmarks/results/reward_step.json.

    python benchmarks/reward_step.py [--prompts 256] [--n 8] [--steps 2] [--reward binary]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_batch import build, write_report  # noqa: E402

from mdrl.cli import compose  # noqa: E402
from mdrl.jobs import verl_config  # noqa: E402
from mdrl.jobs.tiny_model import ensure_tiny_model  # noqa: E402
from mdrl.scoring.executor import default_workers, get_pool, shutdown  # noqa: E402


def rollout_batch(tokenizer, items: list[dict]):
    """veRL's rollout layout: one-token prompts (unused by the reward), right-padded responses."""
    from verl import DataProto

    enc = [tokenizer(it["response"], add_special_tokens=False)["input_ids"] for it in items]
    width = max(map(len, enc))
    resp = torch.full((len(items), width), tokenizer.pad_token_id)
    mask = torch.zeros((len(items), width + 1), dtype=torch.long)
    mask[:, 0] = 1
    for i, ids in enumerate(enc):
        resp[i, : len(ids)] = torch.tensor(ids)
        mask[i, 1: 1 + len(ids)] = 1
    prompts = torch.zeros((len(items), 1), dtype=torch.long)
    return DataProto.from_dict(
        tensors={"prompts": prompts, "responses": resp, "input_ids": torch.cat([prompts, resp], 1), "attention_mask": mask},
        non_tensors={
            "data_source": np.array([it["data_source"] for it in items], dtype=object),
            "reward_model": np.array([{"ground_truth": it["ground_truth"]} for it in items], dtype=object),
            "extra_info": np.array([{} for _ in items], dtype=object),
        },
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--reward", default="binary")
    ap.add_argument("--shared", default=os.environ.get("MDRL_SHARED", str(Path(__file__).resolve().parents[2] / "shared")))
    args = ap.parse_args()

    from transformers import AutoTokenizer
    from verl.trainer.ppo.reward import load_reward_manager

    items = build(Path(args.shared), args.prompts * args.n)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = compose("train", [f"run_dir={tmp}", f"reward={args.reward}"])
        model = ensure_tiny_model(OmegaConf.to_container(cfg.model, resolve=True), [it["response"] for it in items[:512]], Path(tmp) / "model")
        vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", model)
        tokenizer = AutoTokenizer.from_pretrained(model)
        batch = rollout_batch(tokenizer, items)
        mgr = load_reward_manager(vcfg, tokenizer)

    async def step():
        return await asyncio.gather(*[mgr.run_single(batch[i: i + 1]) for i in range(len(batch))])

    get_pool(None)  # started outside the timed steps, as in training
    times, cpu, agree, timeouts = [], [], 0, 0
    for _ in range(args.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        out = mgr.loop.run_until_complete(step())
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    # the same rollouts through mdrl's hook alone (no veRL manager around it), for comparison
    from mdrl.scoring.verl_reward import compute_score

    async def hook_only():
        return await asyncio.gather(*[compute_score(it["data_source"], it["response"], it["ground_truth"], {}) for it in items])

    t0 = time.perf_counter()
    mgr.loop.run_until_complete(hook_only())
    hook_s = time.perf_counter() - t0
    shutdown()
    for it, o in zip(items, out):
        agree += (o["reward_extra_info"]["acc"] >= 1.0) == (it["extra_info"]["expected"] >= 1.0)
        timeouts += o["reward_extra_info"]["timeout"] > 0
    report = {
        "rollouts_per_step": len(items),
        "shape": f"{args.prompts} prompts x {args.n} responses",
        "workers": default_workers(),
        "cpu_count": os.cpu_count(),
        "reward_manager": type(mgr).__name__,
        "seconds_per_step": [round(t, 2) for t in times],
        "trainer_process_cpu_s_per_step": [round(c, 2) for c in cpu],
        "rollouts_per_s": round(len(items) / min(times), 1),
        "hook_only_seconds": round(hook_s, 2),
        "timeouts": timeouts,
        "agreement_with_expected": round(agree / len(items), 4),
    }
    write_report("reward_step", report)


if __name__ == "__main__":
    main()
