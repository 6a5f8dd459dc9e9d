"""Typed configs: dataclass schemas of mdrl's Hydra config groups, and the check after compose.

Modelled on Hydra's structured configs (ConfigStore + dataclasses) and veRL's own dataclass
configs. Two kinds of schema:

* **Merged** (reward, algorithm, model, cluster, curriculum, mixture): registered in
  Hydra's ConfigStore under ``_schema/<group>/<name>``; each option file extends one
  (``defaults: [/_schema/reward/base@_here_, _self_]``), so OmegaConf types every value as
  Hydra composes, unknown keys are refused, and **the defaults live in the dataclass
  only** (the option file sets what it changes). Defaults are in Python rather than YAML
  because code that runs without Hydra needs them too: the veRL reward hook, TRL's reward
  function and ``score_one`` called directly.
* **Checked** (template, protocol, language, and each command's top-level keys): values
  stay in their YAML files (written by hand per option, or documented in the command's
  file that ``--help`` prints); the schema only bounds them.

:func:`validate` runs every schema's constraints on a composed config and raises
:class:`~mdrl.errors.UserError` with one sentence; ``mdrl <command>`` calls it right after
composing, for every command and every job of a sweep.
"""

from __future__ import annotations

from typing import Any

from mdrl.config.algorithm import AlgorithmConfig
from mdrl.config.apps import APPS
from mdrl.config.checks import check, setting
from mdrl.config.cluster import ClusterConfig
from mdrl.config.curriculum import AdaptiveCurriculum, OrderedCurriculum, ShuffledCurriculum
from mdrl.config.groups import LanguageChecks, ProtocolChecks, TemplateChecks
from mdrl.config.mixture import MixtureConfig
from mdrl.config.model import ModelConfig
from mdrl.config.reward import RewardConfig

__all__ = ["register_schemas", "validate", "check", "setting", "RewardConfig", "AlgorithmConfig",
           "ModelConfig", "ClusterConfig", "MixtureConfig", "ShuffledCurriculum", "OrderedCurriculum",
           "AdaptiveCurriculum"]

# ConfigStore group -> {name: schema}; option files extend "/_schema/<group>/<name>@_here_".
# The leading "_" keeps them off mdrl's option lists (help, completion, error messages).
MERGED: dict[str, dict[str, type]] = {
    "reward": {"base": RewardConfig},
    "algorithm": {"base": AlgorithmConfig},
    "model": {"base": ModelConfig},
    "cluster": {"base": ClusterConfig},
    "mixture": {"base": MixtureConfig},
    "curriculum": {"shuffled": ShuffledCurriculum, "ordered": OrderedCurriculum, "adaptive": AdaptiveCurriculum},
}

CHECKED: dict[str, type] = {"template": TemplateChecks, "protocol": ProtocolChecks, "language": LanguageChecks}


def register_schemas() -> None:
    """Put the merged schemas into Hydra's ConfigStore (idempotent; before any compose)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    for group, schemas in MERGED.items():
        for name, node in schemas.items():
            cs.store(group=f"_schema/{group}", name=name, node=node)


def _schema_of(group: str, node: Any) -> type | None:
    """The dataclass a composed group node was built from (its OmegaConf object type)."""
    if group in CHECKED:
        return CHECKED[group]
    schemas = MERGED.get(group) or {}
    kind = getattr(getattr(node, "_metadata", None), "object_type", None)
    if kind in schemas.values():
        return kind
    return next(iter(schemas.values()), None)


def validate(command: str, cfg: Any) -> None:
    """Refuse the first value of ``cfg`` (command ``command``) that a schema does not allow."""
    if command in APPS:
        check(cfg, APPS[command], "")
    for group in list(MERGED) + list(CHECKED):
        if group in cfg:
            schema = _schema_of(group, cfg[group])
            if schema is not None:
                check(cfg[group], schema, group)
