"""Per-domain reward metrics: what a researcher reads on the training dashboard."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping


def domain_metrics(data_sources: Iterable, results: Iterable[Mapping], prefix: str = "reward") -> dict[str, float]:
    """Mean score, accuracy (all correct) and format rate, overall and per data_source."""
    groups: dict[str, list[Mapping]] = defaultdict(list)
    for src, res in zip(data_sources, results):
        groups[str(src)].append(res)
        groups["all"].append(res)
    out: dict[str, float] = {}
    for src, rs in sorted(groups.items()):
        n = len(rs)
        out[f"{prefix}/{src}/score"] = sum(float(r["score"]) for r in rs) / n
        out[f"{prefix}/{src}/accuracy"] = sum(bool(r["details"].get("correct")) for r in rs) / n
        out[f"{prefix}/{src}/format_rate"] = sum(bool(r["details"].get("well_formed")) for r in rs) / n
        out[f"{prefix}/{src}/timeouts"] = float(sum("timeout" in str(r["details"].get("reason", "")) for r in rs))
    return out
