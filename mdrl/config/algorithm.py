"""``conf/algorithm``: the RL algorithm and its sizes, as veRL reads them.

Defaults are the paper's released run script (A-Data-Centric-Study, its veRL fork; see
shared/PAPER-NOTES.md); ``conf/algorithm/<name>.yaml`` extends :class:`AlgorithmConfig` and
sets only what that algorithm changes. Modelled on veRL's own dataclass configs
(``verl/trainer/config/algorithm.py``); veRL checks its own keys again when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from omegaconf import MISSING

from mdrl.config.checks import setting

LOSS_AGG_MODES = ("token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")


# veRL 0.9.1's AdvantageEstimator values (verl/trainer/ppo/core_algos.py), listed rather
# than imported: importing veRL takes seconds, and every command checks its config first.
ADV_ESTIMATORS = (
    "gae", "grpo", "reinforce_plus_plus", "reinforce_plus_plus_baseline", "remax", "rloo", "opo",
    "grpo_passk", "gpg", "rloo_vectorized", "grpo_vectorized", "optimal_token_baseline",
    "tir_optimal_token_baseline", "gdpo",
)


@dataclass
class DynamicSampling:
    """DAPO's filter of groups whose rewards are all equal.

    enable: filter at all. metric: a reward extra-info key (acc, score, ...).
    max_num_gen_batches: declared by veRL 0.9.1 but not enforced there (>= 0).
    max_inflight_gen_batches: generation batches in flight (>= 1, enforced by veRL).
    """

    enable: bool = False
    metric: str = "acc"
    max_num_gen_batches: int = setting(10, ge=0)
    max_inflight_gen_batches: int = setting(1, ge=1)


@dataclass
class OverlongBuffer:
    """DAPO's soft penalty for responses in the last ``len`` tokens before the length cap."""

    enable: bool = False
    len: int = setting(4096, ge=1)
    penalty_factor: float = setting(1.0, ge=0)


@dataclass
class AlgorithmConfig:
    """``algorithm``: veRL's algorithm, actor and trainer sizes (paper values in brackets).

    name: the algorithm file's name. adv_estimator: veRL's algorithm.adv_estimator (grpo,
    gae, rloo, reinforce_plus_plus, ...). lr: actor learning rate (1e-6).
    use_kl_loss, kl_loss_coef, kl_loss_type: KL to the reference as a loss term (on, 0.001,
    low_var_kl). use_kl_in_reward, kl_in_reward_coef: KL folded into the reward instead
    (PPO-style; algorithm.kl_ctrl.kl_coef, 0.001). rollout_n: responses per prompt (5).
    temperature: rollout temperature (veRL's 1.0). train_batch_size: prompts per step (256).
    ppo_mini_batch_size, ppo_micro_batch_size_per_gpu: (32, 4). total_epochs: passes over
    the train data (10). max_prompt_length, max_response_length: tokens (512, 8192).
    clip_ratio, clip_ratio_low, clip_ratio_high: PPO clip (low/high null = clip_ratio).
    loss_agg_mode: token-mean | seq-mean-token-sum | seq-mean-token-mean |
    seq-mean-token-sum-norm. entropy_coeff: entropy bonus (0.001, the default of the
    authors' veRL fork, which run.sh does not override). norm_adv_by_std_in_grpo: GRPO's
    std normalisation. use_critic, critic_lr: a value model (gae/ppo only).
    gpu_memory_utilization: vLLM's share of GPU memory (0.5). save_freq, test_freq: steps
    between checkpoints / validations (200, 100; -1 = never). dynamic_sampling,
    overlong_buffer: DAPO's pieces. verl: any further veRL overrides as {dotted.key: value}.
    """

    name: str = MISSING
    adv_estimator: str = setting("grpo", choices=ADV_ESTIMATORS)
    lr: float = setting(1.0e-6, gt=0)
    use_kl_loss: bool = True
    kl_loss_coef: float = setting(0.001, ge=0)
    kl_loss_type: str = "low_var_kl"
    use_kl_in_reward: bool = False
    kl_in_reward_coef: float = setting(0.001, ge=0)
    rollout_n: int = setting(5, ge=1)
    temperature: float = setting(1.0, ge=0)
    train_batch_size: int = setting(256, ge=1)
    ppo_mini_batch_size: int = setting(32, ge=1)
    ppo_micro_batch_size_per_gpu: int = setting(4, ge=1)
    total_epochs: int = setting(10, ge=1)
    max_prompt_length: int = setting(512, ge=1)
    max_response_length: int = setting(8192, ge=1)
    clip_ratio: float = setting(0.2, gt=0)
    clip_ratio_low: Optional[float] = setting(None, gt=0)
    clip_ratio_high: Optional[float] = setting(None, gt=0)
    loss_agg_mode: str = setting("token-mean", choices=LOSS_AGG_MODES)
    entropy_coeff: float = setting(0.001, ge=0)
    norm_adv_by_std_in_grpo: bool = True
    use_critic: bool = False
    critic_lr: float = setting(1.0e-5, gt=0)
    gpu_memory_utilization: float = setting(0.5, gt=0, le=1)
    save_freq: int = setting(200, ge=-1)
    test_freq: int = setting(100, ge=-1)
    dynamic_sampling: DynamicSampling = field(default_factory=DynamicSampling)
    overlong_buffer: OverlongBuffer = field(default_factory=OverlongBuffer)
    verl: Dict[str, Any] = field(default_factory=dict)
