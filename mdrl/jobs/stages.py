"""Staged curricula as a chain of training jobs (``mdrl train curriculum=...`` with stages).

Each stage is a complete ``mdrl train`` job in ``run_dir/stages/<i>-<name>`` on its own
rows (a difficulty range or a part of the easy-to-hard order) and its own mixture, starting
from the previous stage's final weights (``final_model`` in the previous stage's folder: a
link to TRL's ``trl/final`` or veRL's last ``global_step_N/actor/huggingface``).

policy_refresh=true (the paper's "policy refresh"): the stage is a fresh job from those
weights, so its reference model is the previous stage's final policy and its optimizer
starts empty. policy_refresh=false: the reference stays the chain's first GRPO start model
and the optimizer state carries over: TRL resumes from the previous stage's last
checkpoint (policy weights + optimizer) with the first model as reference; veRL gets the
previous stage's last actor checkpoint seeded into the stage's checkpoint folder (without
its data.pt, so the new rows are read from the start) and resumes there, with the first
model as ``model.path`` (from which veRL builds the reference).

A finished stage leaves ``stage_done.json``; running the same command again skips finished
stages and resumes the first unfinished one (its own job resumes from its checkpoints).
``dry_run=true`` prints every stage's veRL config, one YAML document per stage.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf, open_dict

from mdrl.curricula import is_staged, stage_plan
from mdrl.errors import UserError


def log(msg: str) -> None:
    print(f"[mdrl] {msg}", file=sys.stderr, flush=True)


def is_chain(cfg: DictConfig) -> bool:
    """Whether ``cfg``'s curriculum has stages to run as a chain."""
    return is_staged(OmegaConf.to_container(cfg.curriculum, resolve=True))


def stage_dir(run_dir: Path, i: int, name: str) -> Path:
    return run_dir / "stages" / f"{i}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}"


def final_weights(sdir: Path) -> Path | None:
    """The final HF weights a finished stage left: TRL's trl/final or veRL's last actor/huggingface."""
    trl = sdir / "trl" / "final"
    if (trl / "config.json").is_file():
        return trl
    from mdrl.jobs.verl_config import latest_hf_checkpoint

    hf = latest_hf_checkpoint(sdir)
    if hf is None:
        return None
    if not any(Path(hf).glob("*.safetensors")) and not any(Path(hf).glob("*.bin")):
        raise UserError(f"stage checkpoint {hf} has no model weights (veRL writes them only with actor.checkpoint.save_contents including hf_model)")
    return Path(hf)


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(target, link.parent), target_is_directory=True)


def _last_trl_checkpoint(sdir: Path) -> Path | None:
    from mdrl.jobs.checkpoints import complete_trl_checkpoints

    found = complete_trl_checkpoints(sdir / "trl" / "grpo")
    return found[-1] if found else None


def _last_verl_step(sdir: Path) -> Path | None:
    found = sorted((sdir / "checkpoints").glob("global_step_*"), key=lambda p: int(p.name.split("_")[-1]))
    return found[-1] if found else None


def _grpo_start_model(sdir: Path, scfg: DictConfig) -> str:
    """The model a TRL stage's GRPO started from (its reference): the SFT warm-up or the stage model."""
    sft = sdir / "trl" / "sft_final"
    if (sft / "config.json").is_file():
        return str(sft)
    return str(scfg.model.path) if scfg.model.get("path") else str(sdir / "model")


def stage_config(cfg: DictConfig, i: int, stage: dict, sdir: Path, prev: dict | None, first: dict | None, refresh: bool, backend: str) -> DictConfig:
    """The complete config of stage ``i`` (a single-stage job in ``sdir``)."""
    scfg = cfg.copy()
    with open_dict(scfg):
        scfg.run_dir = str(sdir)
        if stage["mixture"]:
            scfg.mixture = OmegaConf.merge(scfg.mixture, stage["mixture"])
            kept = {k: v for k, v in scfg.mixture.sources.items() if float((v or {}).get("weight", 1.0)) > 0}
            if not kept:
                raise UserError(f"curriculum stage {stage['name']!r} gives every source weight 0")
            scfg.mixture.sources = kept
        # a stage job's curriculum carries keys no user sets (select, stage): leave the schema
        scfg.curriculum = OmegaConf.create(OmegaConf.to_container(scfg.curriculum))
        scfg.curriculum.stages = 1
        scfg.curriculum.select = stage["select"]
        scfg.curriculum.stage = {"index": i, "name": stage["name"]}
        if scfg.algorithm.get("verl") is None:
            scfg.algorithm.verl = {}
        if backend == "verl":  # later stages start from HF weights of this one
            scfg.algorithm.verl["actor_rollout_ref.actor.checkpoint.save_contents"] = ["model", "optimizer", "extra", "hf_model"]
        for key, value in stage["overrides"].items():
            OmegaConf.update(scfg, key, value, merge=True, force_add=True)
        if prev is not None:
            scfg.trl.sft_steps = 0  # the warm-up belongs before the first stage only
            if refresh:
                scfg.model.path = prev["final_model"]
            elif backend == "trl":
                scfg.model.path = first["reference_model"]
                if prev.get("last_checkpoint"):
                    scfg.trl.resume_from = prev["last_checkpoint"]
                    scfg.trl.max_steps = int(prev["global_step"]) + int(scfg.trl.max_steps)
            else:
                scfg.model.path = first["reference_model"]
    return scfg


def _seed_verl_resume(sdir: Path, prev: dict) -> int:
    """Point the stage's checkpoint folder at the previous stage's last actor checkpoint; returns its step."""
    step_dir = Path(prev["last_checkpoint"])
    step = int(step_dir.name.split("_")[-1])
    target = sdir / "checkpoints" / step_dir.name
    if not target.exists():
        target.mkdir(parents=True)
        for part in ("actor", "critic"):
            if (step_dir / part).exists():
                _link(target / part, step_dir / part)
        (sdir / "checkpoints" / "latest_checkpointed_iteration.txt").write_text(str(step))
    return step


def run_chain(cfg: DictConfig, run_one: Callable[[DictConfig], dict], backend: str) -> dict:
    """Run (or resume, or dry-run) every stage of ``cfg``'s curriculum with ``run_one``."""
    cur = OmegaConf.to_container(cfg.curriculum, resolve=True)
    try:
        plan = stage_plan(cur)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    refresh = bool(cur.get("policy_refresh", True))
    run_dir = Path(str(cfg.run_dir)).resolve()
    record: dict[str, Any] = {"policy_refresh": refresh, "backend": backend, "stages": []}
    prev: dict | None = None
    first: dict | None = None
    for i, stage in enumerate(plan):
        sdir = stage_dir(run_dir, i, stage["name"])
        done = sdir / "stage_done.json"
        if cfg.dry_run:
            scfg = stage_config(cfg, i, stage, sdir, prev, first, refresh, "verl")
            print(f"---\n# stage {i}: {stage['name']} (policy_refresh={str(refresh).lower()})", flush=True)
            run_one(scfg)
            prev = {"final_model": str(sdir / "final_model"), "last_checkpoint": str(sdir / "checkpoints" / "global_step_<last>"), "global_step": 0}
            first = first or {"reference_model": str(scfg.model.path or sdir / "model")}
            continue
        if done.is_file():
            info = json.loads(done.read_text())
            log(f"stage {i} ({stage['name']}) finished earlier: {info['final_model']}")
        else:
            scfg = stage_config(cfg, i, stage, sdir, prev, first, refresh, backend)
            info = _run_stage(scfg, run_one, backend, i, stage["name"], sdir, prev, refresh, len(plan))
            done.write_text(json.dumps(info, indent=2, default=str))
        record["stages"].append(info)
        prev, first = info, first or info
    if cfg.dry_run:
        return {"dry_run": True, "stages": len(plan)}
    record["final_model"] = prev["final_model"] if prev else None
    (run_dir / "chain.json").write_text(json.dumps(record, indent=2, default=str))
    return record


def _run_stage(scfg: DictConfig, run_one: Callable[[DictConfig], dict], backend: str, i: int, name: str, sdir: Path,
               prev: dict | None, refresh: bool, n_stages: int) -> dict:
    """Train one stage to its final weights; returns what ``stage_done.json`` records of it."""
    if prev is not None and not refresh and backend == "verl":
        from mdrl.jobs.prepare import prepare

        step = _seed_verl_resume(sdir, prev)
        rows = sum(prepare(scfg, sdir / "data")["curriculum"]["stages"])
        steps = rows // int(scfg.algorithm.train_batch_size) * int(scfg.algorithm.total_epochs)
        with open_dict(scfg):  # veRL continues its step count: the stage ends after its own steps
            scfg.algorithm.verl["trainer.total_training_steps"] = step + steps
    sdir.mkdir(parents=True, exist_ok=True)
    log(f"stage {i}/{n_stages - 1} ({name}): {'from ' + str(scfg.model.path) if prev else 'first stage'}")
    summary = run_one(scfg)
    final = final_weights(sdir)
    if final is None:
        raise UserError(f"stage {i} ({name}) ended without final weights in {sdir}")
    _link(sdir / "final_model", final)
    last = _last_trl_checkpoint(sdir) if backend == "trl" else _last_verl_step(sdir)
    return {
        "index": i,
        "name": name,
        "dir": str(sdir),
        "final_model": str(sdir / "final_model"),
        "last_checkpoint": str(last) if last else None,
        "global_step": int(re.split(r"[-_]", last.name)[-1]) if last else 0,
        "reference_model": _grpo_start_model(sdir, scfg) if backend == "trl" else str(scfg.model.path or sdir / "model"),
        "summary": {k: v for k, v in summary.items() if k != "provenance"},
    }
