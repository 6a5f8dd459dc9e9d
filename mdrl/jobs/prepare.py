"""``mdrl prepare``: write a mixture's train/val parquet in veRL's layout plus a manifest.

Flow: catalog entries -> rows per source -> template -> prompts longer than
``algorithm.max_prompt_length`` tokens dropped (the run's tokenizer and chat template, as
veRL's own filter would) -> sizes/weights/balancing per study domain (``group``, or per
source) -> curriculum order -> ``train.parquet`` (or one file per curriculum stage) and
``val.parquet`` in the run directory, with ``manifest.json`` recording rows per source and
group, rows dropped by length, the CodeR1 half used, file hashes and the resolved config.
"""

from __future__ import annotations

import dataclasses
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
from mdrl.domains.row_io import row_ground_truth
from mdrl.jobs.prompt_lengths import chat_template_for, load_tokenizer, prompt_lengths, split_by_length, tokenizer_name
from mdrl.jobs.sources import resolve_entry, source_entry
from mdrl.jobs.templates import render
from mdrl.jobs.validate import check_experiment


def plan_sizes(available: Mapping[str, int], units: Mapping[str, str], mixture: Mapping) -> dict[str, int]:
    """Rows to write per source, from sizes, weights and the normalisation setting.

    ``units`` maps each source to the unit balanced under ``normalize``: its study domain
    (``group``) or the source itself; every unit gets ``rows_per_study_domain`` rows (default:
    the smallest unit's total), split among its sources by weight (see ``split_unit``).
    A source of weight 0 gets none; a unit whose sources all weigh 0 gets none.
    """
    sources = mixture["sources"]
    capped = {s: min(available[s], int(sources[s].get("size") or available[s])) for s in available}
    weights = {s: float(sources[s].get("weight", 1.0)) for s in capped}
    if not mixture.get("normalize"):
        return {s: max(0, round(capped[s] * weights[s])) for s in capped}
    # weight 0 drops a source (how a curriculum stage leaves one out): it gets no rows and its
    # rows do not count toward its unit's size, else the unit's share would go unfilled
    by_unit: dict[str, list[str]] = defaultdict(list)
    for s in capped:
        if weights[s] > 0:
            by_unit[units[s]].append(s)
    plan: dict[str, int] = {s: 0 for s in capped}
    if not by_unit:
        return plan
    per_unit = mixture.get("rows_per_study_domain") or min(sum(capped[s] for s in ss) for ss in by_unit.values())
    for ss in by_unit.values():
        plan.update(split_unit(int(per_unit), {s: capped[s] for s in ss}, {s: weights[s] for s in ss}))
    return plan


def split_unit(total: int, caps: Mapping[str, int], weights: Mapping[str, float]) -> dict[str, int]:
    """``total`` rows split among sources by weight, exactly.

    A source is never asked for more rows than it has while the others have rows to spare
    (its shortfall goes to them by weight), so nothing is duplicated unless the unit as a
    whole is short of ``total``; then every source is resampled by weight.
    """
    names = list(caps)
    shares = {s: 0.0 for s in names}
    if total <= sum(caps.values()):
        left, open_ = float(total), set(names)
        while open_:
            w = sum(weights[s] for s in open_) or 1.0
            want = {s: left * weights[s] / w for s in open_}
            full = {s for s in open_ if want[s] >= caps[s]}
            if not full:
                shares.update(want)
                break
            for s in full:
                shares[s] = float(caps[s])
                left -= caps[s]
            open_ -= full
        limit = dict(caps)
    else:
        w = sum(weights.values()) or 1.0
        shares = {s: total * weights[s] / w for s in names}
        limit = {s: total for s in names}
    floors = {s: min(limit[s], math.floor(v + 1e-9)) for s, v in shares.items()}
    # hand leftover rows to the largest remainders (within limits) so the unit totals exactly
    left = total - sum(floors.values())
    for s in sorted(names, key=lambda s: shares[s] - floors[s], reverse=True):
        if left <= 0:
            break
        if floors[s] < limit[s]:
            floors[s] += 1
            left -= 1
    return floors


def balance_units(sources: Mapping[str, Mapping], mixture: Mapping) -> dict[str, str]:
    """Source -> the unit ``normalize`` balances: its group (default) or itself (balance=source)."""
    balance = mixture.get("balance", "group")
    if balance == "source":
        return {name: name for name in sources}
    if balance != "group":
        raise UserError(f"mixture.balance must be group or source, not {balance!r}")
    return {name: str(entry.get("group") or entry["domain"]) for name, entry in sources.items()}


def sample_rows(rows: list[dict], n: int, rng: random.Random) -> list[dict]:
    """``n`` rows: without replacement up to len(rows), then resampled with replacement."""
    if n <= len(rows):
        return rng.sample(rows, n)
    return list(rows) + [rng.choice(rows) for _ in range(n - len(rows))]


def apply_template(row: dict, template: Mapping, domain: str, released: bool = False) -> dict:
    """A copy of ``row`` whose prompt is rendered by ``template`` from the bare question.

    ``released``: the row comes from a file holding the authors' prompts, which
    template=released keeps as they are.
    """
    info = dict(row.get("extra_info") or {})
    question = info.get("question")
    if not question:
        raise UserError(f"a {domain} row has no extra_info.question to template (data_source {row.get('data_source')!r})")
    rendered = render(template, domain, question, own_prompt=row.get("prompt") if released else None)
    info.update({"domain": domain, "template": template.get("name"), "raw_prompt": rendered["raw_prompt"]})
    return {**row, "prompt": rendered["prompt"], "extra_info": info}


def code_halves(rows: list[dict]) -> dict[str, int]:
    """Rows per CodeR1-12k half: LeetCode and TACO-verified, by the row's ``dataset`` tag
    (CodeR1's files carry it), else by its tests (TACO's stdin/stdout cases)."""
    halves = {"leetcode": 0, "taco": 0}
    for r in rows:
        tag = str((r.get("extra_info") or {}).get("dataset") or "")
        if tag:
            taco = "taco" in tag.lower()
        else:
            gt = row_ground_truth(r)
            taco = isinstance(gt, Mapping) and "inputs" in gt
        halves["taco" if taco else "leetcode"] += 1
    return halves


def sample_val(rows: list[dict], n: int | None, rng: random.Random) -> list[dict]:
    """All of ``rows`` (n null), or ``n`` of them drawn at random in their original order.

    A random draw, not the first ``n``: benchmark files are ordered (KK by people, ZebraLogic
    by grid size), so a prefix would be a biased sample.
    """
    if not n or n >= len(rows):
        return list(rows)
    keep = sorted(rng.sample(range(len(rows)), int(n)))
    return [rows[i] for i in keep]


def write_rows(rows: list[dict], path: Path) -> str:
    """Rows in veRL's layout to one parquet file (written whole, then moved into place);
    returns the file's sha256. Every domain's rows can share the file (see below)."""
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


class _LengthFilter:
    """Drops rows whose prompt veRL would drop as too long; counts what it dropped."""

    def __init__(self, cfg: DictConfig, mixture: Mapping, template: Mapping):
        model = OmegaConf.to_container(cfg.model, resolve=True)
        self.max_len = int(cfg.algorithm.max_prompt_length)
        self.tokenizer = load_tokenizer(model) if mixture.get("filter_overlong", True) else None
        self.chat_template = chat_template_for(template)
        if not mixture.get("filter_overlong", True):
            self.skipped = "mixture.filter_overlong=false (veRL filters after balancing)"
        elif self.tokenizer is None:
            self.skipped = f"model {model.get('name')} is built during the run, so its tokenizer does not exist yet (veRL filters after balancing)"
        else:
            self.skipped = None
        self.tokenizer_name = tokenizer_name(model)

    def __call__(self, rows: list[dict], label: str) -> tuple[list[dict], int]:
        if self.skipped:
            return rows, 0
        lengths = prompt_lengths([r["prompt"] for r in rows], self.tokenizer, self.chat_template, label)
        return split_by_length(rows, lengths, self.max_len)

    def record(self, dropped: Mapping[str, int], totals: Mapping[str, int], val_dropped: Mapping[str, int], val_totals: Mapping[str, int]) -> dict:
        if self.skipped:
            return {"applied": False, "reason": self.skipped, "max_prompt_length": self.max_len}
        pct = lambda d, t: {k: round(100.0 * d[k] / t[k], 2) if t[k] else 0.0 for k in d}  # noqa: E731
        return {
            "applied": True,
            "max_prompt_length": self.max_len,
            "tokenizer": str(self.tokenizer_name),
            "chat_template": "pass-through (raw template)" if self.chat_template else "the tokenizer's own, with generation prompt",
            "dropped": dict(dropped),
            "dropped_pct": pct(dropped, totals),
            "val_dropped": dict(val_dropped),
            "val_dropped_pct": pct(val_dropped, val_totals),
        }


@dataclasses.dataclass
class _Sources:
    """The training sources of a mixture, loaded, templated and length-filtered."""

    entries: dict[str, dict] = dataclasses.field(default_factory=dict)  # catalog entry per source
    pools: dict[str, list[dict]] = dataclasses.field(default_factory=dict)  # rows that passed the filter
    loaded: dict[str, int] = dataclasses.field(default_factory=dict)
    dropped: dict[str, int] = dataclasses.field(default_factory=dict)
    used: dict[str, dict] = dataclasses.field(default_factory=dict)  # where each source's rows came from


def _load_sources(mixture: dict, catalog: dict, template: dict, zh: str | None, length_filter: _LengthFilter) -> _Sources:
    src = _Sources()
    for name in mixture["sources"]:
        entry = src.entries[name] = source_entry(catalog, name)
        domain = entry["domain"]
        spec = resolve_entry(entry["train"], catalog["data_root"], f"source {name}")
        rows = language.load_entry(spec, domain, catalog["data_root"], "train", f"source {name}", zh)
        if not rows:
            raise UserError(f"source {name!r} has no rows")
        src.used[name] = {k: spec[k] for k in ("loader", "files", "generate") if k in spec}
        if domain == "code":
            src.used[name]["coder1_halves"] = code_halves(rows)
        # template first: the prompt's length depends on it; then drop what veRL would drop
        # (language=zh rows carry Chinese prompts of their own: the released English ones do not apply)
        rows = [apply_template(r, template, domain, bool(spec.get("released_prompts")) and not zh) for r in rows]
        src.loaded[name] = len(rows)
        src.pools[name], src.dropped[name] = length_filter(rows, f"source {name}")
        if not src.pools[name]:
            raise UserError(f"source {name!r}: all {src.loaded[name]} prompts are longer than max_prompt_length={length_filter.max_len} tokens")
    return src


def _load_val(mixture: dict, catalog: dict, template: dict, zh: str | None, length_filter: _LengthFilter) -> tuple[list[dict], dict[str, dict]]:
    """The validation rows of ``mixture.val`` (benchmarks), sampled to ``val_rows`` each, and what was kept."""
    val: list[dict] = []
    val_info: dict[str, dict] = {}
    val_rng = random.Random(int(mixture.get("seed", 0)))
    for name in mixture.get("val") or []:
        entry = catalog["benchmarks"].get(name)
        if entry is None:
            raise UserError(f"validation set {name!r} is not in the catalog benchmarks (known: {', '.join(catalog['benchmarks'])})")
        spec = resolve_entry(entry, catalog["data_root"], f"benchmark {name}")
        rows = language.load_entry(spec, entry["domain"], catalog["data_root"], "test", f"benchmark {name}", zh)
        rows = [apply_template(r, template, entry["domain"], bool(spec.get("released_prompts")) and not zh) for r in rows]
        kept, n_dropped = length_filter(rows, f"benchmark {name}")
        take = sample_val(kept, mixture.get("val_rows"), val_rng)
        val_info[name] = {"group": entry.get("group"), "available": len(rows), "dropped_by_length": n_dropped, "written": len(take)}
        val.extend(take)
    return val, val_info


def prepare(cfg: DictConfig, out_dir: Path) -> dict:
    """Write the data of ``cfg`` into ``out_dir``; returns the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mixture = OmegaConf.to_container(cfg.mixture, resolve=True)
    catalog = OmegaConf.to_container(cfg.catalog, resolve=True)
    template = OmegaConf.to_container(cfg.template, resolve=True)
    cur_cfg = OmegaConf.to_container(cfg.curriculum, resolve=True)
    rng = random.Random(int(mixture.get("seed", 0)))
    zh_train, zh_val = language.for_split(cfg, "train"), language.for_split(cfg, "val")  # None where English
    train_template = language.localize_template(template, zh_train)
    length_filter = _LengthFilter(cfg, mixture, train_template)
    src = _load_sources(mixture, catalog, train_template, zh_train, length_filter)
    plan = plan_sizes({s: len(r) for s, r in src.pools.items()}, balance_units(src.entries, mixture), mixture)
    train, train_domains = [], []
    for name, n in plan.items():
        for row in sample_rows(src.pools[name], n, rng):
            train.append(row)
            train_domains.append(src.entries[name]["domain"])
    stages = get_curriculum(cur_cfg["name"])(train, train_domains, cur_cfg, rng)
    val, val_info = _load_val(mixture, catalog, language.localize_template(template, zh_val), zh_val, length_filter)
    files, stage_files = _write_files(out_dir, stages, val)
    manifest = _manifest(cfg, out_dir, mixture, template, cur_cfg, src, plan, stages, stage_files, val, val_info, length_filter, files)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def _write_files(out_dir: Path, stages: list[list[dict]], val: list[dict]) -> tuple[dict[str, str], list[str]]:
    """train.parquet (or one file per stage) and val.parquet; returns ({file: sha256}, train files)."""
    files: dict[str, str] = {}
    stage_files = []
    for i, stage in enumerate(stages):
        fname = "train.parquet" if len(stages) == 1 else f"train_stage{i}.parquet"
        files[fname] = write_rows(stage, out_dir / fname)
        stage_files.append(str(out_dir / fname))
    if val:
        files["val.parquet"] = write_rows(val, out_dir / "val.parquet")
    return files, stage_files


def _manifest(cfg: DictConfig, out_dir: Path, mixture: dict, template: dict, cur_cfg: dict, src: _Sources, plan: dict[str, int],
              stages: list[list[dict]], stage_files: list[str], val: list[dict], val_info: dict, length_filter: _LengthFilter,
              files: dict[str, str]) -> dict:
    """What was written and why: rows per source and study domain, filters, files, config and provenance."""
    entries, loaded, dropped, pools, used = src.entries, src.loaded, src.dropped, src.pools, src.used
    groups = {s: str(entries[s].get("group") or entries[s]["domain"]) for s in plan}
    rows_per_group = {g: sum(plan[s] for s in plan if groups[s] == g) for g in sorted(set(groups.values()))}
    return {
        "mixture": mixture["name"],
        "rows": {
            s: {
                "domain": entries[s]["domain"],
                "group": groups[s],
                "loaded": loaded[s],
                "dropped_by_length": dropped[s],
                "available": len(pools[s]),
                "written": plan[s],
                "weight": mixture["sources"][s].get("weight", 1.0),
                "data": used[s],
            }
            for s in plan
        },
        "balance": mixture.get("balance", "group") if mixture.get("normalize") else "none (normalize=false)",
        # rows per study domain (the paper's math / code / puzzle)
        "rows_per_study_domain": rows_per_group,
        "rows_per_verifier": {d: sum(plan[s] for s in plan if entries[s]["domain"] == d) for d in sorted({entries[s]["domain"] for s in plan})},
        "weights_realised_by": "row resampling into the written train parquet (veRL concatenates train files and has no per-file weight)",
        "normalize": bool(mixture.get("normalize")),
        "length_filter": length_filter.record(dropped, loaded, {k: v["dropped_by_length"] for k, v in val_info.items()}, {k: v["available"] for k, v in val_info.items()}),
        "val": val_info,
        "val_rows": len(val),
        "template": template.get("name"),
        "curriculum": {"name": cur_cfg["name"], "stages": [len(s) for s in stages]},
        "train_files": stage_files,
        "val_file": str(out_dir / "val.parquet") if val else None,
        "sha256": files,
        "config": OmegaConf.to_container(cfg, resolve=False),
        "provenance": provenance(),
    }


def run(cfg: DictConfig) -> dict:
    """Entry point of ``mdrl prepare``."""
    from mdrl.jobs.adaptive_data import expand_levels

    out = Path(str(cfg.run_dir))
    check_experiment(cfg)  # one sentence for bad sizes, weights, backend or missing files
    manifest = prepare(expand_levels(cfg), out)  # curriculum=adaptive: every level of generated sources
    print(json.dumps({k: manifest[k] for k in ("mixture", "rows_per_study_domain", "rows", "length_filter", "val", "train_files", "val_file")}, indent=2))
    return manifest
