"""The veRL job as launched: the trainer's import chain, refusals before anything runs, the
reward hook by module, GPU layout and memory checks, PPO dry runs offline, and the stage
hand-over through the folder veRL's checkpoint manager writes (issue 12, points 1-6)."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf, open_dict

from mdrl.cli import compose, main
from mdrl.errors import UserError
from mdrl.jobs import gpu_layout, train, verl_config

ALGORITHMS = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "conf" / "algorithm").glob("*.yaml") if not p.stem.startswith("_"))

# What `python -m verl.trainer.main_ppo` imports on its way to the first step with veRL's
# default (v1) trainer; vLLM's own rollout module is GPU-only and checked where vLLM exists.
TRAINER_CHAIN = [
    "transfer_queue",
    "verl.trainer.main_ppo",
    "verl.trainer.ppo.v1",
    "verl.trainer.ppo.v1.trainer_base",
    "verl.trainer.ppo.v1.trainer_sync",
    "verl.trainer.ppo.v1.agent_loop_tq",
    "verl.experimental.agent_loop",
    "verl.experimental.agent_loop.single_turn_agent_loop",
    "verl.experimental.reward_loop",
    "verl.experimental.reward_loop.reward_manager",
    "verl.workers.engine_workers",
    "verl.workers.rollout.llm_server",
    "verl.utils.checkpoint.fsdp_checkpoint_manager",
]


def test_trainer_import_chain_is_installed(tmp_path):
    """Every module of the chain imports in a fresh interpreter, and the config's trainer
    class, reward manager and mdrl's hook (by pkg://) resolve as veRL resolves them."""
    cfg = compose("train", [f"run_dir={tmp_path}", "model.path=/unused", "cluster.gpus_per_node=1"])
    vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", "/unused")
    OmegaConf.save(vcfg, tmp_path / "verl_config.yaml")
    code = f"""
import importlib, sys
from omegaconf import OmegaConf
for name in {TRAINER_CHAIN!r}:
    importlib.import_module(name)
vcfg = OmegaConf.load({str(tmp_path / "verl_config.yaml")!r})
from verl.trainer.ppo.v1 import get_trainer_cls
from verl.trainer.ppo.reward import get_custom_reward_fn, resolve_reward_manager_cls
assert vcfg.trainer.use_v1
print(get_trainer_cls(vcfg.trainer.v1.trainer_mode).__name__, resolve_reward_manager_cls(vcfg).__name__, get_custom_reward_fn(vcfg).func.__name__)
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    trainer, manager, fn = r.stdout.split()[-3:]
    assert trainer.startswith("PPOTrainer") and manager.endswith("RewardManager") and fn.startswith("_call_with_kwargs")


def test_vllm_rollout_imports_where_vllm_is_installed():
    pytest.importorskip("vllm")
    importlib.import_module("verl.workers.rollout.vllm_rollout")


def test_gpu_extra_is_verls_tested_stack_without_trl_conflict():
    import tomllib

    meta = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    gpu = meta["optional-dependencies"]["gpu"]
    assert gpu == ["verl[vllm]==0.9.1"]
    assert any(d.startswith("verl[verl-core]") for d in meta["dependencies"])
    # veRL's [vllm] extra pins no trl; its [fsdp] extra pins trl==0.27.0 and is not pulled
    from importlib.metadata import requires

    vllm_extra = [r for r in requires("verl") if 'extra == "vllm"' in r]
    assert any(r.startswith("vllm==") for r in vllm_extra) and not any(r.startswith("trl") for r in vllm_extra)
    assert not any("fsdp" in d or "trl==" in d for d in gpu)
    # the versions that extra pins satisfy mdrl's own ranges and the installed trl's needs
    from packaging.requirements import Requirement

    pins = {Requirement(r.split(";")[0]).name: Requirement(r.split(";")[0]).specifier for r in vllm_extra}
    mine = {Requirement(d).name: Requirement(d).specifier for d in meta["dependencies"]}
    trl_needs = {Requirement(r.split(";")[0]).name: Requirement(r.split(";")[0]).specifier for r in requires("trl") if "extra ==" not in r}
    for name in ("transformers", "torch"):
        (pinned,) = [s.version for s in pins[name]]
        assert pinned in mine[name], (name, pinned, mine[name])
        assert name not in trl_needs or pinned in trl_needs[name], (name, pinned, trl_needs[name])


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_backend_verl_without_gpu_refuses_before_preparing_anything(tmp_path, capsys):
    rc = main(["train", "backend=verl", f"hydra.run.dir={tmp_path}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert err[-1].startswith("mdrl train: backend=verl needs a CUDA GPU and vLLM, but no CUDA GPU is visible")
    assert not (tmp_path / "data").exists() and not (tmp_path / "config.yaml").exists()
    with pytest.raises(UserError, match="use backend=trl"):
        train.choose_backend("verl")


def test_backend_verl_refuses_without_vllm_even_with_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "vllm" else object())
    with pytest.raises(UserError) as err:
        train.choose_backend("verl")
    assert "but vLLM is not installed" in str(err.value) and "no CUDA GPU" not in str(err.value)


def test_dry_run_yaml_names_the_hook_by_module(tmp_path, capsys):
    rc = main(["train", "model=qwen2.5-7b-base", "cluster=a100x8", "dry_run=true", f"hydra.run.dir={tmp_path}"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    vcfg = OmegaConf.create(out.out)
    assert vcfg.reward.custom_reward_function.path == "pkg://mdrl.scoring.verl_reward"
    assert "hf_model" in vcfg.actor_rollout_ref.actor.checkpoint.save_contents
    # veRL's own loader resolves it without any file path
    from verl.utils.import_utils import load_extern_object

    assert load_extern_object(vcfg.reward.custom_reward_function.path, "compute_score").__module__ == "mdrl.scoring.verl_reward"


def test_local_cluster_detects_gpus(monkeypatch):
    monkeypatch.setattr(gpu_layout, "detect", lambda: (4, 79.6))
    cfg = compose("train", ["run_dir=/unused", "model.path=/unused"])
    vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", "/unused")
    assert vcfg.trainer.n_gpus_per_node == 4 and vcfg.trainer.nnodes == 1
    assert gpu_layout.resolve(cfg.cluster) == gpu_layout.Gpus(4, 79.6, "")
    monkeypatch.setattr(gpu_layout, "detect", lambda: (0, 0.0))
    g = gpu_layout.resolve(cfg.cluster)
    assert (g.per_node, g.memory_gb) == (8, 80) and "no GPU on this machine" in g.note
    # an explicit count is used as given
    assert gpu_layout.resolve(compose("train", ["run_dir=/unused", "cluster.gpus_per_node=2"]).cluster).per_node == 2


@pytest.mark.parametrize(
    "overrides, phrase",
    [
        # the case: 7B with rollout TP 2 on one GPU
        (["model=qwen2.5-7b-base", "cluster.gpus_per_node=1"], "1 GPU (1 node x 1) cannot hold whole vLLM replicas of 2 GPUs (rollout tensor 2 x data 1 x pipeline 1)"),
        (["model=qwen2.5-7b-base", "cluster=slurm", "cluster.nnodes=1", "cluster.gpus_per_node=3"], "3 GPUs (1 node x 3) cannot hold whole vLLM replicas of 2 GPUs"),
        (["model=qwen2.5-7b-base", "cluster.gpus_per_node=2", "cluster.gpu_memory_gb=80"], "a 7.6B model does not fit 2 GPUs of 80 GB"),
        (["model=qwen2.5-7b-base", "cluster.gpus_per_node=2", "model.rollout_tp=1", "algorithm.gpu_memory_utilization=0.1", "cluster.gpu_memory_gb=80"], "rollout weights need 15 GB per GPU but vLLM gets 0.1 x 80 GB"),
        (["model=qwen2.5-7b-base", "algorithm=ppo", "cluster.gpus_per_node=4", "cluster.gpu_memory_gb=80"], "a 7.6B model does not fit 4 GPUs of 80 GB"),
    ],
)
def test_bad_layouts_are_refused_in_one_sentence_at_dry_run(overrides, phrase, tmp_path, capsys):
    rc = main(["train", *overrides, "dry_run=true", f"hydra.run.dir={tmp_path}"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 2 and phrase in err, err
    assert err.startswith("mdrl train: ")


def test_bad_layout_is_refused_before_preparing_data(tmp_path, capsys, monkeypatch):
    """On a GPU machine (simulated), a real run checks the layout before writing any data."""
    monkeypatch.setattr(train, "choose_backend", lambda requested: ("verl", "requested"))
    rc = main(["train", "backend=verl", "model=qwen2.5-7b-base", "cluster.gpus_per_node=1", f"hydra.run.dir={tmp_path}"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 2 and "cannot hold whole vLLM replicas of 2 GPUs" in err
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("overrides", [["cluster=a100x8"], ["cluster=a100x8", "algorithm=ppo"], ["cluster=slurm", "cluster.nnodes=2"]])
def test_the_papers_layouts_fit(overrides):
    cfg = compose("train", ["run_dir=/unused", "model=qwen2.5-7b-base", *overrides])
    vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", cfg.model.path)
    gpu_layout.check(vcfg, gpu_layout.count_params(cfg.model, cfg.model.path), 80)


def test_param_count_from_shapes(tmp_path):
    qwen7b = {"hidden_size": 3584, "num_hidden_layers": 28, "intermediate_size": 18944, "vocab_size": 152064, "num_attention_heads": 28, "num_key_value_heads": 4}
    assert gpu_layout._from_shape(qwen7b) == pytest.approx(7.62, abs=0.05)
    (tmp_path / "config.json").write_text(__import__("json").dumps(qwen7b))
    assert gpu_layout.count_params({"params_b": 1.0}, str(tmp_path)) == pytest.approx(7.62, abs=0.05)
    assert gpu_layout.count_params({}, "Some/hub-id") is None


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("model", ["tiny", "qwen2.5-7b-base"])
def test_dry_run_of_every_algorithm_works_offline(algorithm, model, tmp_path, capsys, monkeypatch):
    """No network (HF_HUB_OFFLINE) and, for the default model, nothing built yet."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    rc = main(["train", "mixture=math", f"algorithm={algorithm}", f"model={model}", "dry_run=true", f"hydra.run.dir={tmp_path}"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    vcfg = OmegaConf.create(out.out)
    assert vcfg.critic.enable == (algorithm == "ppo")
    want = str(tmp_path.resolve() / "model") if model == "tiny" else "Qwen/Qwen2.5-7B"
    assert vcfg.actor_rollout_ref.model.path == want and vcfg.critic.model.path == want
    assert not (tmp_path / "model").exists()  # a dry run builds nothing in the run folder


def _write_checkpoint_like_verl(stage: Path, step: int, model_dir: str | None, weights: bool) -> Path:
    """A checkpoint folder as veRL 0.9.1's FSDPCheckpointManager.save_checkpoint lays it out:
    sharded model/optim/extra files per rank, fsdp_config.json, and huggingface/ with config
    and tokenizer always and the full weights only with hf_model in save_contents."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    actor = stage / "checkpoints" / f"global_step_{step}" / "actor"
    hf = actor / "huggingface"
    hf.mkdir(parents=True)
    for name in ("model_world_size_1_rank_0.pt", "optim_world_size_1_rank_0.pt", "extra_state_world_size_1_rank_0.pt"):
        (actor / name).write_bytes(b"\0")
    (actor / "fsdp_config.json").write_text('{"FSDP_version": 2, "world_size": 1}')
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    model.config.save_pretrained(hf)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(hf)
    if weights:
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)  # "trained": differs from the starting weights
        model.save_pretrained(hf)
    (stage / "checkpoints" / "latest_checkpointed_iteration.txt").write_text(str(step))
    return hf


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    from mdrl.jobs.tiny_model import ensure_tiny_model

    cfg = compose("train", ["run_dir=/unused"])
    return ensure_tiny_model(OmegaConf.to_container(cfg.model, resolve=True), ["<think> 1 + 2 </think> <answer> 3 </answer>"] * 4, tmp_path_factory.mktemp("tiny") / "model")


def test_stage_hand_over_loads_the_trained_weights(tiny_model, tmp_path):
    from transformers import AutoModelForCausalLM

    stage0 = tmp_path / "stage0"
    _write_checkpoint_like_verl(stage0, 5, tiny_model, weights=True)
    hf = _write_checkpoint_like_verl(stage0, 10, tiny_model, weights=True)
    (stage0 / "checkpoints" / "latest_checkpointed_iteration.txt").write_text("10")
    got = verl_config.latest_hf_checkpoint(stage0)
    assert got == str(hf)
    before = AutoModelForCausalLM.from_pretrained(tiny_model).state_dict()
    after = AutoModelForCausalLM.from_pretrained(got).state_dict()
    key = next(k for k in before if k.endswith("q_proj.weight"))
    assert torch.allclose(after[key], before[key] + 1.0)


def test_stage_hand_over_refuses_a_checkpoint_without_weights(tiny_model, tmp_path):
    _write_checkpoint_like_verl(tmp_path / "stage0", 3, tiny_model, weights=False)
    with pytest.raises(UserError, match="holds no model weights .*'hf_model' in actor.checkpoint.save_contents"):
        verl_config.latest_hf_checkpoint(tmp_path / "stage0")
    assert verl_config.latest_hf_checkpoint(tmp_path / "nothing_saved") is None


SAVE_WITH_VERL = """
import os, sys, torch
import torch.distributed as dist
from omegaconf import OmegaConf
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from transformers import AutoModelForCausalLM, AutoTokenizer
from verl.utils.checkpoint.fsdp_checkpoint_manager import FSDPCheckpointManager

src, vcfg_path, stage, step = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
dist.init_process_group("gloo", rank=0, world_size=1)
model = AutoModelForCausalLM.from_pretrained(src)
mesh = init_device_mesh("cpu", (1,))
for layer in model.model.layers:
    fully_shard(layer, mesh=mesh)
fully_shard(model, mesh=mesh)
opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
ids = torch.tensor([[1, 2, 3, 4, 5]])
model(input_ids=ids, labels=ids).loss.backward()
opt.step()  # one training step: the saved weights must be these, not the starting ones
ckpt = OmegaConf.load(vcfg_path).actor_rollout_ref.actor.checkpoint
mgr = FSDPCheckpointManager(model, opt, None, processing_class=AutoTokenizer.from_pretrained(src), checkpoint_config=ckpt)
root = os.path.join(stage, "checkpoints")
mgr.save_checkpoint(os.path.join(root, f"global_step_{step}", "actor"), global_step=step)
with open(os.path.join(root, "latest_checkpointed_iteration.txt"), "w") as fh:  # as veRL's trainer does
    fh.write(str(step))
dist.destroy_process_group()
"""


def _save_with_verl(tiny_model: str, stage: Path, vcfg) -> None:
    import socket

    vcfg_path = stage / "verl_config.yaml"
    stage.mkdir(parents=True)
    OmegaConf.save(vcfg, vcfg_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**__import__("os").environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}
    r = subprocess.run([sys.executable, "-c", SAVE_WITH_VERL, tiny_model, str(vcfg_path), str(stage), "7"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]


def test_stage_hand_over_through_verls_own_checkpoint_manager(tiny_model, tmp_path):
    """veRL's FSDPCheckpointManager (FSDP2 on CPU, gloo) saves with the config mdrl composes;
    the folder the next stage gets loads as a model with the trained weights."""
    from transformers import AutoModelForCausalLM

    cfg = compose("train", [f"run_dir={tmp_path}", f"model.path={tiny_model}"])
    vcfg = verl_config.build(cfg, ["t.parquet"], "v.parquet", tiny_model, tmp_path / "stage0")
    _save_with_verl(tiny_model, tmp_path / "stage0", vcfg)
    got = verl_config.latest_hf_checkpoint(tmp_path / "stage0")
    assert got == str(tmp_path / "stage0" / "checkpoints" / "global_step_7" / "actor" / "huggingface")
    before = AutoModelForCausalLM.from_pretrained(tiny_model).state_dict()
    after = AutoModelForCausalLM.from_pretrained(got).state_dict()
    assert before.keys() == after.keys()
    changed = [k for k in before if not torch.allclose(before[k].float(), after[k].float(), atol=1e-3)]
    assert len(changed) > len(before) // 2, "the next stage would start from the untrained weights"

    # veRL's default save_contents: config and tokenizer only, which the hand-over refuses
    with open_dict(vcfg):
        vcfg.actor_rollout_ref.actor.checkpoint.save_contents = ["model", "optimizer", "extra"]
    _save_with_verl(tiny_model, tmp_path / "stage_default", vcfg)
    with pytest.raises(UserError, match="holds no model weights"):
        verl_config.latest_hf_checkpoint(tmp_path / "stage_default")
