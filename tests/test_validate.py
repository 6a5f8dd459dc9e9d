"""`mdrl prepare`/`mdrl train` refuse impossible settings in one sentence, before any work;
failed runs leave a FAILED marker and a train.log; sweep folders never nest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mdrl.jobs.validate import model_params


def mdrl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mdrl.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "override, needle",
    [
        ("mixture.sources.countdown3.size=-5", "mixture.sources.countdown3.size must be a whole number >= 1 or null, not -5"),
        ("mixture.sources.countdown3.size=abc", "mixture.sources.countdown3.size must be a whole number >= 1 or null, not 'abc'"),
        ("mixture.rows_per_study_domain=-1", "mixture.rows_per_study_domain must be a whole number >= 1"),
        ("mixture.val_rows=-1", "mixture.val_rows must be a whole number >= 1"),
        ("mixture.sources.countdown3.weight=-1", "mixture.sources.countdown3.weight must be a number >= 0, not -1"),
        ("backend=bogus", "backend must be one of auto, verl, trl, not 'bogus'"),
    ],
)
@pytest.mark.parametrize("command", [["prepare"], ["train", "dry_run=true"]])
def test_bad_settings_are_refused_in_one_sentence_before_writing(tmp_path, override, needle, command):
    run = tmp_path / "run"
    proc = mdrl(*command, override, f"hydra.run.dir={run}", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-1000:] + proc.stderr[-2000:]
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert not (run / "train.parquet").exists() and not (run / "val.parquet").exists()


def test_train_without_data_fails_with_marker_and_log(tmp_path):
    run = tmp_path / "run"
    proc = mdrl("train", "mixture=math", f"catalog.data_root={tmp_path / 'nowhere'}", f"hydra.run.dir={run}", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "data file not found" in proc.stderr and "MDRL_DATA" in proc.stderr
    assert "data file not found" in (run / "FAILED").read_text()
    assert "failed: " in (run / "train.log").read_text()


def test_dry_run_warns_about_missing_data_but_prints_the_config(tmp_path):
    proc = mdrl("train", "mixture=math", "dry_run=true", f"catalog.data_root={tmp_path / 'nowhere'}", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "warning: source dsr: data file not found" in proc.stderr
    assert "adv_estimator: grpo" in proc.stdout


def test_sweep_folders_have_no_slashes_and_failures_are_listed_without_traceback(tmp_path):
    sweep = tmp_path / "sweep"
    proc = mdrl("train", "-m", "mixture=math,countdown3_tiny", f"catalog.data_root={tmp_path}/x/y", "trl.max_steps=0", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "2 of 2 jobs failed" in proc.stderr
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [j.name.split("-", 1)[0] for j in jobs] == ["0", "1"]
    assert all("_x_y" in j.name for j in jobs)
    # settings are checked before the disk: both jobs name the bad step count
    assert all("trl.max_steps must be a whole number >= 1" in (j / "FAILED").read_text() for j in jobs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU refusal")
def test_a_7b_model_is_refused_on_cpu_before_preparing_or_downloading(tmp_path):
    run = tmp_path / "run"
    proc = mdrl("train", "model=qwen2.5-7b-base", "backend=trl", f"hydra.run.dir={run}", cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "Hugging Face id Qwen/Qwen2.5-7B" in proc.stderr and "model=tiny" in proc.stderr
    assert not (run / "data").exists()  # refused before 20k rows were prepared


def test_local_7b_directory_is_refused_by_its_size(tmp_path):
    import json

    from omegaconf import OmegaConf

    from mdrl.errors import UserError
    from mdrl.jobs.validate import check_local_model

    qwen7b = {"hidden_size": 3584, "num_hidden_layers": 28, "intermediate_size": 18944, "vocab_size": 152064,
              "num_attention_heads": 28, "num_key_value_heads": 4, "tie_word_embeddings": False}
    assert model_params(qwen7b) == pytest.approx(7.6e9, rel=0.05)  # Qwen2.5-7B's published size
    (tmp_path / "config.json").write_text(json.dumps(qwen7b))
    cfg = OmegaConf.create({"model": {"name": "local7b", "path": str(tmp_path)}})
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(UserError, match="about 7.6B parameters"):
        check_local_model(cfg, "trl")
    check_local_model(cfg, "verl")  # veRL runs where the GPUs are
