"""Staged curricula as a chain of jobs: veRL-shaped run folders (a stand-in launcher writes
global_step_N/actor/huggingface with weights), resume at the unfinished stage, mixture
schedules, the dry run, and a real two-stage TRL run on the tiny model with and without
policy refresh."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from omegaconf import OmegaConf

from mdrl.cli import compose, main
from mdrl.curricula import stage_plan
from mdrl.errors import UserError
from mdrl.jobs import stages, verl_config
from mdrl.jobs.prepare import prepare

# the fake base model has no tokenizer: the length filter is tested in test_mixtures.py
SMALL = ["mixture.sources.countdown3.size=16", "mixture.val_rows=4", "algorithm.train_batch_size=4", "algorithm.ppo_mini_batch_size=4",
         "cluster.gpus_per_node=1", "mixture.filter_overlong=false"]


def _cfg(run_dir: Path, model: Path, *overrides: str):
    return compose("train", [f"run_dir={run_dir}", f"model.path={model}", "curriculum=easy_to_hard", "curriculum.stages=2", *SMALL, *overrides])


class FakeVerl:
    """Stands in for one veRL job: builds and validates the stage's veRL config, prepares its
    data like `mdrl train`, and writes checkpoints shaped like veRL's (HF weights under
    global_step_N/actor/huggingface). ``fail_at`` makes that stage crash once."""

    def __init__(self, steps: int = 3, fail_at: int | None = None, weights: bool = True):
        self.calls: list = []
        self.steps, self.fail_at, self.weights = steps, fail_at, weights

    def __call__(self, scfg) -> dict:
        sdir = Path(scfg.run_dir)
        manifest = prepare(scfg, sdir / "data")
        vcfg = verl_config.build(scfg, manifest["train_files"], manifest["val_file"], str(scfg.model.path))
        verl_config.validate(vcfg)
        self.calls.append((scfg, vcfg, manifest))
        index = scfg.curriculum.stage.index
        if self.fail_at == index:
            self.fail_at = None
            raise RuntimeError("veRL died")
        start = int(vcfg.trainer.get("total_training_steps") or self.steps) - self.steps
        for step in range(start + 1, start + self.steps + 1):
            hf = sdir / "checkpoints" / f"global_step_{step}" / "actor" / "huggingface"
            hf.mkdir(parents=True)
            (hf / "config.json").write_text("{}")
            if self.weights:
                (hf / "model.safetensors").write_text(f"weights of stage {index} step {step}")
        return {"stage": int(index)}


@pytest.fixture
def base_model(tmp_path) -> Path:
    p = tmp_path / "base"
    p.mkdir()
    (p / "config.json").write_text("{}")
    return p


def test_verl_chain_starts_each_stage_from_the_previous_final_weights_and_resumes(tmp_path, base_model):
    run = tmp_path / "run"
    fake = FakeVerl(fail_at=1)
    with pytest.raises(RuntimeError, match="veRL died"):
        stages.run_chain(_cfg(run, base_model), fake, "verl")
    assert (run / "stages" / "0-part0" / "stage_done.json").is_file() and not (run / "stages" / "1-part1" / "stage_done.json").exists()
    record = stages.run_chain(_cfg(run, base_model), fake, "verl")  # the same command again
    assert [c[0].curriculum.stage.index for c in fake.calls] == [0, 1, 1]  # stage 0 was not rerun
    s0, s1 = (run / "stages" / "0-part0"), (run / "stages" / "1-part1")
    first, _, m0 = fake.calls[0]
    _, v1, m1 = fake.calls[2]
    assert first.model.path == str(base_model)
    # policy refresh: stage 1 is a new veRL job from stage 0's final HF weights (veRL's reference
    # model is built from the same path, its optimizer starts empty)
    assert v1.actor_rollout_ref.model.path == str(s0 / "final_model")
    assert (s0 / "final_model").resolve() == (s0 / "checkpoints" / "global_step_3" / "actor" / "huggingface").resolve()
    assert "hf_model" in v1.actor_rollout_ref.actor.checkpoint.save_contents
    assert not (s1 / "checkpoints" / "global_step_1" / "actor").is_symlink()  # its own, from step 1
    assert record["final_model"] == str(s1 / "final_model") and record["policy_refresh"] is True
    assert json.loads((run / "chain.json").read_text())["stages"][1]["last_checkpoint"].endswith("global_step_3")
    # the two stages hold the two halves of the easy-to-hard order, each prepared in its own folder
    assert m0["curriculum"]["stages"] == [8] and m1["curriculum"]["stages"] == [8]
    rows0 = pd.read_parquet(m0["train_files"][0])["extra_info"].map(lambda x: x["index"])
    rows1 = pd.read_parquet(m1["train_files"][0])["extra_info"].map(lambda x: x["index"])
    assert not set(rows0) & set(rows1)


def test_verl_chain_without_refresh_carries_optimizer_and_reference(tmp_path, base_model):
    run = tmp_path / "run"
    fake = FakeVerl()
    stages.run_chain(_cfg(run, base_model, "curriculum.policy_refresh=false"), fake, "verl")
    _, v1, _ = fake.calls[1]
    s0, s1 = (run / "stages" / "0-part0"), (run / "stages" / "1-part1")
    # the reference is built from the first model; actor weights and optimizer resume from
    # stage 0's last checkpoint, seeded without its data.pt so the new rows start at the first
    assert v1.actor_rollout_ref.model.path == str(base_model)
    seeded = s1 / "checkpoints" / "global_step_3" / "actor"
    assert seeded.is_symlink() and seeded.resolve() == (s0 / "checkpoints" / "global_step_3" / "actor").resolve()
    assert (s1 / "checkpoints" / "latest_checkpointed_iteration.txt").read_text() == "3"
    assert v1.trainer.resume_mode == "auto" and v1.trainer.total_training_steps == 3 + 8 // 4 * v1.trainer.total_epochs
    assert v1.trainer.default_local_dir == str(s1 / "checkpoints")


def test_stage_without_weights_is_a_readable_error(tmp_path, base_model):
    with pytest.raises(UserError, match="no model weights"):
        stages.run_chain(_cfg(tmp_path / "run", base_model), FakeVerl(weights=False), "verl")


def test_mixture_schedule_changes_the_domains_per_stage(tmp_path, base_model):
    cfg = _cfg(tmp_path / "run", base_model, "+mixture.sources.kk_gen={weight: 1.0, size: 16}", "catalog.sources.kk_gen.train.generate.n=16")
    cfg.curriculum.stages = [
        {"name": "countdown_only", "weights": {"kk_gen": 0}},
        {"name": "both", "weights": {"kk_gen": 1.0}, "overrides": {"algorithm.lr": 2.0e-6}},
    ]
    fake = FakeVerl()
    stages.run_chain(cfg, fake, "verl")
    (c0, v0, m0), (c1, v1, m1) = fake.calls
    # rows per study domain (countdown counts as math, kk as puzzle)
    assert m0["rows_per_study_domain"] == {"math": 16} and m1["rows_per_study_domain"] == {"math": 16, "puzzle": 16}
    assert v0.actor_rollout_ref.actor.optim.lr == 1.0e-6 and v1.actor_rollout_ref.actor.optim.lr == 2.0e-6
    assert [p.name for p in sorted((tmp_path / "run" / "stages").iterdir())] == ["0-countdown_only", "1-both"]


def test_preset_staged_curriculum_composes():
    cfg = compose("train", ["run_dir=/unused", "mixture=puzzle", "curriculum=staged_puzzle"])
    plan = stage_plan(OmegaConf.to_container(cfg.curriculum))
    assert [s["name"] for s in plan] == ["easy", "mixed", "hard"]
    assert plan[0]["mixture"]["sources"]["lpb"]["weight"] == 0.0 and plan[2]["select"] == {"difficulty": [5, None]}


def test_dry_run_prints_every_stages_verl_config(tmp_path, capsys):
    rc = main(["train", "dry_run=true", f"hydra.run.dir={tmp_path}", "curriculum=easy_to_hard", "curriculum.stages=3"])
    out = capsys.readouterr().out
    assert rc == 0
    docs = list(yaml.safe_load_all(out))
    assert len(docs) == 3 and out.count("# stage ") == 3
    paths = [d["actor_rollout_ref"]["model"]["path"] for d in docs]
    assert paths[1] == str(tmp_path / "stages" / "0-part0" / "final_model")
    assert paths[2] == str(tmp_path / "stages" / "1-part1" / "final_model")
    assert all(d["data"]["shuffle"] is False and d["data"]["custom_cls"]["name"] == "CurriculumDataset" for d in docs)


# ------------------------------------------------------------------ TRL, end to end

# the default warm-up (80 SFT steps) gives the tiny model well-formed answers often enough
# that GRPO's groups differ and the weights move in 2 steps (with fewer, every advantage is 0)
SHORT = ["trl.prompts_per_step=4", "trl.num_generations=4", "trl.save_steps=1", "trl.max_steps=2", "mixture.sources.countdown3.size=64", "mixture.val_rows=4"]


def _digest(path: Path) -> str:
    from transformers import AutoModelForCausalLM

    from mdrl.jobs.trl_curriculum import weights_digest

    return weights_digest(AutoModelForCausalLM.from_pretrained(path))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU path")
@pytest.mark.parametrize("refresh", [True, False])
def test_trl_two_stage_chain_on_the_tiny_model(tmp_path, capsys, refresh):
    run = tmp_path / "run"
    args = ["train", *SHORT, "curriculum=easy_to_hard", "curriculum.stages=2", f"curriculum.policy_refresh={str(refresh).lower()}", f"hydra.run.dir={run}"]
    rc = main(args)
    assert rc == 0, capsys.readouterr().err[-3000:]
    s0, s1 = run / "stages" / "0-part0", run / "stages" / "1-part1"
    start0 = json.loads((s0 / "trl" / "grpo_start.json").read_text())
    start1 = json.loads((s1 / "trl" / "grpo_start.json").read_text())
    final0 = _digest(s0 / "trl" / "final")
    assert start1["policy"] == final0  # stage 1 starts from stage 0's final weights
    assert start1["policy"] != start0["policy"]  # which GRPO moved away from where stage 0 began
    assert not (s1 / "trl" / "sft_final").exists()  # the warm-up runs before the first stage only
    steps1 = [l["step"] for l in map(json.loads, (s1 / "trl" / "metrics.jsonl").read_text().splitlines()) if "reward" in l]
    if refresh:
        assert start1["reference"] == final0 and start1["global_step"] == 0 and steps1 == [1, 2]
    else:
        # no refresh: the reference stays stage 0's, the optimizer and step count carry on
        assert start1["reference"] == start0["reference"] != final0
        assert start1["global_step"] == 2 and steps1 == [3, 4]
    chain = json.loads((run / "chain.json").read_text())
    assert [s["name"] for s in chain["stages"]] == ["part0", "part1"] and chain["policy_refresh"] is refresh
    # rerunning the finished chain runs nothing again
    mtime = (s1 / "trl" / "final" / "config.json").stat().st_mtime
    assert main(args) == 0
    assert "finished earlier" in capsys.readouterr().err and (s1 / "trl" / "final" / "config.json").stat().st_mtime == mtime
