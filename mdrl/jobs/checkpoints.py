"""Finding the model states to evaluate: a Hugging Face model, or every checkpoint of a run.

``model=`` may name
- a Hugging Face model folder (config.json) or hub id: one state, step -1;
- a TRL run folder: every ``checkpoint-N`` below it (mdrl's ``trl/grpo/checkpoint-N``), plus
  ``trl/final`` as the last step;
- a veRL run folder: every ``global_step_N/actor`` below it. veRL saves FSDP shards
  (``model_world_size_W_rank_R.pt``) and the HF config/tokenizer in ``actor/huggingface``; the
  shards are converted once with veRL's own model merger
  (``python -m verl.model_merger merge --backend fsdp --local_dir ACTOR --target_dir OUT``)
  into ``actor/merged_hf`` and reused afterwards. Where ``actor/huggingface`` already holds
  weights (``save_contents`` with hf_model) it is used as it is.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

from mdrl.errors import UserError

WEIGHTS = ("*.safetensors", "pytorch_model*.bin")
_TRL = re.compile(r"^checkpoint-(\d+)$")
_VERL = re.compile(r"^global_step_(\d+)$")


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """One model state: its step in training (-1 = not from a run), where it is, what it is."""

    step: int
    path: str
    kind: str  # hf | trl | verl
    needs_merge: bool = False
    actor_dir: str | None = None


def has_weights(folder: Path) -> bool:
    """True when ``folder`` holds a loadable HF model (config and weights)."""
    return (folder / "config.json").is_file() and any(any(folder.glob(p)) for p in WEIGHTS)


def complete_trl_checkpoints(folder: Path) -> list[Path]:
    """The ``checkpoint-N`` folders directly in ``folder`` that were written to the end, by step.

    transformers' Trainer writes trainer_state.json last (after weights, optimizer and RNG
    state), so a run killed while saving leaves a folder without a readable one: that folder
    cannot be resumed from and is left out.
    """
    found = [p for p in Path(folder).glob("checkpoint-*") if p.is_dir() and _TRL.match(p.name)]
    done = [p for p in found if has_weights(p) and _trainer_step(p / "trainer_state.json") is not None]
    return sorted(done, key=lambda p: int(_TRL.match(p.name).group(1)))  # type: ignore[union-attr]


def _trl_checkpoints(root: Path) -> list[Checkpoint]:
    found = [p for p in root.rglob("checkpoint-*") if p.is_dir() and _TRL.match(p.name) and has_weights(p)]
    out = [Checkpoint(int(_TRL.match(p.name).group(1)), str(p), "trl") for p in found]  # type: ignore[union-attr]
    final = root / "trl" / "final" if (root / "trl").is_dir() else root / "final"
    if out and has_weights(final):
        # the final model is saved after the last step: give it the step after the last checkpoint
        # only when it differs from it (TRL's last save is usually the same state)
        last = max(c.step for c in out)
        state = final / "trainer_state.json"
        step = _trainer_step(state) if state.is_file() else None
        if step is None or step > last:
            out.append(Checkpoint(step if step is not None else last + 1, str(final), "trl"))
    elif has_weights(final):
        out.append(Checkpoint(_trainer_step(final / "trainer_state.json") or 0, str(final), "trl"))
    return out


def _trainer_step(state: Path) -> int | None:
    import json

    try:
        return int(json.loads(state.read_text())["global_step"])
    except Exception:  # noqa: BLE001 - a missing or partial file just means "unknown"
        return None


def _verl_checkpoints(root: Path) -> list[Checkpoint]:
    out = []
    for step_dir in root.rglob("global_step_*"):
        m = _VERL.match(step_dir.name)
        actor = step_dir / "actor"
        if not (m and actor.is_dir()):
            continue
        hf = actor / "huggingface"
        if has_weights(hf):
            out.append(Checkpoint(int(m.group(1)), str(hf), "verl"))
        elif any(actor.glob("model_world_size_*_rank_*.pt")):
            merged = actor / "merged_hf"
            out.append(Checkpoint(int(m.group(1)), str(merged), "verl", needs_merge=not has_weights(merged), actor_dir=str(actor)))
    return out


def discover(model: str) -> list[Checkpoint]:
    """The model states ``model`` names, sorted by step (see the module docstring)."""
    p = Path(str(model)).expanduser()
    if not p.exists():
        if str(model).startswith((".", "/", "~")) or p.suffix:
            raise UserError(f"model path not found: {p}")
        return [Checkpoint(-1, str(model), "hf")]  # a hub id; transformers/vLLM resolve it
    if p.is_file():
        raise UserError(f"model must be a folder or a Hugging Face id, not a file: {p}")
    if has_weights(p):
        m = _TRL.match(p.name)
        return [Checkpoint(int(m.group(1)) if m else -1, str(p), "trl" if m else "hf")]
    found = _verl_checkpoints(p) or _trl_checkpoints(p)
    if not found:
        raise UserError(f"no model in {p}: expected config.json with weights, TRL checkpoint-N folders or veRL global_step_N/actor folders")
    by_step: dict[int, Checkpoint] = {}
    for c in sorted(found, key=lambda c: (c.step, c.path)):
        by_step.setdefault(c.step, c)
    return [by_step[s] for s in sorted(by_step)]


def merge_command(actor_dir: str, target_dir: str) -> list[str]:
    """veRL's own FSDP-to-HF converter for one actor checkpoint."""
    return [sys.executable, "-m", "verl.model_merger", "merge", "--backend", "fsdp", "--local_dir", actor_dir, "--target_dir", target_dir]


def materialise(ckpt: Checkpoint, runner: Callable[[list[str]], int] | None = None) -> str:
    """A loadable HF folder for ``ckpt``, merging veRL FSDP shards first where needed."""
    if not ckpt.needs_merge:
        return ckpt.path
    assert ckpt.actor_dir is not None
    target = Path(ckpt.path)
    tmp = target.with_name(target.name + ".partial")
    cmd = merge_command(ckpt.actor_dir, str(tmp))
    run = runner or (lambda c: subprocess.run(c, stdout=sys.stderr).returncode)
    rc = run(cmd)
    if rc != 0 or not has_weights(tmp):
        raise UserError(f"veRL's model merger failed for {ckpt.actor_dir} (exit {rc}); command: {' '.join(cmd)}")
    # tokenizer files travel with the config in actor/huggingface; the merger copies them in
    # recent veRL, but make sure a tokenizer is beside the weights either way
    src = Path(ckpt.actor_dir) / "huggingface"
    for f in src.glob("*"):
        if f.is_file() and not (tmp / f.name).exists():
            (tmp / f.name).write_bytes(f.read_bytes())
    if target.exists():
        import shutil

        shutil.rmtree(target)
    tmp.replace(target)
    return str(target)
