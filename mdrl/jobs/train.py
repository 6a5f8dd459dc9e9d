"""``mdrl train``: prepare the data, then run the experiment on veRL (or TRL locally).

backend=auto picks veRL where a GPU and vLLM are present (veRL 0.9 rolls out only through
vLLM/SGLang/TRT-LLM) and TRL's GRPOTrainer otherwise, and says which. dry_run=true prints
the complete veRL config as YAML, validated by veRL's own code, and exits.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from mdrl.errors import UserError
from mdrl.jobs.prepare import prepare
from mdrl.jobs.records import provenance


def log(msg: str) -> None:
    """Progress messages go to stderr so stdout stays clean (dry_run prints YAML there)."""
    print(f"[mdrl] {msg}", file=sys.stderr, flush=True)


def choose_backend(requested: str) -> tuple[str, str]:
    """The backend to use and why."""
    import torch

    gpu = torch.cuda.is_available()
    vllm = importlib.util.find_spec("vllm") is not None
    if requested == "trl":
        return "trl", "requested"
    if requested == "verl":
        return "verl", "requested"
    if requested != "auto":
        raise UserError(f"backend must be auto, verl or trl, not {requested!r}")
    if gpu and vllm:
        return "verl", "a GPU and vLLM are present"
    missing = " and ".join(x for x, ok in (("a GPU", gpu), ("vLLM", vllm)) if not ok)
    return "trl", f"{missing} not found, so veRL cannot roll out; using TRL's GRPOTrainer locally"


def _warn_template(cfg: DictConfig) -> None:
    want = cfg.model.get("default_template")
    # template=released is what the authors fed base and instruct models alike
    if want and want != cfg.template.name and cfg.template.name != "released":
        log(f"warning: template={cfg.template.name} but {cfg.model.name} expects template={want}; mismatched templates cost accuracy")


def run(cfg: DictConfig) -> dict:
    """Entry point of ``mdrl train``."""
    from mdrl.jobs import verl_config

    run_dir = Path(str(cfg.run_dir)).resolve()
    _warn_template(cfg)
    if cfg.dry_run:
        data_dir = run_dir / "data"
        vcfg = verl_config.build(cfg, [str(data_dir / "train.parquet")], str(data_dir / "val.parquet"), _model_path(cfg, run_dir, dry=True))
        verl_config.validate(vcfg)
        print(OmegaConf.to_yaml(vcfg))
        return {"dry_run": True}
    backend, why = choose_backend(str(cfg.backend))
    log(f"backend: {backend} ({why})")
    manifest = prepare(cfg, run_dir / "data")
    log(f"data: {manifest['rows_per_domain']} train rows per study domain, {manifest['val_rows']} val rows -> {run_dir / 'data'}")
    OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
    if backend == "trl":
        summary = _train_trl(cfg, run_dir, manifest)
    else:
        summary = _train_verl(cfg, run_dir, manifest, verl_config)
    summary.update({"backend": backend, "backend_reason": why, "provenance": provenance()})
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    log(f"done: {json.dumps({k: summary[k] for k in summary if k != 'provenance'}, default=str)}")
    return summary


def _model_path(cfg: DictConfig, run_dir: Path, dry: bool = False, texts: list[str] | None = None) -> str:
    if cfg.model.get("path"):
        return str(cfg.model.path)
    if "build" not in cfg.model:
        raise UserError(f"model {cfg.model.name} has neither a path nor build settings")
    target = run_dir / "model"
    if dry:
        return str(target)
    from mdrl.jobs.tiny_model import ensure_tiny_model

    return ensure_tiny_model(OmegaConf.to_container(cfg.model, resolve=True), texts or [], target)


def _texts(parquet: str) -> list[str]:
    import pandas as pd

    from mdrl.jobs.warmup import gold_response

    df = pd.read_parquet(parquet)
    out = []
    for r in df.to_dict("records"):
        out.append(r["extra_info"].get("raw_prompt") or " ".join(m["content"] for m in r["prompt"]))
        out.append(gold_response(r["extra_info"].get("domain", ""), r) or "")
    return out


def _train_trl(cfg: DictConfig, run_dir: Path, manifest: dict) -> dict:
    from mdrl.analysis.curves import plot_reward_curve
    from mdrl.jobs.trl_backend import train_trl
    from mdrl.scoring.executor import shutdown

    if len(manifest["train_files"]) > 1:
        log("note: the TRL backend trains the curriculum stages as one ordered file")
    train_file = manifest["train_files"][0]
    if len(manifest["train_files"]) > 1:
        import pandas as pd

        train_file = str(run_dir / "data" / "train_all_stages.parquet")
        pd.concat([pd.read_parquet(f) for f in manifest["train_files"]]).to_parquet(train_file, index=False)
    model = _model_path(cfg, run_dir, texts=_texts(train_file))
    settings = OmegaConf.to_container(cfg.reward, resolve=True)
    try:
        summary = train_trl(OmegaConf.to_container(cfg, resolve=True), model, train_file, run_dir, settings)
    finally:
        shutdown()
    png = plot_reward_curve(summary["metrics"], run_dir / "reward_curve.png")
    summary["reward_curve"] = str(png)
    return summary


def _train_verl(cfg: DictConfig, run_dir: Path, manifest: dict, verl_config) -> dict:
    model = _model_path(cfg, run_dir, texts=_texts(manifest["train_files"][0]))
    results = []
    for i, train_file in enumerate(manifest["train_files"]):
        stage_dir = run_dir if len(manifest["train_files"]) == 1 else run_dir / f"stage{i}"
        vcfg = verl_config.build(cfg, [train_file], manifest["val_file"], model, stage_dir)
        verl_config.validate(vcfg)
        cfg_path = stage_dir / "verl_config.yaml"
        stage_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(vcfg, cfg_path)
        cmd = verl_config.launch_command(cfg_path)
        log(f"launching veRL (stage {i}): {' '.join(cmd)}")
        rc = subprocess.call(cmd)
        if rc != 0:
            raise UserError(f"veRL exited with status {rc}; its log is above and its config is in {cfg_path}")
        results.append(str(cfg_path))
        # policy refresh: the next stage starts from this stage's weights with a new
        # reference model and optimizer (a new veRL job does exactly that)
        model = verl_config.latest_hf_checkpoint(stage_dir) or model
    return {"verl_configs": results, "final_model": model}
