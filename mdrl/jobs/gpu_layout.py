"""The GPUs a veRL job gets, and whether the experiment fits them, checked before launch.

veRL's own ``validate_config`` accepts layouts its agent loop cannot use: with fewer GPUs
than one rollout replica needs (tensor x data x pipeline parallel) it computes zero vLLM
replicas, and nothing checks that actor, reference, critic and vLLM fit in memory. Both
end a job minutes in, on a cluster; here they end it in one sentence, at dry-run time too.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from mdrl.errors import UserError

# When no GPU is here (a dry run on a laptop), the layout shown is one node of the paper's.
ASSUMED_GPUS, ASSUMED_GPU_GB = 8, 80
# Bytes per parameter that FSDP keeps for a trained model, sharded over all GPUs:
# fp32 master weights (4) + fp32 gradients (4) + Adam's two moments (8).
TRAINED_BYTES, WEIGHTS_BYTES, OPTIMIZER_BYTES = 16, 4, 8
REF_BYTES = 2  # the reference policy: bf16 weights, sharded
ROLLOUT_BYTES = 2  # vLLM's bf16 weights, split over its tensor/pipeline group
HEADROOM = 0.05  # NCCL buffers, CUDA context (vLLM sleeps while the actor trains, so its share and the activations do not add up)


@dataclass(frozen=True)
class Gpus:
    """What the job will run on, and where the figures came from."""

    per_node: int
    memory_gb: float
    note: str = ""


def detect() -> tuple[int, float]:
    """(GPUs on this machine, memory of the first in GB); (0, 0) without any."""
    try:
        import torch

        if torch.cuda.is_available() and torch.cuda.device_count():
            return torch.cuda.device_count(), torch.cuda.get_device_properties(0).total_memory / 2**30
    except Exception:  # noqa: BLE001 - a broken CUDA install counts as no GPU
        pass
    if shutil.which("nvidia-smi"):  # a driver without a CUDA build of torch
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=20).stdout
            mems = [float(x) for x in out.split() if x.replace(".", "").isdigit()]
            if mems:
                return len(mems), mems[0] / 1024
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    return 0, 0.0


def resolve(cluster: DictConfig | dict) -> Gpus:
    """``cluster.gpus_per_node`` / ``gpu_memory_gb`` with ``auto`` replaced by this machine's."""
    want_n, want_mem = cluster.get("gpus_per_node", "auto"), cluster.get("gpu_memory_gb", "auto")
    n, mem, note = want_n, want_mem, ""
    if "auto" in (str(want_n), str(want_mem)):
        found_n, found_mem = detect()
        if str(want_n) == "auto":
            n = found_n or ASSUMED_GPUS
        if str(want_mem) == "auto":
            mem = found_mem or ASSUMED_GPU_GB
        if not found_n:
            note = (f"no GPU on this machine: the config shows one node of {n} GPUs with {mem:g} GB each "
                    "(set cluster.gpus_per_node and cluster.gpu_memory_gb, or cluster=a100x8)")
    try:
        n, mem = int(n), float(mem)
    except (TypeError, ValueError):
        raise UserError(f"cluster.gpus_per_node and cluster.gpu_memory_gb must be numbers or auto, not {want_n!r} and {want_mem!r}") from None
    if n < 1 or mem <= 0:
        raise UserError(f"cluster.gpus_per_node must be at least 1 and cluster.gpu_memory_gb positive (got {n} and {mem:g})")
    return Gpus(n, mem, note)


def count_params(model_cfg: DictConfig | dict, model_path: str) -> float | None:
    """Parameters of the model, in billions: its config.json if local, else the model file's
    ``params_b``, else from the ``build`` sizes of a model mdrl builds; None if unknown."""
    cfg_file = Path(model_path) / "config.json"
    if cfg_file.is_file():
        c = json.loads(cfg_file.read_text())
        return _from_shape(c)
    if model_cfg.get("params_b"):
        return float(model_cfg["params_b"])
    if model_cfg.get("build"):
        return _from_shape(dict(model_cfg["build"]))
    return None


def _from_shape(c: dict[str, Any]) -> float | None:
    try:
        h, layers, inter, vocab = int(c["hidden_size"]), int(c["num_hidden_layers"]), int(c["intermediate_size"]), int(c["vocab_size"])
        heads = int(c.get("num_attention_heads") or 1)
        kv = int(c.get("num_key_value_heads") or heads)
    except (KeyError, TypeError, ValueError):
        return None
    attn = 2 * h * h + 2 * h * (h // heads) * kv
    embed = vocab * h * (1 if c.get("tie_word_embeddings") else 2)
    return (embed + layers * (attn + 3 * h * inter)) / 1e9


def check(vcfg: DictConfig, params_b: float | None, gpu_memory_gb: float) -> None:
    """Refuse, in one sentence, a layout veRL cannot roll out on or a model that cannot fit."""
    t = vcfg.trainer
    total = int(t.nnodes) * int(t.n_gpus_per_node)
    r = vcfg.actor_rollout_ref.rollout
    tp, dp, pp = int(r.tensor_model_parallel_size), int(r.data_parallel_size), int(r.pipeline_model_parallel_size)
    group = tp * dp * pp
    if total % group:
        raise UserError(
            f"{total} GPU{'s' if total != 1 else ''} ({t.nnodes} node x {t.n_gpus_per_node}) cannot hold whole vLLM replicas of "
            f"{group} GPUs (rollout tensor {tp} x data {dp} x pipeline {pp}): use a multiple of {group} GPUs or set "
            "model.rollout_tp (or actor_rollout_ref.rollout.* in algorithm.verl)")
    if params_b is None:
        return
    actor_fsdp = vcfg.actor_rollout_ref.actor.fsdp_config
    per_param = TRAINED_BYTES - (OPTIMIZER_BYTES if actor_fsdp.get("optimizer_offload") else 0) - (WEIGHTS_BYTES if actor_fsdp.get("param_offload") else 0)
    sharded = per_param
    if vcfg.actor_rollout_ref.actor.use_kl_loss or vcfg.algorithm.use_kl_in_reward:
        sharded += REF_BYTES
    if vcfg.critic.get("enable"):
        sharded += TRAINED_BYTES
    train_gb = params_b * sharded / total  # 1e9 params x bytes / GPUs = GB per GPU
    vllm_share = float(r.gpu_memory_utilization)
    rollout_weights_gb = params_b * ROLLOUT_BYTES / (tp * pp)
    need = train_gb + vllm_share * gpu_memory_gb + HEADROOM * gpu_memory_gb
    if rollout_weights_gb >= vllm_share * gpu_memory_gb:
        raise UserError(
            f"a {params_b:.1f}B model's rollout weights need {rollout_weights_gb:.0f} GB per GPU but vLLM gets "
            f"{vllm_share:g} x {gpu_memory_gb:g} GB: raise model.rollout_tp or algorithm.gpu_memory_utilization")
    if need > gpu_memory_gb:
        raise UserError(
            f"a {params_b:.1f}B model does not fit {total} GPU{'s' if total != 1 else ''} of {gpu_memory_gb:g} GB: training state "
            f"needs about {train_gb:.0f} GB per GPU plus vLLM's {vllm_share:g} share and {HEADROOM:.0%} headroom "
            f"({need:.0f} GB); use more GPUs (cluster.gpus_per_node, cluster.nnodes) or a smaller model")
