"""The local backend: TRL's GRPOTrainer on the prepared data, for CPU or a single GPU.

veRL 0.9 rolls out only through vLLM/SGLang/TRT-LLM, so it cannot train on a CPU. This
backend runs the same experiment (same parquet, templates and reward entry) through
TRL instead; it never implements an RL loop of its own.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

from mdrl.jobs import trl_curriculum
from mdrl.jobs.warmup import gold_response
from mdrl.scoring.trl_reward import TRLReward


def _rows(parquet: str) -> list[dict]:
    import pandas as pd

    return pd.read_parquet(parquet).to_dict("records")


def _prompt(row: dict) -> Any:
    info = row["extra_info"]
    raw = info.get("raw_prompt")
    # raw templates go to the model as plain text; chat templates as messages for TRL to render
    return raw if raw else [dict(m) for m in row["prompt"]]


def to_dataset(rows: list[dict]):
    """A datasets.Dataset with TRL's prompt column plus what the reward function reads."""
    import datasets

    return datasets.Dataset.from_list(
        [
            {
                "prompt": _prompt(r),
                "data_source": r["data_source"],
                "ground_truth": r["reward_model"]["ground_truth"],
                "extra_info": json.dumps(r["extra_info"], default=str),
            }
            for r in rows
        ]
    )


def _device_kwargs() -> dict:
    import torch

    return {"use_cpu": not torch.cuda.is_available(), "bf16": bool(torch.cuda.is_available())}


def _cpu_threads() -> None:
    """On CPU, leave half the cores to the reward workers.

    Measured here on 2 cores: generation of 64x24 tokens took 0.45 s with one torch
    thread and 8.5 s with two while other processes competed for the cores.
    """
    import torch

    if not torch.cuda.is_available():
        from mdrl.scoring.executor import default_workers

        torch.set_num_threads(max(1, default_workers() // 2))


class _MetricsLog:
    """Appends every trainer log line (plus per-domain reward metrics) to metrics.jsonl."""

    def __init__(self, path: Path, reward: TRLReward, phase: str) -> None:
        self.path, self.reward, self.phase = path, reward, phase

    def callback(self):
        from transformers import TrainerCallback

        outer = self

        class CB(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                if not logs:
                    return
                line = {"phase": outer.phase, "step": state.global_step, **logs}
                if outer.phase == "grpo":
                    line.update(outer.reward.last_metrics)
                with outer.path.open("a") as fh:
                    fh.write(json.dumps(line, default=float) + "\n")

        return CB()


def sft_warmup(model_path: str, rows: list[dict], domains: list[str], out_dir: Path, tcfg: Mapping, reward: TRLReward) -> str:
    """A brief SFT on gold well-formed responses; returns the warmed model's path."""
    from trl import SFTConfig, SFTTrainer

    done = out_dir / "sft_final"
    if (done / "config.json").is_file():
        return str(done)  # resumed run
    examples = []
    for row, dom in zip(rows, domains):
        completion = gold_response(dom, row)
        prompt = row["extra_info"].get("raw_prompt")
        if completion and prompt:
            examples.append({"prompt": prompt, "completion": completion})
    if not examples:
        return model_path
    import datasets

    args = SFTConfig(
        output_dir=str(out_dir / "sft"),
        max_steps=int(tcfg["sft_steps"]),
        learning_rate=float(tcfg["sft_learning_rate"]),
        per_device_train_batch_size=int(tcfg["sft_batch_size"]),
        logging_steps=max(1, int(tcfg["sft_steps"]) // 10),
        save_strategy="no",
        report_to="none",
        seed=int(tcfg.get("seed", 0)),
        disable_tqdm=True,
        **_device_kwargs(),
    )
    trainer = SFTTrainer(model=model_path, args=args, train_dataset=datasets.Dataset.from_list(examples))
    trainer.add_callback(_MetricsLog(out_dir / "metrics.jsonl", reward, "sft").callback())
    trainer.train()
    trainer.save_model(str(done))
    trainer.processing_class.save_pretrained(str(done))
    return str(done)


def grpo_config(tcfg: Mapping, algo: Mapping, out_dir: Path):
    """TRL GRPOConfig from the local-backend settings and the algorithm file."""
    from trl import GRPOConfig

    n = int(tcfg.get("num_generations") or algo["rollout_n"])
    batch = int(tcfg["prompts_per_step"]) * n
    kwargs: dict[str, Any] = dict(
        output_dir=str(out_dir / "grpo"),
        max_steps=int(tcfg["max_steps"]),
        learning_rate=float(tcfg["learning_rate"]),
        per_device_train_batch_size=batch,
        num_generations=n,
        max_completion_length=int(tcfg["max_completion_length"]),
        temperature=float(tcfg.get("temperature") or algo.get("temperature") or 1.0),
        beta=float(algo["kl_loss_coef"]) if algo.get("use_kl_loss") else 0.0,
        epsilon=float(algo.get("clip_ratio_low") or algo.get("clip_ratio", 0.2)),
        epsilon_high=float(algo.get("clip_ratio_high") or algo.get("clip_ratio", 0.2)),
        loss_type=str(tcfg.get("loss_type", "dapo")),
        scale_rewards=str(tcfg.get("scale_rewards", "group")),
        logging_steps=1,
        save_steps=int(tcfg["save_steps"]),
        save_total_limit=2,
        report_to="none",
        seed=int(tcfg.get("seed", 0)),
        disable_tqdm=True,
        gradient_checkpointing=False,
        **_device_kwargs(),
    )
    return GRPOConfig(**kwargs)


def train_trl(cfg: Mapping, model_path: str, train_file: str, run_dir: Path, settings: Mapping) -> dict:
    """Run SFT warm-up (optional) then GRPO; returns a summary with the reward it reached."""
    tcfg, algo = cfg["trl"], cfg["algorithm"]
    _cpu_threads()
    rows = _rows(train_file)
    domains = [r["extra_info"]["domain"] for r in rows]
    reward = TRLReward(settings, workers=tcfg.get("reward_workers"))
    out = run_dir / "trl"
    out.mkdir(parents=True, exist_ok=True)
    if int(tcfg.get("sft_steps") or 0) > 0:
        model_path = sft_warmup(model_path, rows, domains, out, tcfg, reward)
    args = grpo_config(tcfg, algo, out)
    # curricula: ordered/adaptive draw order (TRL shuffles unless told not to), see trl_curriculum
    trainer_cls, reward_fn, args.shuffle_dataset = trl_curriculum.apply(cfg, rows, reward, out)
    trainer = trainer_cls(model=model_path, reward_funcs=[reward_fn], args=args, train_dataset=to_dataset(rows))
    trainer.add_callback(_MetricsLog(out / "metrics.jsonl", reward, "grpo").callback())
    trainer.add_callback(trl_curriculum.start_record_callback(out / "grpo_start.json", trainer))
    resume = any((out / "grpo").glob("checkpoint-*"))
    # a staged chain without policy refresh continues the previous stage's optimizer state
    if tcfg.get("resume_from"):
        args.ignore_data_skip = True  # its step count includes the previous stage's: start at this stage's first row
    carried = tcfg.get("resume_from") if not resume else None
    trainer.train(resume_from_checkpoint=carried or (True if resume else None))
    final = out / "final"
    trainer.save_model(str(final))
    trainer.processing_class.save_pretrained(str(final))
    return summarize(out / "metrics.jsonl", final)


def summarize(metrics_file: Path, final: Path) -> dict:
    """Reward at the start and end of GRPO, read back from metrics.jsonl."""
    lines = [json.loads(l) for l in metrics_file.read_text().splitlines() if l.strip()]
    grpo = [l for l in lines if l.get("phase") == "grpo" and "reward" in l]
    k = max(1, math.ceil(len(grpo) / 5))

    def ends(key: str) -> tuple[float | None, float | None]:
        vals = [float(l[key]) for l in grpo if key in l]
        return (sum(vals[:k]) / len(vals[:k]), sum(vals[-k:]) / len(vals[-k:])) if vals else (None, None)

    out = {"checkpoint": str(final), "metrics": str(metrics_file), "grpo_steps": len(grpo)}
    # means over the first and last fifth of the GRPO steps
    for name, key in (("reward", "reward"), ("format_rate", "reward/all/format_rate"), ("accuracy", "reward/all/accuracy")):
        out[f"{name}_first_steps"], out[f"{name}_last_steps"] = ends(key)
    return out
