"""``conf/model``: which policy model, and how veRL holds it.

``conf/model/<name>.yaml`` extends :class:`ModelConfig`. A model built offline
(``model=tiny``, ``*-random``) has a ``build`` block whose values live in its YAML (each
such model has its own shape; :class:`BuildConfig` only types and bounds them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from omegaconf import MISSING

from mdrl.config.checks import setting


def template_names() -> list[str]:
    """The options of ``conf/template`` (a model's default template must be one of them)."""
    import mdrl.conf

    return sorted(p.stem for p in Path(mdrl.conf.__file__).resolve().parent.joinpath("template").glob("*.yaml") if not p.stem.startswith("_"))


@dataclass
class BuildConfig:
    """The shape of a model built offline: a Qwen2 decoder and a BPE tokenizer of vocab_size."""

    vocab_size: int = setting(MISSING, ge=64)
    hidden_size: int = setting(MISSING, ge=1)
    intermediate_size: int = setting(MISSING, ge=1)
    num_hidden_layers: int = setting(MISSING, ge=1)
    num_attention_heads: int = setting(MISSING, ge=1)
    num_key_value_heads: int = setting(MISSING, ge=1)
    max_position_embeddings: int = setting(MISSING, ge=16)
    seed: int = 0

    @classmethod
    def check_node(cls, node, prefix: str) -> None:
        from mdrl.errors import UserError

        heads, kv, hidden = node.get("num_attention_heads"), node.get("num_key_value_heads"), node.get("hidden_size")
        if isinstance(heads, int) and isinstance(hidden, int) and hidden % heads:
            raise UserError(f"{prefix}.hidden_size ({hidden}) must be a multiple of {prefix}.num_attention_heads ({heads})")
        if isinstance(heads, int) and isinstance(kv, int) and heads % kv:
            raise UserError(f"{prefix}.num_attention_heads ({heads}) must be a multiple of {prefix}.num_key_value_heads ({kv})")


@dataclass
class ModelConfig:
    """``model``: the policy.

    name: the model file's name (run folders carry it). path: a Hugging Face id or a local
    directory; null = build the model described by ``build`` into the run directory.
    default_template: the template this model was trained for (r1 for base models,
    qwen_chat for instruct ones); another template= is warned about.
    enable_gradient_checkpointing, use_remove_padding: veRL's actor model switches.
    params_b: parameters in billions, for the GPU fit check (> 0; a local path's config.json
    wins; null = read it from there). rollout_tp: vLLM tensor-parallel size of one rollout
    replica (>= 1). build: the shape of a model built offline (:class:`BuildConfig`).
    """

    name: str = MISSING
    path: Optional[str] = None
    default_template: str = setting("r1", choices=template_names)
    enable_gradient_checkpointing: bool = False
    use_remove_padding: bool = False
    params_b: Optional[float] = setting(None, gt=0)
    rollout_tp: int = setting(1, ge=1)
    build: Optional[BuildConfig] = None
