"""Reward seconds per training step through veRL's own reward path, against the hook alone.

One step of the paper's shape, 256 prompts x 8 responses = 2048 rollouts (mixed domains,
half gold and half perturbed, about a fifth code). The same batch is scored three ways in
the same run, with the worker pool started beforehand as in a training run:

* ``hook_alone``: mdrl's ``compute_score`` called directly with the reward settings as
  plain dicts (the floor: only the scoring itself);
* ``hook_as_verl_calls_it``: the function veRL's ``get_custom_reward_fn`` returns, so the
  settings arrive exactly as veRL passes them (``reward_kwargs`` copied one level deep:
  nested values are OmegaConf nodes of the whole trainer config);
* ``verl_reward_manager``: token ids decoded and scored by the reward manager the config
  selects (``load_reward_manager``), every item in flight at once as veRL's loop does.

Goal: ``verl_reward_manager`` within 1.2x of ``hook_alone``. Figures are printed and
written to ``--out`` (default ``benchmarks/out/reward_step.json``, git-ignored); the
figures quoted in notes live in ``benchmarks/results/``, which no run writes.

    python benchmarks/reward_step.py [--prompts 256] [--n 8] [--steps 2] [--reward binary] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf
from tqdm import tqdm

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


def timed(loop, label: str, coros: list) -> tuple[float, list]:
    """Run all coroutines concurrently with a progress bar; (seconds, results in order)."""
    bar = tqdm(total=len(coros), desc=label, unit="resp", dynamic_ncols=True, file=sys.stderr)

    async def one(c):
        out = await c
        bar.update()
        return out

    async def everything():
        return await asyncio.gather(*[one(c) for c in coros])

    t0 = time.perf_counter()
    out = loop.run_until_complete(everything())
    seconds = time.perf_counter() - t0
    bar.close()
    return seconds, out


def main() -> None:
    """Set up one veRL reward manager, time three ways of scoring the same batch per step, report.

    Long on purpose: a benchmark read top to bottom, every timed step beside its set-up."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--reward", default="binary")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out" / "reward_step.json"))
    ap.add_argument("--shared", default=os.environ.get("MDRL_SHARED", str(Path(__file__).resolve().parents[2] / "shared")))
    args = ap.parse_args()

    from transformers import AutoTokenizer
    from verl.trainer.ppo.reward import get_custom_reward_fn, load_reward_manager

    from mdrl.scoring.core import SETTING_KEYS
    from mdrl.scoring.verl_reward import compute_score

    print(f"building {args.prompts * args.n} rollouts ...", file=sys.stderr, flush=True)
    items = build(Path(args.shared), args.prompts * args.n)
    with tempfile.TemporaryDirectory() as tmp:
        # one scoring actor (this process) owns all cores, as the hook-alone baseline does
        cfg = compose("train", [f"run_dir={tmp}", f"reward={args.reward}", "cluster.scoring_actors=1", "cluster.gpus_per_node=1"])
        model = ensure_tiny_model(OmegaConf.to_container(cfg.model, resolve=True), [it["response"] for it in items[:512]], Path(tmp) / "model")
        vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", model)
        tokenizer = AutoTokenizer.from_pretrained(model)
        batch = rollout_batch(tokenizer, items)
        mgr = load_reward_manager(vcfg, tokenizer)
    verl_fn = get_custom_reward_fn(vcfg)  # what veRL's manager calls, settings bound as veRL binds them
    verl_kwargs = verl_fn.args[-1] if hasattr(verl_fn, "args") else {}
    plain = OmegaConf.to_container(vcfg.reward.custom_reward_function.reward_kwargs, resolve=True)
    plain_settings = {k: plain[k] for k in SETTING_KEYS if k in plain}
    plain_rest = {k: v for k, v in plain.items() if k not in SETTING_KEYS}

    get_pool(plain_rest.get("workers"))  # started outside the timed steps, as in training
    loop = mgr.loop
    # untimed warm-up: each worker's first items pay one-off lazy imports (sympy, math-verify)
    timed(loop, "warm-up", [compute_score(it["data_source"], it["response"], it["ground_truth"], {}, **plain_settings, **plain_rest) for it in items[:64]])
    figures: dict[str, list[float]] = {"hook_alone": [], "hook_as_verl_calls_it": [], "verl_reward_manager": []}
    out = []
    for step in range(args.steps):
        s, _ = timed(loop, f"step {step + 1}: hook alone", [compute_score(it["data_source"], it["response"], it["ground_truth"], {}, **plain_settings, **plain_rest) for it in items])
        figures["hook_alone"].append(s)
        s, _ = timed(loop, f"step {step + 1}: hook as veRL calls it", [verl_fn(data_source=it["data_source"], solution_str=it["response"], ground_truth=it["ground_truth"], extra_info={}) for it in items])
        figures["hook_as_verl_calls_it"].append(s)
        s, out = timed(loop, f"step {step + 1}: veRL reward manager", [mgr.run_single(batch[i: i + 1]) for i in range(len(batch))])
        figures["verl_reward_manager"].append(s)
    shutdown()
    agree = sum((o["reward_extra_info"]["acc"] >= 1.0) == (it["extra_info"]["expected"] >= 1.0) for it, o in zip(items, out))
    timeouts = sum(o["reward_extra_info"]["timeout"] > 0 for o in out)
    best = {k: min(v) for k, v in figures.items()}
    report = {
        "rollouts_per_step": len(items),
        "shape": f"{args.prompts} prompts x {args.n} responses",
        "workers": plain_rest.get("workers") or default_workers(),
        "cpu_count": os.cpu_count(),
        "reward_manager": type(mgr).__name__,
        "seconds_per_step": {k: [round(x, 2) for x in v] for k, v in figures.items()},
        "verl_manager_over_hook_alone": round(best["verl_reward_manager"] / best["hook_alone"], 3),
        "verl_kwargs_pickled_bytes": len(pickle.dumps({k: verl_kwargs[k] for k in SETTING_KEYS if k in verl_kwargs})),
        "rollouts_per_s_through_verl": round(len(items) / best["verl_reward_manager"], 1),
        "timeouts": int(timeouts),
        "agreement_with_expected": round(agree / len(items), 4),
        "goal": "verl_reward_manager within 1.2x of hook_alone on the same batch, same run",
    }
    write_report(report, Path(args.out))


if __name__ == "__main__":
    main()
