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
import time
import traceback
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from mdrl.errors import UserError
from mdrl.jobs.prepare import prepare
from mdrl.jobs.records import provenance
from mdrl.jobs.validate import check_experiment, check_local_model


_LOG_FILE: Path | None = None  # the run's train.log, set by run()


def log(msg: str, echo: bool = True) -> None:
    """Progress messages go to stderr (stdout stays clean: dry_run prints YAML there) and train.log."""
    if echo:
        print(f"[mdrl] {msg}", file=sys.stderr, flush=True)
    if _LOG_FILE is not None:
        with _LOG_FILE.open("a", encoding="utf-8") as fh:
            fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}\n")


def choose_backend(requested: str) -> tuple[str, str]:
    """The backend to use and why."""
    import torch

    gpu = torch.cuda.is_available()
    vllm = importlib.util.find_spec("vllm") is not None
    if requested == "trl":
        return "trl", "requested"
    if requested == "verl":
        if not (gpu and vllm):
            missing = " and ".join(x for x, ok in (("no CUDA GPU is visible", gpu), ("vLLM is not installed", vllm)) if not ok)
            raise UserError(f"backend=verl needs a CUDA GPU and vLLM, but {missing} (install the GPU stack with pip install -e '.[gpu]' on a GPU machine, or use backend=trl)")
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
    """Entry point of ``mdrl train``: a failed run leaves ``FAILED`` (the reason) and train.log."""
    global _LOG_FILE
    from mdrl.jobs import stages
    from mdrl.jobs.adaptive_data import expand_levels

    if stages.is_chain(cfg):  # staged curriculum: one job per stage (mdrl/jobs/stages.py)
        return stages.run_chain(cfg, run, "verl" if cfg.dry_run else choose_backend(str(cfg.backend))[0])
    cfg = expand_levels(cfg)  # adaptive curriculum: every level of each generated source
    run_dir = Path(str(cfg.run_dir)).resolve()
    if cfg.dry_run:
        check_experiment(cfg)
        return _run(cfg, run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    _LOG_FILE = run_dir / "train.log"
    marker = run_dir / "FAILED"
    marker.unlink(missing_ok=True)
    try:
        check_experiment(cfg)
        return _run(cfg, run_dir)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            reason = f"interrupted; rerun with hydra.run.dir={run_dir} to resume"
        else:
            reason = str(exc) if isinstance(exc, UserError) else "".join(traceback.format_exception(exc))
        marker.write_text(f"{type(exc).__name__}: {reason}\n")
        # a UserError is printed once, by the CLI; here it only goes to train.log
        log(f"failed: {reason.strip().splitlines()[-1] if reason.strip() else type(exc).__name__} (reason in {marker})", echo=not isinstance(exc, UserError))
        raise
    finally:
        _LOG_FILE = None


def _run(cfg: DictConfig, run_dir: Path) -> dict:
    from mdrl.jobs import verl_config

    _warn_template(cfg)
    if cfg.dry_run:
        data_dir = run_dir / "data"
        model = _model_path(cfg, run_dir, dry=True)
        vcfg = verl_config.build(cfg, [str(data_dir / "train.parquet")], str(data_dir / "val.parquet"), model)
        _check_layout(cfg, vcfg, model)
        verl_config.validate(vcfg)
        print(OmegaConf.to_yaml(vcfg))
        return {"dry_run": True}
    backend, why = choose_backend(str(cfg.backend))
    log(f"backend: {backend} ({why})")
    check_local_model(cfg, backend)
    if backend == "verl":  # a layout that cannot work is refused before any data is prepared
        planned = _model_path(cfg, run_dir, dry=True)
        _check_layout(cfg, verl_config.build(cfg, [str(run_dir / "data" / "train.parquet")], None, planned), planned)
    manifest = prepare(cfg, run_dir / "data")
    log(f"data: {manifest['rows_per_study_domain']} train rows per study domain, {manifest['val_rows']} val rows -> {run_dir / 'data'}")
    OmegaConf.save(cfg, run_dir / "config.yaml", resolve=True)
    if backend == "trl":
        summary = _train_trl(cfg, run_dir, manifest)
    else:
        summary = _train_verl(cfg, run_dir, manifest, verl_config)
    summary.update({"backend": backend, "backend_reason": why, "provenance": provenance()})
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    log(f"done: {json.dumps({k: summary[k] for k in summary if k != 'provenance'}, default=str)}")
    return summary


def _check_layout(cfg: DictConfig, vcfg: DictConfig, model: str) -> None:
    """Refuse GPU layouts veRL cannot roll out on, and models that cannot fit (one sentence)."""
    from mdrl.jobs import gpu_layout

    gpus = gpu_layout.resolve(cfg.cluster)
    if gpus.note:
        log(gpus.note)
    gpu_layout.check(vcfg, gpu_layout.count_params(cfg.model, model), gpus.memory_gb)


def _model_path(cfg: DictConfig, run_dir: Path, dry: bool = False, texts: str | None = None) -> str:
    """The model to train: ``model.path``, or a tiny model built here (its tokenizer trained on ``texts``, a parquet)."""
    if cfg.model.get("path"):
        return str(cfg.model.path)
    if "build" not in cfg.model:
        raise UserError(f"model {cfg.model.name} has neither a path nor build settings")
    target = run_dir / "model"
    if dry:
        return str(target)
    from mdrl.jobs.tiny_model import ensure_tiny_model

    # the tokenizer texts are read only here: a real model never needs them
    return ensure_tiny_model(OmegaConf.to_container(cfg.model, resolve=True), _texts(texts) if texts and not (target / "tokenizer.json").is_file() else [], target)


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

    train_file = _one_train_file(manifest)
    model = _model_path(cfg, run_dir, texts=train_file)
    settings = OmegaConf.to_container(cfg.reward, resolve=True)
    try:
        summary = train_trl(OmegaConf.to_container(cfg, resolve=True), model, train_file, run_dir, settings, manifest.get("val_file"))
    finally:
        shutdown()
    png = plot_reward_curve(summary["metrics"], run_dir / "reward_curve.png")
    summary["reward_curve"] = str(png)
    return summary


def _one_train_file(manifest: dict) -> str:
    # Staged curricula never reach here: run() hands them to mdrl/jobs/stages.py, one job per
    # stage, so one job trains exactly one file.
    files = manifest["train_files"]
    if len(files) != 1:
        raise UserError(f"one training job takes one train file, not {len(files)}; staged curricula run as chains (mdrl/jobs/stages.py)")
    return files[0]


def _train_verl(cfg: DictConfig, run_dir: Path, manifest: dict, verl_config) -> dict:
    train_file = _one_train_file(manifest)
    model = _model_path(cfg, run_dir, texts=train_file)
    vcfg = verl_config.build(cfg, [train_file], manifest["val_file"], model, run_dir)
    _check_layout(cfg, vcfg, model)
    verl_config.validate(vcfg)
    cfg_path = run_dir / "verl_config.yaml"
    OmegaConf.save(vcfg, cfg_path)
    cmd = verl_config.launch_command(cfg_path)
    log(f"launching veRL: {' '.join(cmd)}")
    rc = subprocess.call(cmd)
    if rc != 0:
        raise UserError(f"veRL exited with status {rc}; its log is above and its config is in {cfg_path}")
    return {"verl_configs": [str(cfg_path)], "final_model": verl_config.latest_hf_checkpoint(run_dir) or model}
