"""``mdrl prepare``: write a mixture's train/val parquet in veRL's layout plus a manifest.

Flow: catalog entries -> rows per source -> sizes/weights/normalisation -> template ->
curriculum order -> ``train.parquet`` (or one file per curriculum stage) and
``val.parquet`` in the run directory, with ``manifest.json`` recording rows per source,
file hashes and the resolved config.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from mdrl.errors import UserError
from mdrl.curricula import get_curriculum
from mdrl.jobs import language
from mdrl.jobs.records import provenance
from mdrl.jobs.sources import load_entry
from mdrl.jobs.templates import render
from mdrl.jobs.validate import check_experiment


def plan_sizes(available: Mapping[str, int], domains: Mapping[str, str], mixture: Mapping) -> dict[str, int]:
    """Rows to write per source, from sizes, weights and the normalisation setting."""
    sources = mixture["sources"]
    capped = {s: min(available[s], int(sources[s].get("size") or available[s])) for s in available}
    if not mixture.get("normalize"):
        return {s: max(0, round(capped[s] * float(sources[s].get("weight", 1.0)))) for s in capped}
    by_domain: dict[str, list[str]] = defaultdict(list)
    for s in capped:
        by_domain[domains[s]].append(s)
    per_domain = mixture.get("rows_per_domain") or min(sum(capped[s] for s in ss) for ss in by_domain.values())
    plan: dict[str, int] = {}
    for ss in by_domain.values():
        weights = {s: float(sources[s].get("weight", 1.0)) for s in ss}
        total_w = sum(weights.values()) or 1.0
        shares = {s: per_domain * weights[s] / total_w for s in ss}
        floors = {s: math.floor(v) for s, v in shares.items()}
        # hand leftover rows to the largest remainders so each domain totals exactly per_domain
        left = int(per_domain) - sum(floors.values())
        for s in sorted(ss, key=lambda s: shares[s] - floors[s], reverse=True)[:left]:
            floors[s] += 1
        plan.update(floors)
    return plan


def sample_rows(rows: list[dict], n: int, rng: random.Random) -> list[dict]:
    """``n`` rows: without replacement up to len(rows), then resampled with replacement."""
    if n <= len(rows):
        return rng.sample(rows, n)
    return list(rows) + [rng.choice(rows) for _ in range(n - len(rows))]


def apply_template(row: dict, template: Mapping, domain: str) -> dict:
    """A copy of ``row`` whose prompt is rendered by ``template`` from the bare question."""
    info = dict(row.get("extra_info") or {})
    question = info.get("question")
    if not question:
        raise UserError(f"a {domain} row has no extra_info.question to template (data_source {row.get('data_source')!r})")
    rendered = render(template, domain, question)
    info.update({"domain": domain, "template": template.get("name"), "raw_prompt": rendered["raw_prompt"]})
    return {**row, "prompt": rendered["prompt"], "extra_info": info}


def _to_parquet(rows: list[dict], path: Path) -> str:
    import pandas as pd

    df = pd.DataFrame(rows)
    # Ground truths differ in type across domains (dict, str); JSON text keeps one column type.
    df["reward_model"] = [{"style": "rule", "ground_truth": _gt_text(r["reward_model"]["ground_truth"])} for r in rows]
    df["extra_info"] = flatten_extra_info([r["extra_info"] for r in rows])
    tmp = path.with_suffix(".tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flatten_extra_info(infos: list[dict]) -> list[dict]:
    """extra_info dicts that pyarrow can store in one column across domains.

    Domains put different things under the same key (a string here, a list there) and
    pyarrow rejects mixed types, so nested values become JSON text and a key whose scalar
    types differ across rows becomes text everywhere.
    """
    scalar = (str, int, float, bool, type(None))
    infos = [{k: (v if isinstance(v, scalar) else json.dumps(v, default=str, sort_keys=True)) for k, v in i.items()} for i in infos]
    types: dict[str, set] = {}
    for info in infos:
        for k, v in info.items():
            if v is not None:
                types.setdefault(k, set()).add(float if type(v) is int else type(v))
    mixed = {k for k, t in types.items() if len(t) > 1}
    keys = sorted(types)
    return [{k: (None if info.get(k) is None else str(info[k]) if k in mixed else info[k]) for k in keys} for info in infos]


def _gt_text(gt: Any) -> str:
    return gt if isinstance(gt, str) else json.dumps(gt, sort_keys=True)


def prepare(cfg: DictConfig, out_dir: Path) -> dict:
    """Write the data of ``cfg`` into ``out_dir``; returns the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mixture = OmegaConf.to_container(cfg.mixture, resolve=True)
    catalog = OmegaConf.to_container(cfg.catalog, resolve=True)
    template = OmegaConf.to_container(cfg.template, resolve=True)
    cur_cfg = OmegaConf.to_container(cfg.curriculum, resolve=True)
    rng = random.Random(int(mixture.get("seed", 0)))
    zh_train, zh_val = language.for_split(cfg, "train"), language.for_split(cfg, "val")  # None where English

    pools: dict[str, list[dict]] = {}
    domains: dict[str, str] = {}
    for name in mixture["sources"]:
        entry = catalog["sources"].get(name)
        if entry is None:
            raise UserError(f"mixture source {name!r} is not in the catalog (known: {', '.join(catalog['sources'])})")
        domains[name] = entry["domain"]
        pools[name] = language.load_entry(entry["train"], entry["domain"], catalog["data_root"], "train", f"source {name}", zh_train)
        if not pools[name]:
            raise UserError(f"source {name!r} has no rows")
    plan = plan_sizes({s: len(r) for s, r in pools.items()}, domains, mixture)

    train, train_domains = [], []
    for name, n in plan.items():
        for row in sample_rows(pools[name], n, rng):
            train.append(apply_template(row, language.localize_template(template, zh_train), domains[name]))
            train_domains.append(domains[name])
    stages = get_curriculum(cur_cfg["name"])(train, train_domains, cur_cfg, rng)

    val = []
    for name in mixture.get("val") or []:
        entry = catalog["benchmarks"].get(name)
        if entry is None:
            raise UserError(f"validation set {name!r} is not in the catalog benchmarks (known: {', '.join(catalog['benchmarks'])})")
        rows = language.load_entry(entry, entry["domain"], catalog["data_root"], "test", f"benchmark {name}", zh_val)
        take = rows[: int(mixture.get("val_rows") or len(rows))]
        val.extend(apply_template(r, language.localize_template(template, zh_val), entry["domain"]) for r in take)

    files: dict[str, str] = {}
    stage_files = []
    for i, stage in enumerate(stages):
        fname = "train.parquet" if len(stages) == 1 else f"train_stage{i}.parquet"
        files[fname] = _to_parquet(stage, out_dir / fname)
        stage_files.append(str(out_dir / fname))
    if val:
        files["val.parquet"] = _to_parquet(val, out_dir / "val.parquet")
    manifest = {
        "mixture": mixture["name"],
        "rows": {
            s: {"domain": domains[s], "available": len(pools[s]), "written": plan[s], "weight": mixture["sources"][s].get("weight", 1.0)}
            for s in plan
        },
        "rows_per_domain": {d: sum(plan[s] for s in plan if domains[s] == d) for d in sorted(set(domains.values()))},
        "weights_realised_by": "row resampling into the written train parquet (veRL concatenates train files and has no per-file weight)",
        "normalize": bool(mixture.get("normalize")),
        "val_rows": len(val),
        "template": template.get("name"),
        "curriculum": {"name": cur_cfg["name"], "stages": [len(s) for s in stages]},
        "train_files": stage_files,
        "val_file": str(out_dir / "val.parquet") if val else None,
        "sha256": files,
        "config": OmegaConf.to_container(cfg, resolve=False),
        "provenance": provenance(),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def run(cfg: DictConfig) -> dict:
    """Entry point of ``mdrl prepare``."""
    from mdrl.jobs.adaptive_data import expand_levels

    out = Path(str(cfg.run_dir))
    check_experiment(cfg)  # one sentence for bad sizes, weights, backend or missing files
    manifest = prepare(expand_levels(cfg), out)  # curriculum=adaptive: every level of generated sources
    print(json.dumps({k: manifest[k] for k in ("mixture", "rows", "val_rows", "train_files", "val_file")}, indent=2))
    return manifest
