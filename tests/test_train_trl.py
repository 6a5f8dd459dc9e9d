"""The embedded default: ``mdrl train`` runs TRL's GRPOTrainer end to end on CPU (short)."""

from __future__ import annotations

import json

import pytest
import torch

from mdrl.cli import main

SHORT = ["trl.sft_steps=4", "trl.sft_batch_size=4", "trl.prompts_per_step=2", "trl.num_generations=4", "trl.max_completion_length=16", "trl.save_steps=1"]


def _lines(path):
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU default")
def test_default_train_runs_grpo_saves_checkpoint_metrics_curve_and_resumes(tmp_path, capsys):
    run = tmp_path / "run"
    rc = main(["train", *SHORT, "trl.max_steps=2", f"hydra.run.dir={run}"])
    err = capsys.readouterr().err
    assert rc == 0, err[-2000:]
    assert "backend: trl" in err

    summary = json.loads((run / "summary.json").read_text())
    assert summary["backend"] == "trl" and summary["grpo_steps"] == 2
    final = run / "trl" / "final"
    assert (final / "config.json").is_file() and any(final.glob("*.safetensors"))
    assert (run / "reward_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (run / "config.yaml").is_file() and (run / "data" / "manifest.json").is_file()

    lines = _lines(run / "trl" / "metrics.jsonl")
    sft = [l for l in lines if l["phase"] == "sft"]
    grpo = [l for l in lines if l["phase"] == "grpo" and "reward" in l]
    assert sft and len(grpo) == 2
    for l in grpo:
        # the reward TRL logs is the mean of mdrl's per-item scores under reward=format
        assert -0.1 - 1e-6 <= l["reward"] <= 1.1 + 1e-6
        assert 0.0 <= l["reward/countdown/format_rate"] <= 1.0
        assert l["reward/countdown/score"] == pytest.approx(l["reward"], abs=1e-4)

    # a longer run in the same directory resumes from the last checkpoint instead of restarting
    rc = main(["train", *SHORT, "trl.max_steps=3", f"hydra.run.dir={run}"])
    assert rc == 0, capsys.readouterr().err[-2000:]
    grpo = [l for l in _lines(run / "trl" / "metrics.jsonl") if l["phase"] == "grpo" and "reward" in l]
    assert [l["step"] for l in grpo] == [1, 2, 3]
    assert json.loads((run / "summary.json").read_text())["grpo_steps"] == 3
