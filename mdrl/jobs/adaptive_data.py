"""Data for the adaptive curriculum: every level of each generated source, prepared up front.

The adaptive order (mdrl/curricula/order.py) picks among rows already written, so each
generated source of the mixture (a catalog entry with ``generate``) whose domain adapts is
replaced by one source per level, ``<source>@<level>``, generated with the domain's knob
(``Domain.knob``) set to that level. Released-file sources keep
their rows; their difficulty still comes from the domain's rule.
"""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf, open_dict

from mdrl.curricula import order_mode
from mdrl.domains import domain_for_source
from mdrl.errors import UserError
from mdrl.jobs.sources import source_entry


def expand_levels(cfg: DictConfig) -> DictConfig:
    """A copy of ``cfg`` whose mixture holds one generated source per adaptive level."""
    cur = OmegaConf.to_container(cfg.curriculum, resolve=True)
    if order_mode(cur) != "adaptive":
        return cfg
    from mdrl.jobs.verl_config import check_adaptive

    check_adaptive({k: cur[k] for k in ("band", "min_samples", "step", "domains") if k in cur})
    out = cfg.copy()
    domains = cur.get("domains") or {}
    catalog = OmegaConf.to_container(cfg.catalog, resolve=True)
    sources = OmegaConf.to_container(cfg.mixture.sources, resolve=True)
    new_sources, new_entries, adapted = {}, {}, []
    for name, spec in sources.items():
        try:
            entry = source_entry(catalog, name)
        except UserError:
            entry = {}  # prepare names the unknown source
        dom = entry.get("domain")
        gen = (entry.get("train") or {}).get("generate")
        knob = getattr(domain_for_source(str(dom)), "knob", None)
        if dom not in domains or gen is None or knob is None:
            new_sources[name] = spec
            continue
        levels = [int(x) for x in domains[dom]["levels"]]
        bad = [lv for lv in levels if not knob.low <= lv <= knob.high]
        if bad:
            raise UserError(f"curriculum.domains.{dom}.levels {bad} are outside the {knob.name} range {knob.low}..{knob.high}")
        per_level = domains[dom].get("rows_per_level") or gen.get("n")
        for lv in levels:
            key = f"{name}@{lv}"
            new_entries[key] = {"domain": dom, "train": {"generate": {**gen, knob.name: lv, "n": int(per_level)}}}
            new_sources[key] = dict(spec or {})
        adapted.append(name)
    if not adapted:
        raise UserError(f"curriculum=adaptive found no generated source of {', '.join(domains)} in mixture {cfg.mixture.name} (use kk_gen, lpb_gen or countdown3)")
    with open_dict(out):
        out.mixture.sources = new_sources
        for key, entry in new_entries.items():
            out.catalog.sources[key] = entry
    return out
