"""What the TRL backend shows and keeps while it trains: the console's phase bars, the
metrics.jsonl log (with per-source reward numbers), greedy validation, and the last-step
checkpoint. Each is a transformers TrainerCallback added by :mod:`mdrl.jobs.trl_backend`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Mapping

from mdrl.errors import UserError
from mdrl.jobs.trl_data import prompt_of
from mdrl.scoring.trl_reward import TRLReward


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
            p = prompt_of(r)
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

