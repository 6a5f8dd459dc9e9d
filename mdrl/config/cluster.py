"""``conf/cluster``: the machines a run uses (veRL's trainer.nnodes, n_gpus_per_node, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional

from omegaconf import MISSING

from mdrl.config.checks import setting


@dataclass
class ClusterConfig:
    """``cluster``: nodes, GPUs, scoring actors and loggers.

    name: the cluster file's name. nnodes: veRL's trainer.nnodes (>= 1).
    gpus_per_node: auto (this machine's GPUs; a dry run without one shows one 8-GPU node
    and says so) or a number >= 1. gpu_memory_gb: memory of one GPU for the fit check
    before launch: auto (this machine's) or a number > 0.
    scoring_actors: veRL's reward.num_workers, placed round-robin over the nodes (>= 1).
    scoring_workers: worker processes per scoring actor (>= 1); null = the node's cores
    divided among the actors on it. logger: a list of console, wandb, tensorboard, ...
    project, experiment: veRL's trainer.project_name / experiment_name.
    """

    name: str = MISSING
    nnodes: int = setting(1, ge=1)
    gpus_per_node: Any = setting("auto", choices=("auto",), ge=1)
    gpu_memory_gb: Any = setting("auto", choices=("auto",), gt=0)
    scoring_actors: int = setting(8, ge=1)
    scoring_workers: Optional[int] = setting(None, ge=1)
    logger: List[str] = setting(["console"])
    project: str = "mdrl"
    experiment: str = "${mixture.name}-${model.name}-${algorithm.name}-${reward.scheme}"
