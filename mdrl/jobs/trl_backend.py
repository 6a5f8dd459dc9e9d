"""The local backend: TRL's GRPOTrainer on the prepared data, for CPU or a single GPU.

veRL 0.9 rolls out only through vLLM/SGLang/TRT-LLM, so it cannot train on a CPU. This
backend runs the same experiment (same parquet, templates and reward entry) through
TRL instead; it never implements an RL loop of its own.

Console: one progress bar per phase (step/total/ETA, reward and per-source accuracy and
format rate); the full log dicts go to ``trl/metrics.jsonl``. Validation: greedy answers
to ``val.parquet`` at GRPO's start, every ``trl.eval_every`` steps and at the end.
Resume: rerunning in the same run directory continues an interrupted run from its last
checkpoint (and says so); a finished run trains nothing more unless ``trl.max_steps``
is raised.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any, Mapping

from mdrl.jobs import trl_curriculum
from mdrl.jobs.checkpoints import complete_trl_checkpoints
from mdrl.jobs.trl_callbacks import (
    Validator,
    _Console,
    _hush_library_bars,
    _log,
    _MetricsLog,
    _PerDomain,
    _quiet,
    _SaveAtEnd,
    keep_metrics,
    read_metrics,
    report_to,
)
from mdrl.jobs.trl_data import read_rows, to_dataset
from mdrl.jobs.warmup import gold_response
from mdrl.scoring.trl_reward import TRLReward


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



def sft_warmup(model_path: str, rows: list[dict], domains: list[str], out_dir: Path, tcfg: Mapping, reward: TRLReward, report: list[str] | None = None) -> str:
    """A brief SFT on gold well-formed responses; returns the warmed model's path."""
    from trl import SFTConfig, SFTTrainer

    done = out_dir / "sft_final"
    if (done / "config.json").is_file():
        return str(done)  # resumed run
    # an interrupted warm-up starts over (it saves no checkpoints): forget its old lines
    keep_metrics(out_dir / "metrics.jsonl", lambda l: l.get("phase") != "sft")
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
        report_to=report or "none",
        seed=int(tcfg.get("seed", 0)),
        disable_tqdm=True,
        **_device_kwargs(),
    )
    trainer = SFTTrainer(model=model_path, args=args, train_dataset=datasets.Dataset.from_list(examples))
    _quiet(trainer)
    trainer.add_callback(_MetricsLog(out_dir / "metrics.jsonl", reward, "sft").callback())
    trainer.add_callback(_Console("SFT warm-up", None).callback())
    trainer.train()
    trainer.save_model(str(done))
    trainer.processing_class.save_pretrained(str(done))
    return str(done)


def grpo_config(tcfg: Mapping, algo: Mapping, out_dir: Path, report: list[str] | None = None, run_name: str | None = None):
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
        report_to=report or "none",
        run_name=run_name,
        seed=int(tcfg.get("seed", 0)),
        disable_tqdm=True,
        gradient_checkpointing=False,
        **_device_kwargs(),
    )
    return GRPOConfig(**kwargs)


def grpo_trainer(cfg: Mapping, model_path: str, rows: list[dict], reward, out: Path, report: list[str] | None = None, run_name: str | None = None):
    """TRL's GRPOTrainer for ``rows`` with the curriculum's draw order and reward wrapper.

    TRL shuffles the dataset unless ``shuffle_dataset=False``: an ordered or adaptive
    curriculum turns that off and hooks the sampler (see :mod:`trl_curriculum`), so the
    file's easy-to-hard order is the order the trainer draws.
    """
    args = grpo_config(cfg["trl"], cfg["algorithm"], out, report, run_name)
    trainer_cls, reward_fn, args.shuffle_dataset = trl_curriculum.apply(cfg, rows, reward, out)
    return trainer_cls(model=model_path, reward_funcs=[reward_fn], args=args, train_dataset=to_dataset(rows))


def _ckpt_step(path: Path) -> int:
    return int(path.name.rsplit("-", 1)[1])


def train_trl(cfg: Mapping, model_path: str, train_file: str, run_dir: Path, settings: Mapping, val_file: str | None = None) -> dict:
    """Run SFT warm-up (optional) then GRPO; returns a summary with the reward it reached."""
    tcfg, cluster = cfg["trl"], cfg.get("cluster") or {}
    out = run_dir / "trl"
    out.mkdir(parents=True, exist_ok=True)
    metrics, done_file, final = out / "metrics.jsonl", out / "done.json", out / "final"
    max_steps = int(tcfg["max_steps"])
    done = json.loads(done_file.read_text()) if done_file.is_file() else None
    if done and done["global_step"] >= max_steps and (final / "config.json").is_file():
        _log(f"this run already finished GRPO at step {done['global_step']}; nothing to train "
             f"(raise trl.max_steps above {done['global_step']} to continue it, or start a new run dir)")
        return {**summarize(metrics, final), "resumed": "already finished"}

    _hush_library_bars()
    report = report_to(cluster.get("logger"))
    # tensorboard event files go under the run, one folder per phase (transformers reads
    # this variable; logging_dir is deprecated)
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(out / "tensorboard" / "sft")
    if "wandb" in report:
        os.environ.setdefault("WANDB_PROJECT", str(cluster.get("project") or "mdrl"))
    _cpu_threads()
    rows = read_rows(train_file)
    domains = [r["extra_info"]["domain"] for r in rows]
    reward = TRLReward(settings, workers=tcfg.get("reward_workers"))
    if int(tcfg.get("sft_steps") or 0) > 0:
        model_path = sft_warmup(model_path, rows, domains, out, tcfg, reward, report)

    last = _resume_point(out, metrics, max_steps, bool(done))
    done_file.unlink(missing_ok=True)

    os.environ["TENSORBOARD_LOGGING_DIR"] = str(out / "tensorboard" / "grpo")
    trainer = grpo_trainer(cfg, model_path, rows, reward, out, report, cluster.get("experiment"))
    args = trainer.args
    _add_callbacks(trainer, reward, metrics, out, settings, tcfg, val_file)
    # a staged chain without policy refresh continues the previous stage's optimizer state
    if tcfg.get("resume_from"):
        args.ignore_data_skip = True  # its step count includes the previous stage's: start at this stage's first row
    carried = tcfg.get("resume_from") if not last else None
    trainer.train(resume_from_checkpoint=carried or (str(last) if last else None))
    trainer.save_model(str(final))
    trainer.processing_class.save_pretrained(str(final))
    done_file.write_text(json.dumps({"global_step": trainer.state.global_step, "max_steps": max_steps}))
    return summarize(metrics, final)


def _resume_point(out: Path, metrics: Path, max_steps: int, finished: bool) -> Path | None:
    """The GRPO checkpoint to continue from (None: start at step 0), said in one log line.

    A checkpoint cut short by a kill is removed; metrics lines of steps that will be
    trained again go, so no step is counted twice, and validation at the resumed step is
    redone at the start.
    """
    ckpts = complete_trl_checkpoints(out / "grpo")
    last = ckpts[-1] if ckpts else None
    for partial in sorted((out / "grpo").glob("checkpoint-*")):
        if partial not in ckpts and (last is None or _ckpt_step(partial) > _ckpt_step(last)):
            _log(f"removing {partial.name}: the run stopped while writing it")
            shutil.rmtree(partial, ignore_errors=True)
    k = _ckpt_step(last) if last else 0
    stopped = max((int(l["step"]) for l in read_metrics(metrics) if l.get("phase") == "grpo"), default=0)
    if last and finished:
        _log(f"continuing the finished run from step {k} to trl.max_steps={max_steps}")
    elif last:
        again = f" (steps {k + 1}-{stopped} are trained again)" if stopped > k else ""
        _log(f"resuming GRPO: the run stopped at step {stopped} of {max_steps}; continuing from checkpoint-{k}{again}")
    elif stopped:
        _log(f"restarting GRPO from step 0: the run stopped at step {stopped}, before its first checkpoint")
    keep_metrics(metrics, lambda l: (l.get("phase") != "grpo" or int(l.get("step", 0)) <= k) and (l.get("phase") != "val" or int(l.get("step", 0)) < k))
    return last


def _add_callbacks(trainer, reward: TRLReward, metrics: Path, out: Path, settings: Mapping, tcfg: Mapping, val_file: str | None) -> None:
    """mdrl's console, metrics log, last-step save, curriculum record and validation on ``trainer``."""
    _quiet(trainer)
    trainer.callback_handler.callbacks.insert(0, _PerDomain(reward).callback())
    trainer.add_callback(_MetricsLog(metrics, reward, "grpo").callback())
    trainer.add_callback(_Console("GRPO", reward).callback())
    trainer.add_callback(_SaveAtEnd().callback())
    trainer.add_callback(trl_curriculum.start_record_callback(out / "grpo_start.json", trainer))
    if val_file:
        validator = Validator(read_rows(val_file), settings, tcfg.get("reward_workers"), int(tcfg.get("eval_every") or 0), int(tcfg["max_completion_length"]))
        validator.trainer = trainer
        trainer.add_callback(validator.callback())


def summarize(metrics_file: Path, final: Path) -> dict:
    """Reward at the start and end of GRPO, read back from metrics.jsonl."""
    lines = read_metrics(metrics_file)
    grpo = [l for l in lines if l.get("phase") == "grpo" and "reward" in l]
    k = max(1, math.ceil(len(grpo) / 5))

    def ends(key: str) -> tuple[float | None, float | None]:
        vals = [float(l[key]) for l in grpo if key in l]
        return (sum(vals[:k]) / len(vals[:k]), sum(vals[-k:]) / len(vals[-k:])) if vals else (None, None)

    out = {"checkpoint": str(final), "metrics": str(metrics_file), "grpo_steps": len(grpo)}
    # means over the first and last fifth of the GRPO steps
    for name, key in (("reward", "reward"), ("format_rate", "reward/all/format_rate"), ("accuracy", "reward/all/accuracy")):
        out[f"{name}_first_steps"], out[f"{name}_last_steps"] = ends(key)
    val = [l for l in lines if l.get("phase") == "val"]
    if val:
        # greedy validation at GRPO's first and last validated step
        out["val_steps"] = [l["step"] for l in val]
        for name in ("accuracy", "format_rate", "score"):
            out[f"val_{name}_first"], out[f"val_{name}_last"] = val[0].get(f"val/all/{name}"), val[-1].get(f"val/all/{name}")
    return out
