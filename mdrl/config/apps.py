"""The top-level settings of each command (``conf/<command>.yaml``), checked after compose.

Their values stay in the command's YAML beside its documentation header (the file
``mdrl <command> --help`` prints); these classes only type and bound them, so every
field here is MISSING. Groups (reward, model, ...) are checked by their own schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional

from omegaconf import MISSING

from mdrl.config.checks import setting
from mdrl.errors import UserError


@dataclass
class ScoreApp:
    """mdrl score: workers >= 0 (0 = inline, null = all cores)."""

    input: str = MISSING
    output: str = MISSING
    workers: Optional[int] = setting(MISSING, ge=0)
    resume: bool = MISSING
    progress: bool = MISSING


@dataclass
class TrlSettings:
    """The TRL backend's own sizes (train.yaml documents each)."""

    sft_steps: int = setting(MISSING, ge=0)
    sft_learning_rate: float = setting(MISSING, gt=0)
    sft_batch_size: int = setting(MISSING, ge=1)
    max_steps: int = setting(MISSING, ge=1)
    learning_rate: float = setting(MISSING, gt=0)
    prompts_per_step: int = setting(MISSING, ge=1)
    # GRPO compares a group; null = the algorithm's rollout_n
    num_generations: Optional[int] = setting(MISSING, ge=2)
    max_completion_length: int = setting(MISSING, ge=1)
    temperature: float = setting(MISSING, ge=0)
    loss_type: str = MISSING
    scale_rewards: Any = MISSING  # group | batch | none (or true/false); TRL checks it
    save_steps: int = setting(MISSING, ge=1)
    eval_every: int = setting(MISSING, ge=0)
    reward_workers: Optional[int] = setting(MISSING, ge=0)


@dataclass
class TrainApp:
    """mdrl train / mdrl prepare: backend auto | verl | trl."""

    backend: str = setting(MISSING, choices=("auto", "verl", "trl"))
    dry_run: bool = MISSING
    seed: int = MISSING
    trl: TrlSettings = field(default_factory=TrlSettings)


@dataclass
class HfSettings:
    batch_size: int = setting(MISSING, ge=1)
    threads: Optional[int] = setting(MISSING, ge=1)


@dataclass
class VllmSettings:
    tensor_parallel_size: int = setting(MISSING, ge=1)
    gpu_memory_utilization: float = setting(MISSING, gt=0, le=1)
    max_model_len: Optional[int] = setting(MISSING, ge=1)


@dataclass
class EvalApp:
    """mdrl eval: decoding, batching and scoring sizes; backend auto | vllm | hf."""

    n: int = setting(MISSING, ge=1)
    temperature: float = setting(MISSING, ge=0)
    top_p: float = setting(MISSING, gt=0, le=1)
    max_tokens: int = setting(MISSING, ge=1)
    seed: int = MISSING
    limit: Optional[int] = setting(MISSING, ge=1)
    overwrite: bool = MISSING
    backend: str = setting(MISSING, choices=("auto", "vllm", "hf"))
    batch_problems: int = setting(MISSING, ge=1)
    hf: HfSettings = field(default_factory=HfSettings)
    vllm: VllmSettings = field(default_factory=VllmSettings)
    workers: Optional[int] = setting(MISSING, ge=0)
    progress: bool = MISSING

    @classmethod
    def check_node(cls, node, prefix: str) -> None:
        steps = node.get("steps")
        if isinstance(steps, str) and steps not in ("all", "last"):
            raise UserError(f"steps must be all, last or a list of step numbers, not {steps!r}")
        if not node.get("benchmarks"):
            raise UserError("benchmarks must name at least one benchmark of the catalog")


@dataclass
class PerplexitySettings:
    max_samples: int = setting(MISSING, ge=1)
    batch_size: int = setting(MISSING, ge=1)
    max_tokens: int = setting(MISSING, ge=1)


@dataclass
class AnalyzeApp:
    """mdrl analyze: ks whole numbers >= 1; steps last | all; confidence strictly between 0 and 1."""

    ks: List[int] = setting(MISSING, ge=1, each=True)
    steps: str = setting(MISSING, choices=("last", "all"))
    n_boot: int = setting(MISSING, ge=1)
    confidence: float = setting(MISSING, gt=0, lt=1)
    seed: int = MISSING
    perplexity: PerplexitySettings = field(default_factory=PerplexitySettings)
    plots: bool = MISSING
    progress: bool = MISSING


@dataclass
class DataApp:
    """mdrl data: action fetch | list; retries >= 0; timeout_s > 0."""

    action: str = setting(MISSING, choices=("fetch", "list"))
    retries: int = setting(MISSING, ge=0)
    timeout_s: float = setting(MISSING, gt=0)


APPS: dict[str, Any] = {
    "score": ScoreApp,
    "train": TrainApp,
    "prepare": TrainApp,
    "eval": EvalApp,
    "analyze": AnalyzeApp,
    "data": DataApp,
}
