"""Compose the complete veRL trainer config for an experiment, and check it with veRL.

mdrl never copies veRL's config: it composes veRL's own ``ppo_trainer.yaml`` (from the
installed package) and sets the keys an experiment decides. Every key set must already
exist in veRL's schema, so a veRL upgrade that renames one fails loudly here.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import glob
import sys
import warnings
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from mdrl.curricula import order_mode
from mdrl.errors import UserError
from mdrl.scoring.core import SETTING_KEYS

# A raw (base-model) template must reach the model unwrapped: veRL's agent loop always
# applies a chat template, so give it one that emits the text as is (veRL #1383).
PASSTHROUGH_CHAT_TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"


def verl_config_dir() -> str:
    import verl

    return str(Path(verl.__file__).resolve().parent / "trainer" / "config")


def verl_defaults() -> DictConfig:
    """veRL's own default trainer config (ppo_trainer.yaml with its defaults list)."""
    return copy.deepcopy(_verl_defaults())


@functools.lru_cache(maxsize=1)
def _verl_defaults() -> DictConfig:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    saved = GlobalHydra.instance().hydra if GlobalHydra.instance().is_initialized() else None
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=verl_config_dir(), version_base=None):
            return compose(config_name="ppo_trainer")
    finally:
        GlobalHydra.instance().clear()
        if saved is not None:  # inside `mdrl train`, hand Hydra's state back
            GlobalHydra.instance().initialize(saved)


# By module, not by file: veRL's scoring actors run on every node and import it from their
# own install, and a saved verl_config.yaml relaunches from any install (veRL's load_module).
REWARD_HOOK = "pkg://mdrl.scoring.verl_reward"
# veRL 0.9.1 writes actor/huggingface/ with config and tokenizer only unless hf_model is
# saved too; the next curriculum stage and evaluation load the weights from there.
ACTOR_SAVE_CONTENTS = ["model", "optimizer", "extra", "hf_model"]


def reward_hook_path() -> str:
    return REWARD_HOOK


def settings(cfg: DictConfig, train_files: list[str], val_file: str | None, model_path: str, out_dir: Path | None = None) -> dict[str, Any]:
    """The veRL keys an mdrl experiment sets, as {dotted.key: value}."""
    a, t = cfg.algorithm, cfg.template
    s: dict[str, Any] = {
        **_data_keys(cfg, train_files, val_file),
        **_actor_keys(cfg, model_path),
        **_algorithm_keys(a, model_path),
        **_reward_keys(cfg),
        **_trainer_keys(cfg, out_dir or Path(str(cfg.run_dir))),
    }
    if a.overlong_buffer.enable:
        s["reward.reward_kwargs"] = {
            "overlong_buffer_cfg": {"enable": True, "len": a.overlong_buffer.len, "penalty_factor": a.overlong_buffer.penalty_factor, "log": True},
            "max_resp_len": a.max_response_length,
        }
    if t.kind == "raw":
        s["actor_rollout_ref.model.custom_chat_template"] = PASSTHROUGH_CHAT_TEMPLATE
    s.update(curriculum_settings(cfg, train_files))
    for key, value in (OmegaConf.to_container(a.verl, resolve=True) or {}).items():
        s[str(key)] = value
    return s


def _data_keys(cfg: DictConfig, train_files: list[str], val_file: str | None) -> dict[str, Any]:
    a = cfg.algorithm
    return {
        "data.train_files": list(train_files),
        "data.val_files": [val_file] if val_file else list(train_files),
        "data.train_batch_size": a.train_batch_size,
        "data.max_prompt_length": a.max_prompt_length,
        "data.max_response_length": a.max_response_length,
        "data.filter_overlong_prompts": True,
        "data.truncation": "error",
        # ordered curricula must reach the trainer in order (see curriculum_settings)
        "data.shuffle": order_mode(cfg.curriculum) == "shuffled",
        "data.seed": cfg.seed,
    }


def _actor_keys(cfg: DictConfig, model_path: str) -> dict[str, Any]:
    """Actor, rollout and reference model."""
    a, m = cfg.algorithm, cfg.model
    return {
        "actor_rollout_ref.model.path": model_path,
        "actor_rollout_ref.model.enable_gradient_checkpointing": m.enable_gradient_checkpointing,
        "actor_rollout_ref.model.use_remove_padding": m.use_remove_padding,
        "actor_rollout_ref.actor.optim.lr": a.lr,
        "actor_rollout_ref.actor.ppo_mini_batch_size": a.ppo_mini_batch_size,
        "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu": a.ppo_micro_batch_size_per_gpu,
        "actor_rollout_ref.actor.use_kl_loss": a.use_kl_loss,
        "actor_rollout_ref.actor.kl_loss_coef": a.kl_loss_coef,
        "actor_rollout_ref.actor.kl_loss_type": a.kl_loss_type,
        "actor_rollout_ref.actor.entropy_coeff": a.entropy_coeff,
        "actor_rollout_ref.actor.clip_ratio": a.clip_ratio,
        "actor_rollout_ref.actor.clip_ratio_low": a.clip_ratio_low if a.clip_ratio_low is not None else a.clip_ratio,
        "actor_rollout_ref.actor.clip_ratio_high": a.clip_ratio_high if a.clip_ratio_high is not None else a.clip_ratio,
        "actor_rollout_ref.actor.loss_agg_mode": a.loss_agg_mode,
        "actor_rollout_ref.rollout.name": "vllm",
        "actor_rollout_ref.rollout.n": a.rollout_n,
        "actor_rollout_ref.rollout.temperature": a.temperature,
        "actor_rollout_ref.rollout.gpu_memory_utilization": a.gpu_memory_utilization,
        "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu": a.ppo_micro_batch_size_per_gpu,
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": a.ppo_micro_batch_size_per_gpu,
        "actor_rollout_ref.rollout.tensor_model_parallel_size": int(m.get("rollout_tp") or 2),
        "actor_rollout_ref.actor.checkpoint.save_contents": list(ACTOR_SAVE_CONTENTS),
    }


def _algorithm_keys(a: DictConfig, model_path: str) -> dict[str, Any]:
    """Advantage estimator, KL, dynamic sampling and the critic (trained only where the estimator needs one)."""
    return {
        "algorithm.adv_estimator": a.adv_estimator,
        "algorithm.norm_adv_by_std_in_grpo": a.norm_adv_by_std_in_grpo,
        "algorithm.use_kl_in_reward": a.use_kl_in_reward,
        "algorithm.kl_ctrl.kl_coef": a.kl_in_reward_coef,
        "algorithm.filter_groups.enable": a.dynamic_sampling.enable,
        "algorithm.filter_groups.metric": a.dynamic_sampling.metric,
        "algorithm.filter_groups.max_num_gen_batches": a.dynamic_sampling.max_num_gen_batches,
        "algorithm.filter_groups.max_inflight_gen_batches": a.dynamic_sampling.max_inflight_gen_batches,
        "critic.enable": bool(a.use_critic),
        "critic.optim.lr": a.critic_lr,
        "critic.model.path": model_path,
        "critic.ppo_micro_batch_size_per_gpu": a.ppo_micro_batch_size_per_gpu,
    }


def _reward_keys(cfg: DictConfig) -> dict[str, Any]:
    """mdrl's reward hook, its settings and veRL's scoring actors."""
    a, c = cfg.algorithm, cfg.cluster
    reward = OmegaConf.to_container(cfg.reward, resolve=True)
    scoring_actors = int(c.get("scoring_actors") or 8)
    # veRL places its scoring actors round-robin over the nodes (RewardLoopManager)
    actors_per_node = -(-scoring_actors // int(c.nnodes))
    return {
        "reward.custom_reward_function.path": reward_hook_path(),
        "reward.custom_reward_function.name": "compute_score",
        "reward.custom_reward_function.reward_kwargs": {
            **{k: reward[k] for k in SETTING_KEYS},
            "workers": c.get("scoring_workers"),
            "actors_per_node": actors_per_node,
        },
        "reward.num_workers": scoring_actors,
        "reward.reward_manager.name": "dapo" if a.overlong_buffer.enable else "naive",
    }


def _trainer_keys(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    from mdrl.jobs.gpu_layout import resolve

    a, c = cfg.algorithm, cfg.cluster
    return {
        "trainer.nnodes": c.nnodes,
        "trainer.n_gpus_per_node": resolve(c).per_node,
        "trainer.logger": list(c.logger),
        "trainer.project_name": c.project,
        "trainer.experiment_name": c.experiment,
        "trainer.total_epochs": a.total_epochs,
        "trainer.save_freq": a.save_freq,
        "trainer.test_freq": a.test_freq,
        "trainer.default_local_dir": str(out_dir / "checkpoints"),
        "trainer.val_before_train": True,
    }


def check_adaptive(settings: dict) -> None:
    """Refuse an unusable adaptive curriculum (band, levels, start) before any job starts."""
    from mdrl.curricula.adaptive import AdaptiveCurriculum

    try:
        AdaptiveCurriculum.from_config(settings)
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"curriculum=adaptive: {exc}") from None


def curriculum_settings(cfg: DictConfig, train_files: list[str]) -> dict[str, Any]:
    """veRL keys of an ordered or adaptive curriculum: mdrl's dataset class and its settings.

    veRL 0.9.1 names no sampler class in its config (create_rl_sampler only picks Random or
    Sequential by data.shuffle); the class it does load by name is the dataset's
    (data.custom_cls), so the order rides there: see mdrl/curricula/verl_dataset.py.
    """
    cur = OmegaConf.to_container(cfg.curriculum, resolve=True)
    mode = order_mode(cur)
    if mode == "shuffled":
        return {}
    spec: dict[str, Any] = {"mode": mode, "reverse": bool(cur.get("reverse", False)), "train_files": [str(f) for f in train_files]}
    s: dict[str, Any] = {"data.custom_cls.path": "pkg://mdrl.curricula.verl_dataset", "data.custom_cls.name": "CurriculumDataset"}
    if mode == "adaptive":
        spec["adaptive"] = {k: cur[k] for k in ("band", "min_samples", "step", "domains") if k in cur}
        check_adaptive(spec["adaptive"])
        # levels change in this process: dataloader worker copies would never see them, and
        # only veRL's legacy trainer calls the dataset's on_batch_end after each step
        s["data.dataloader_num_workers"] = 0
        s["trainer.use_v1"] = False
    s["data.custom_cls.curriculum"] = spec
    return s


def build(cfg: DictConfig, train_files: list[str], val_file: str | None, model_path: str, out_dir: Path | None = None) -> DictConfig:
    """veRL's defaults with the experiment's keys set; unknown keys are a user error."""
    vcfg = verl_defaults()
    for key, value in settings(cfg, train_files, val_file, model_path, out_dir).items():
        parent_key, _, leaf = key.rpartition(".")
        parent = OmegaConf.select(vcfg, parent_key) if parent_key else vcfg
        # `in` is False for keys whose value is ??? (veRL's mandatory ones): look at keys()
        known = isinstance(parent, DictConfig) and leaf in list(parent.keys())
        # veRL reads reward_kwargs with .get() although its schema does not declare them
        free_form = isinstance(parent, DictConfig) and "reward_kwargs" in (leaf, parent_key.rpartition(".")[2])
        free_form = free_form or key == "data.custom_cls.curriculum"  # read by mdrl's dataset class only
        if not isinstance(parent, DictConfig) or not (known or free_form):
            raise UserError(f"the installed veRL has no setting '{key}' (check algorithm.verl overrides and the veRL version)")
        with open_dict(vcfg):
            OmegaConf.update(vcfg, key, value, merge=False, force_add=True)
    return vcfg


def _has_model_config(path: str) -> bool:
    return (Path(str(path)).expanduser() / "config.json").is_file()


@functools.lru_cache(maxsize=1)
def _stand_in_model() -> str:
    """A tiny local model (config + tokenizer), built offline once per process.

    veRL's critic config loads its model's config and tokenizer while it is validated; a
    dry run must work without network and before mdrl builds the run's own model, so the
    critic's settings are checked against this stand-in (the printed config keeps the
    real path, which veRL reads when training starts).
    """
    import atexit
    import shutil
    import tempfile

    from mdrl.jobs.tiny_model import ensure_tiny_model

    root = Path(tempfile.mkdtemp(prefix="mdrl-dry-run-model-"))
    atexit.register(shutil.rmtree, root, True)
    build = {"vocab_size": 300, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 256, "seed": 0}
    texts = ["A conversation between User and Assistant. <think> 1 + 2 = 3 </think> <answer> 3 </answer>"] * 8
    return ensure_tiny_model({"path": None, "build": build}, texts, root / "model")


def validate(vcfg: DictConfig) -> None:
    """Run veRL's own checks (validate_config, the advantage-estimator registry, dataclasses)."""
    from verl.trainer.ppo.core_algos import get_adv_estimator_fn
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    if need_critic(vcfg) and not _has_model_config(vcfg.critic.model.path):
        # not there yet (a dry run of a model mdrl builds) or on the Hub (offline): check the
        # critic's settings against a local stand-in rather than fetch or fail
        vcfg = copy.deepcopy(vcfg)
        with open_dict(vcfg):
            vcfg.critic.model.path = _stand_in_model()
            for key in ("tokenizer_path", "hf_config_path"):
                if key in vcfg.critic.model:
                    vcfg.critic.model[key] = None

    est = vcfg.algorithm.adv_estimator
    # veRL splits each step's batch into mini-batches without checking that they divide it:
    # a remainder becomes a short, differently weighted update, so refuse it here.
    batch, mini = vcfg.data.train_batch_size, vcfg.actor_rollout_ref.actor.ppo_mini_batch_size
    if mini and batch % mini:
        raise UserError(f"train_batch_size {batch} is not a multiple of ppo_mini_batch_size {mini} (set algorithm.ppo_mini_batch_size to a divisor)")
    if est != "gae":  # GAE is computed by the critic path, not the registry
        try:
            get_adv_estimator_fn(est)
        except ValueError:
            raise UserError(f"veRL does not know advantage estimator '{est}'") from None
    try:
        # veRL prints its verdict on stdout, where a dry run's YAML goes: send it to stderr
        with warnings.catch_warnings(), contextlib.redirect_stdout(sys.stderr):
            warnings.simplefilter("ignore")
            validate_config(vcfg, use_reference_policy=need_reference_policy(vcfg), use_critic=need_critic(vcfg))
        omega_conf_to_dataclass(vcfg.algorithm)
    except Exception as exc:  # noqa: BLE001 - veRL raises assert/Value/Type/Hydra instantiation errors
        root = exc.__cause__ or exc  # Hydra wraps the dataclass's own error
        msg = " ".join(str(root).split()) or type(root).__name__
        raise UserError(f"veRL rejected the config: {msg}") from None


def launch_command(cfg_path: Path) -> list[str]:
    """The veRL trainer command line for a saved config."""
    return [sys.executable, "-m", "verl.trainer.main_ppo", f"--config-path={cfg_path.parent}", f"--config-name={cfg_path.stem}"]


WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def latest_hf_checkpoint(stage_dir: Path) -> str | None:
    """The newest actor checkpoint veRL wrote under ``stage_dir`` in HF format, with weights.

    The step is the one veRL's tracker file names (``latest_checkpointed_iteration.txt``),
    else the highest ``global_step_*``. None when the stage saved no checkpoint; a
    checkpoint whose ``huggingface/`` folder holds no weights (hf_model not saved) is an
    error, since the next stage would silently start from config and tokenizer alone.
    """
    root = stage_dir / "checkpoints"
    tracker = root / "latest_checkpointed_iteration.txt"
    step_dir = None
    if tracker.is_file() and tracker.read_text().strip().isdigit():
        step_dir = root / f"global_step_{int(tracker.read_text().strip())}"
    if step_dir is None or not step_dir.is_dir():
        steps = sorted(glob.glob(str(root / "global_step_*")), key=lambda p: int(p.rsplit("global_step_", 1)[1]) if p.rsplit("global_step_", 1)[1].isdigit() else -1)
        step_dir = Path(steps[-1]) if steps else None
    if step_dir is None:
        return None
    hf = step_dir / "actor" / "huggingface"
    if not any((hf / f).is_file() for f in WEIGHT_FILES):
        raise UserError(f"{hf} holds no model weights (veRL saves them only with 'hf_model' in actor.checkpoint.save_contents), so the next stage cannot start from this one")
    return str(hf)
