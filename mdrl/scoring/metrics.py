"""Per-domain reward metrics: what a researcher reads on the training dashboard."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping


def item_metrics(result: Mapping) -> dict[str, float]:
    """One result's numbers: score, acc (all correct), fraction, format (well-formed), timeout."""
    d = result["details"]
    return {
        "score": float(result["score"]),
        "acc": float(bool(d.get("correct"))),
        "fraction": float(d.get("fraction", 0.0)),
        "format": float(bool(d.get("well_formed"))),
        "timeout": float("timeout" in str(d.get("reason", ""))),
    }


def domain_metrics(data_sources: Iterable, results: Iterable[Mapping], prefix: str = "reward") -> dict[str, float]:
    """Mean score, accuracy (all correct) and format rate, overall and per data_source."""
    groups: dict[str, list[dict[str, float]]] = defaultdict(list)
    for src, res in zip(data_sources, results):
        m = item_metrics(res)
        groups[str(src)].append(m)
        groups["all"].append(m)
    out: dict[str, float] = {}
    for src, ms in sorted(groups.items()):
        n = len(ms)
        out[f"{prefix}/{src}/score"] = sum(m["score"] for m in ms) / n
        out[f"{prefix}/{src}/accuracy"] = sum(m["acc"] for m in ms) / n
        out[f"{prefix}/{src}/format_rate"] = sum(m["format"] for m in ms) / n
        out[f"{prefix}/{src}/timeouts"] = sum(m["timeout"] for m in ms)
    return out
