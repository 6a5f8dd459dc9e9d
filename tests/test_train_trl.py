"""The embedded default: ``mdrl train`` runs TRL's GRPOTrainer end to end on CPU (short).

Console (progress bar, no raw dicts), validation on val.parquet, cluster.logger, resume
semantics (finished runs train nothing; interrupted ones continue and say so) and the plot.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mdrl.cli import main

SHORT = ["trl.sft_steps=4", "trl.sft_batch_size=4", "trl.prompts_per_step=2", "trl.num_generations=4", "trl.max_completion_length=16",
         "trl.save_steps=1", "mixture.val_rows=8"]
cpu_only = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU default")


def _lines(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def _grpo_steps(run: Path) -> list[int]:
    return [l["step"] for l in _lines(run / "trl" / "metrics.jsonl") if l["phase"] == "grpo" and "reward" in l]


@cpu_only
def test_default_train_runs_grpo_validates_logs_plots_and_resumes(tmp_path, capsys):
    run = tmp_path / "run"
    # tensorboard is not a dependency of mdrl: check the logger where it is installed
    tb = importlib.util.find_spec("tensorboard") is not None
    logger = "cluster.logger=[console,tensorboard]" if tb else "cluster.logger=[console]"
    rc = main(["train", *SHORT, "trl.max_steps=2", "trl.eval_every=1", logger, f"hydra.run.dir={run}"])
    err = capsys.readouterr().err
    assert rc == 0, err[-2000:]
    assert "backend: trl" in err
    # a progress bar with step/total and the headline metrics, not raw log dicts
    assert "GRPO: 100%" in err and "2/2" in err and "reward " in err and "countdown acc " in err
    assert "SFT warm-up" in err and "{'loss'" not in err and "'reward':" not in err
    assert "step 0/2 validation: countdown acc" in err

    summary = json.loads((run / "summary.json").read_text())
    assert summary["backend"] == "trl" and summary["grpo_steps"] == 2
    final = run / "trl" / "final"
    assert (final / "config.json").is_file() and any(final.glob("*.safetensors"))
    assert (run / "reward_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run / "config.yaml").is_file() and (run / "data" / "manifest.json").is_file()
    if tb:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        for phase in ("sft", "grpo"):
            assert list((run / "trl" / "tensorboard" / phase).glob("events.out.tfevents.*")), f"cluster.logger=tensorboard was ignored ({phase})"
        events = EventAccumulator(str(run / "trl" / "tensorboard" / "grpo"))
        events.Reload()
        tags = events.Tags()["scalars"]
        assert any(t.endswith("val/countdown/accuracy") for t in tags) and any(t.endswith("reward/countdown/format_rate") for t in tags), tags

    lines = _lines(run / "trl" / "metrics.jsonl")
    sft = [l for l in lines if l["phase"] == "sft"]
    grpo = [l for l in lines if l["phase"] == "grpo" and "reward" in l]
    val = [l for l in lines if l["phase"] == "val"]
    assert sft and len(grpo) == 2
    for l in grpo:
        # the full dicts stay in metrics.jsonl: TRL's own keys and mdrl's per-domain ones
        assert "grad_norm" in l and "completions/mean_length" in l
        assert -0.1 - 1e-6 <= l["reward"] <= 1.1 + 1e-6
        assert 0.0 <= l["reward/countdown/format_rate"] <= 1.0
        assert l["reward/countdown/score"] == pytest.approx(l["reward"], abs=1e-4)
    # validation at the start, every step (eval_every=1) and the end, once each
    assert [l["step"] for l in val] == [0, 1, 2]
    for l in val:
        assert 0.0 <= l["val/countdown/accuracy"] <= 1.0 and 0.0 <= l["val/countdown/format_rate"] <= 1.0
        assert -0.1 - 1e-6 <= l["val/countdown/score"] <= 1.1 + 1e-6
    assert summary["val_steps"] == [0, 1, 2]

    # a finished run resumes to nothing: no extra step, same metrics, says so
    before = (run / "trl" / "metrics.jsonl").read_bytes()
    rc = main(["train", *SHORT, "trl.max_steps=2", "trl.eval_every=1", f"hydra.run.dir={run}"])
    err = capsys.readouterr().err
    assert rc == 0, err[-2000:]
    assert "already finished GRPO at step 2" in err and "GRPO:" not in err
    assert (run / "trl" / "metrics.jsonl").read_bytes() == before
    assert json.loads((run / "summary.json").read_text())["grpo_steps"] == 2

    # raising max_steps continues from the last step instead of restarting
    rc = main(["train", *SHORT, "trl.max_steps=3", "trl.eval_every=1", f"hydra.run.dir={run}"])
    err = capsys.readouterr().err
    assert rc == 0, err[-2000:]
    assert "continuing the finished run from step 2" in err
    assert _grpo_steps(run) == [1, 2, 3]
    assert [l["step"] for l in _lines(run / "trl" / "metrics.jsonl") if l["phase"] == "val"] == [0, 1, 2, 3]
    assert json.loads((run / "summary.json").read_text())["grpo_steps"] == 3


@cpu_only
def test_killed_run_resumes_where_it_stopped_and_counts_each_step_once(tmp_path):
    run = tmp_path / "run"
    args = [sys.executable, "-m", "mdrl.cli", "train", *SHORT, "trl.max_steps=6", "trl.save_steps=2", "trl.eval_every=0", f"hydra.run.dir={run}"]
    metrics = run / "trl" / "metrics.jsonl"
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline and proc.poll() is None:
            if metrics.is_file() and any(s >= 3 for s in _grpo_steps(run)):
                break
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    stopped = max(_grpo_steps(run))
    assert 3 <= stopped < 6 and not (run / "summary.json").exists()

    again = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"resuming GRPO: the run stopped at step {stopped} of 6; continuing from checkpoint-" in again.stderr
    assert _grpo_steps(run) == [1, 2, 3, 4, 5, 6]
    assert json.loads((run / "summary.json").read_text())["grpo_steps"] == 6


def test_reward_figure_puts_rates_on_their_own_axis_smooths_and_marks_sft():
    from mdrl.analysis.curves import reward_figure, smooth

    assert smooth([0.0, 1.0, 2.0, 3.0], 2) == [0.0, 0.5, 1.5, 2.5]
    lines = [{"phase": "sft", "step": s, "loss": 5.0 - s} for s in (4, 8)]
    lines += [{"phase": "grpo", "step": s, "reward": -0.1 + 0.01 * s, "reward/countdown/accuracy": 0.0, "reward/countdown/format_rate": s / 40}
              for s in range(1, 41)]
    lines += [{"phase": "val", "step": s, "val/countdown/accuracy": 0.0, "val/countdown/format_rate": s / 50} for s in (0, 20, 40)]
    fig = reward_figure(lines, "t")
    ax_r, ax_p = fig.axes
    assert ax_r.get_ylabel() == "reward" and ax_p.get_ylabel() == "rate"
    labels = [l.get_label() for l in ax_r.get_lines()]
    assert "mean reward (raw)" in labels and any(l.startswith("mean reward (moving mean") for l in labels)
    assert all("reward" not in l.get_label() or "rate" in l.get_label() for l in ax_p.get_lines() if not l.get_label().startswith("_"))
    rate_labels = [l.get_label() for l in ax_p.get_lines()]
    assert "countdown format rate (train, smoothed)" in rate_labels and "countdown format rate (validation, greedy)" in rate_labels
    lo, hi = ax_p.get_ylim()
    assert lo < 0 < 1 < hi < 1.1
    # GRPO steps follow the 8 SFT steps, which are shaded on both panels
    assert min(ax_r.get_lines()[0].get_xdata()) == 9
    for ax in (ax_r, ax_p):
        spans = [p for p in ax.patches if p.get_x() == 0]
        assert spans and spans[0].get_width() == 8


def test_a_checkpoint_cut_short_by_a_kill_is_not_resumed_from(tmp_path):
    """transformers writes trainer_state.json last: a folder without a readable one was cut
    short (the run was killed while saving) and resume must use the one before it."""
    from mdrl.jobs.checkpoints import complete_trl_checkpoints

    for step, state in ((2, '{"global_step": 2}'), (4, '{"global_step": 4}'), (6, None), (8, '{"global_st')):
        d = tmp_path / f"checkpoint-{step}"
        d.mkdir()
        (d / "config.json").write_text("{}")
        (d / "model.safetensors").write_bytes(b"w")
        if state is not None:
            (d / "trainer_state.json").write_text(state)
    (tmp_path / "checkpoint-10").mkdir()  # nothing written yet
    assert [p.name for p in complete_trl_checkpoints(tmp_path)] == ["checkpoint-2", "checkpoint-4"]
