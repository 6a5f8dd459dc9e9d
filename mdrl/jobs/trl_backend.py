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
import sys
from pathlib import Path
from typing import Any, Mapping

from mdrl.jobs import trl_curriculum
from mdrl.jobs.checkpoints import complete_trl_checkpoints
from mdrl.errors import UserError
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


def _log(msg: str) -> None:
    print(f"[mdrl] {msg}", file=sys.stderr, flush=True)


def read_metrics(path: Path) -> list[dict]:
    """The lines of a run's metrics.jsonl (empty when there is none)."""
    if not path.is_file():
        return []
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def keep_metrics(path: Path, keep) -> int:
    """Rewrite metrics.jsonl with only the lines ``keep(line)`` accepts; returns lines dropped.

    A resumed phase trains its lost steps again: their old lines go, so no step is
    counted twice.
    """
    lines = read_metrics(path)
    kept = [l for l in lines if keep(l)]
    if len(kept) != len(lines):
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(l) + "\n" for l in kept))
        tmp.replace(path)
    return len(lines) - len(kept)


def headline(logs: Mapping, domain_logs: Mapping) -> str:
    """The few numbers worth reading each step: reward, then accuracy and format rate per source."""
    parts: list[str] = []
    if "reward" not in logs and "loss" not in logs:
        return ""  # an end-of-training summary, not a step
    if "reward" in logs:
        parts.append(f"reward {float(logs['reward']):+.3f}")
    elif "loss" in logs:
        parts.append(f"loss {float(logs['loss']):.3f}")
    sources = sorted({k.split("/")[1] for k in domain_logs if k.count("/") == 2 and "/all/" not in k})
    for src in sources:
        acc, fmt = domain_logs.get(f"reward/{src}/accuracy"), domain_logs.get(f"reward/{src}/format_rate")
        if acc is not None:
            parts.append(f"{src} acc {acc:.2f} fmt {fmt:.2f}")
    return " | ".join(parts)


class _Console:
    """A progress bar (step/total/ETA) with the headline metrics, instead of raw log dicts."""

    def __init__(self, desc: str, reward: TRLReward | None) -> None:
        self.desc, self.reward, self.bar = desc, reward, None

    def callback(self):
        from tqdm import tqdm
        from transformers import TrainerCallback

        outer = self

        class CB(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                outer.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=outer.desc, unit="step",
                                 dynamic_ncols=True, file=sys.stderr)

            def on_step_end(self, args, state, control, **kwargs):
                if outer.bar is not None:
                    outer.bar.update(state.global_step - outer.bar.n)

            def on_log(self, args, state, control, logs=None, **kwargs):
                if outer.bar is None or not logs:
                    return
                if any(k.startswith("val/") for k in logs):
                    outer.bar.write(f"[mdrl] step {state.global_step}/{state.max_steps} validation: {val_headline(logs)}", file=sys.stderr)
                    return
                text = headline(logs, outer.reward.last_metrics if outer.reward is not None else {})
                if text:
                    outer.bar.set_postfix_str(text, refresh=True)

            def on_train_end(self, args, state, control, **kwargs):
                if outer.bar is not None:
                    outer.bar.close()
                    outer.bar = None

        return CB()


def val_headline(logs: Mapping) -> str:
    """Validation accuracy and format rate per source, from ``val/<source>/...`` keys."""
    sources = sorted({k.split("/")[1] for k in logs if k.startswith("val/") and k.count("/") == 2 and "/all/" not in k})
    return " | ".join(f"{s} acc {logs[f'val/{s}/accuracy']:.2f} fmt {logs[f'val/{s}/format_rate']:.2f}" for s in sources)


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
                if any(k.startswith("val/") for k in logs):
                    line = {"phase": "val", "step": state.global_step, **logs}
                else:
                    line = {"phase": outer.phase, "step": state.global_step, **logs}
                    if outer.phase == "grpo":
                        line.update(outer.reward.last_metrics)
                with outer.path.open("a") as fh:
                    fh.write(json.dumps(line, default=float) + "\n")

        return CB()


class _PerDomain:
    """Adds the last batch's per-source reward metrics to each GRPO log line.

    Put first among the callbacks, so metrics.jsonl, the console and every logger of
    ``cluster.logger`` (tensorboard, wandb) see them, as veRL's dashboards do.
    """

    def __init__(self, reward: TRLReward) -> None:
        self.reward = reward

    def callback(self):
        from transformers import TrainerCallback

        outer = self

        class CB(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                if logs is not None and "reward" in logs:
                    logs.update(outer.reward.last_metrics)

        return CB()


class Validator:
    """Greedy answers to val.parquet, scored per source, at GRPO's start, every N steps and end.

    One greedy completion per prompt, as veRL's validation does by default, so the numbers
    are comparable across backends. They go through ``trainer.log`` (model in eval mode,
    so GRPOTrainer's training metrics are untouched) and so reach metrics.jsonl, the
    console and every logger of ``cluster.logger``.
    """

    def __init__(self, rows: list[dict], settings: Mapping, workers: int | None, every: int, max_new_tokens: int, batch: int = 32) -> None:
        self.rows, self.settings, self.workers = rows, settings, workers
        self.every, self.max_new_tokens, self.batch = every, max_new_tokens, batch
        self.trainer = None
        self.last_step = -1

    def evaluate(self, model, tokenizer) -> dict[str, float]:
        """Per-source val metrics (``val/<source>/score|accuracy|format_rate``) of ``model`` now."""
        import torch

        from mdrl.scoring import score_batch
        from mdrl.scoring.metrics import domain_metrics

        side, tokenizer.padding_side = tokenizer.padding_side, "left"  # generation continues the prompt
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        texts = []
        for r in self.rows:
            p = _prompt(r)
            texts.append(p if isinstance(p, str) else tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False))
        completions: list[str] = []
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                for i in range(0, len(texts), self.batch):
                    enc = tokenizer(texts[i : i + self.batch], return_tensors="pt", padding=True).to(model.device)
                    out = model.generate(**enc, max_new_tokens=self.max_new_tokens, do_sample=False, pad_token_id=pad)
                    completions += tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        finally:
            tokenizer.padding_side = side
            model.train(was_training)
        items = [
            {"data_source": r["data_source"], "response": c, "ground_truth": r["reward_model"]["ground_truth"], "extra_info": r["extra_info"]}
            for r, c in zip(self.rows, completions)
        ]
        results = score_batch(items, self.settings, self.workers)
        return domain_metrics([r["data_source"] for r in self.rows], results, prefix="val")

    def run(self, step: int) -> None:
        """Validate now and log the metrics through the trainer (once per step)."""
        if self.trainer is None or step == self.last_step:
            return
        self.last_step = step
        model = self.trainer.model
        metrics = self.evaluate(model, self.trainer.processing_class)
        was_training = model.training
        model.eval()  # GRPOTrainer.log then adds only its (empty) eval buffer
        try:
            self.trainer.log(dict(metrics))
        finally:
            model.train(was_training)

    def callback(self):
        from transformers import TrainerCallback

        outer = self

        class CB(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                outer.run(state.global_step)

            def on_step_end(self, args, state, control, **kwargs):
                if state.global_step >= state.max_steps or (outer.every and state.global_step % outer.every == 0):
                    # trainer.log clears should_log, which would drop this step's training line
                    should_log = control.should_log
                    outer.run(state.global_step)
                    control.should_log = should_log

        return CB()


def _hush_library_bars() -> None:
    """No per-dataset-map and weight-loading bars: mdrl's own phase bars say what runs."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()


def _quiet(trainer) -> None:
    """Drop the trainer's raw-dict printer and its own bar: _Console shows progress instead."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def report_to(loggers: Any) -> list[str]:
    """TRL's report_to from ``cluster.logger`` (console is mdrl's own progress bar)."""
    import importlib.util

    out = []
    for name in list(loggers or []):
        if name == "console":
            continue
        if name not in ("tensorboard", "wandb"):
            raise UserError(f"cluster.logger {name!r} is not supported by the TRL backend (choose from console, tensorboard, wandb)")
        if importlib.util.find_spec(name) is None:
            raise UserError(f"cluster.logger includes {name} but the {name} package is not installed (pip install {name})")
        out.append(name)
    return out


class _SaveAtEnd:
    """Ask the trainer for a full checkpoint at the last step, so a later, longer run continues from it."""

    def callback(self):
        from transformers import TrainerCallback

        class CB(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                if state.global_step >= state.max_steps:
                    control.should_save = True

        return CB()


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
    tcfg, algo, cluster = cfg["trl"], cfg["algorithm"], cfg.get("cluster") or {}
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
    rows = _rows(train_file)
    domains = [r["extra_info"]["domain"] for r in rows]
    reward = TRLReward(settings, workers=tcfg.get("reward_workers"))
    if int(tcfg.get("sft_steps") or 0) > 0:
        model_path = sft_warmup(model_path, rows, domains, out, tcfg, reward, report)

    ckpts = complete_trl_checkpoints(out / "grpo")  # a checkpoint cut short by a kill is passed over
    last = ckpts[-1] if ckpts else None
    for partial in sorted((out / "grpo").glob("checkpoint-*")):
        if partial not in ckpts and (last is None or _ckpt_step(partial) > _ckpt_step(last)):
            _log(f"removing {partial.name}: the run stopped while writing it")
            shutil.rmtree(partial, ignore_errors=True)
    k = _ckpt_step(last) if last else 0
    stopped = max((int(l["step"]) for l in read_metrics(metrics) if l.get("phase") == "grpo"), default=0)
    if last and done:
        _log(f"continuing the finished run from step {k} to trl.max_steps={max_steps}")
    elif last:
        again = f" (steps {k + 1}-{stopped} are trained again)" if stopped > k else ""
        _log(f"resuming GRPO: the run stopped at step {stopped} of {max_steps}; continuing from checkpoint-{k}{again}")
    elif stopped:
        _log(f"restarting GRPO from step 0: the run stopped at step {stopped}, before its first checkpoint")
    # lines of steps that will be trained again go, so no step is counted twice; validation
    # at the resumed step is redone at the start
    keep_metrics(metrics, lambda l: (l.get("phase") != "grpo" or int(l.get("step", 0)) <= k) and (l.get("phase") != "val" or int(l.get("step", 0)) < k))
    done_file.unlink(missing_ok=True)

    os.environ["TENSORBOARD_LOGGING_DIR"] = str(out / "tensorboard" / "grpo")
    trainer = grpo_trainer(cfg, model_path, rows, reward, out, report, cluster.get("experiment"))
    args = trainer.args
    _quiet(trainer)
    trainer.callback_handler.callbacks.insert(0, _PerDomain(reward).callback())
    trainer.add_callback(_MetricsLog(metrics, reward, "grpo").callback())
    trainer.add_callback(_Console("GRPO", reward).callback())
    trainer.add_callback(_SaveAtEnd().callback())
    trainer.add_callback(trl_curriculum.start_record_callback(out / "grpo_start.json", trainer))
    if val_file:
        validator = Validator(_rows(val_file), settings, tcfg.get("reward_workers"), int(tcfg.get("eval_every") or 0), int(tcfg["max_completion_length"]))
        validator.trainer = trainer
        trainer.add_callback(validator.callback())
    # a staged chain without policy refresh continues the previous stage's optimizer state
    if tcfg.get("resume_from"):
        args.ignore_data_skip = True  # its step count includes the previous stage's: start at this stage's first row
    carried = tcfg.get("resume_from") if not last else None
    trainer.train(resume_from_checkpoint=carried or (str(last) if last else None))
    trainer.save_model(str(final))
    trainer.processing_class.save_pretrained(str(final))
    done_file.write_text(json.dumps({"global_step": trainer.state.global_step, "max_steps": max_steps}))
    return summarize(metrics, final)


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
