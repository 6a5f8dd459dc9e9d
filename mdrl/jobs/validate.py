"""Checks of an experiment's settings before any work: one readable sentence per mistake.

``mdrl prepare`` and ``mdrl train`` (``dry_run=true`` included) call :func:`check_experiment`
first, so a negative size, a missing data folder or an unknown backend is refused before
minutes are spent preparing rows or building a model (values against the schemas of
mdrl/config, files against the disk). :func:`check_local_model` refuses a
model that cannot train on this machine's CPU before anything is downloaded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Mapping

from omegaconf import DictConfig, OmegaConf

from mdrl.errors import UserError

# Larger models are refused on CPU: a 7B policy plus its reference does not fit a laptop's
# memory, and each GRPO step would take hours.
CPU_MAX_PARAMS = 1.5e9


def missing_files(mixture: Mapping, catalog: Mapping) -> list[str]:
    """One sentence per local file the mixture's sources and validation sets read but that is absent."""
    from mdrl.jobs.sources import resolve_path

    root = str(catalog.get("data_root"))
    wanted = [(f"source {n}", (catalog.get("sources") or {}).get(n), "train") for n in mixture.get("sources") or {}]
    wanted += [(f"validation set {n}", (catalog.get("benchmarks") or {}).get(n), None) for n in mixture.get("val") or []]
    where = f"data_root {root}" if Path(root).expanduser().is_dir() else f"data_root {root}, which does not exist"
    out = []
    for label, entry, split in wanted:
        if entry is None:
            continue  # prepare names the unknown source with the catalog's choices
        entry = entry.get(split, entry) if split else entry
        for f in (entry or {}).get("files") or []:
            path = resolve_path(root, str(f))
            if not path.is_file():
                out.append(
                    f"{label}: data file not found: {path} ({where}; set MDRL_DATA or catalog.data_root=/path/to/data, "
                    "see 'Data' in the README)"
                )
    return out


def check_experiment(cfg: DictConfig) -> None:
    """Refuse impossible settings of ``mdrl prepare``/``mdrl train`` in one sentence.

    Values, ranges and choices are the schemas' (mdrl/config: backend, trl.*, mixture
    sizes and weights, ...); what needs the disk (data files) is checked here.
    """
    from mdrl.config import validate

    validate("train", cfg)
    mixture = OmegaConf.to_container(cfg.mixture, resolve=True)
    catalog = OmegaConf.to_container(cfg.catalog, resolve=True)
    missing = missing_files(mixture, catalog)  # type: ignore[arg-type]
    if missing and not cfg.get("dry_run"):
        raise UserError(missing[0])
    if missing:
        # a dry run prints the config for the machine that will run it, which may hold the
        # data this one lacks: say so instead of refusing
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        print(f"[mdrl] warning: {missing[0]}{more}; the printed config expects the files where it runs", file=sys.stderr)


def model_params(config: Mapping) -> float:
    """Approximate parameter count of a decoder from its Hugging Face config.json."""
    h, layers = int(config.get("hidden_size", 0)), int(config.get("num_hidden_layers", 0))
    inter, vocab = int(config.get("intermediate_size", 4 * h)), int(config.get("vocab_size", 0))
    heads = int(config.get("num_attention_heads") or 1)
    kv = int(config.get("num_key_value_heads") or heads) * (h // heads)  # grouped-query attention
    attention = 2 * h * h + 2 * h * kv  # q, o and k, v projections
    return layers * (attention + 3 * h * inter) + vocab * h * (1 if config.get("tie_word_embeddings") else 2)


def check_local_model(cfg: DictConfig, backend: str) -> None:
    """Refuse, before any download, a model that cannot train on this machine's CPU."""
    import torch

    path = cfg.model.get("path")
    if backend != "trl" or torch.cuda.is_available() or not path:
        return
    hint = "on CPU use model=tiny (the default) or a local model directory under ~1B parameters; dry_run=true prints the veRL config for a GPU cluster"
    local = Path(str(path)).expanduser()
    if not local.is_dir():
        raise UserError(f"model {cfg.model.name} is the Hugging Face id {path}, which this CPU-only machine would download and train on CPU; {hint}")
    conf = local / "config.json"
    if conf.is_file():
        params = model_params(json.loads(conf.read_text()))
        if params > CPU_MAX_PARAMS:
            raise UserError(f"model {cfg.model.name} has about {params / 1e9:.1f}B parameters, too many to train on CPU; {hint}")
