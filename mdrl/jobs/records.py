"""Recording results with the config that made them, so nothing is an orphan number."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf


def provenance() -> dict:
    """Versions and commit that produced a result."""
    info: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform(), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    import mdrl

    info["mdrl"] = mdrl.__version__
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, cwd=Path(__file__).parent
        ).stdout.strip() or None
    except Exception:  # noqa: BLE001
        info["git_commit"] = None
    return info


def meta_path(result_path: Path) -> Path:
    """Where the meta file of ``result_path`` lives: ``<result>.meta.json``."""
    return Path(str(result_path) + ".meta.json")


def read_meta(result_path: Path) -> dict | None:
    """The meta record of ``result_path``, or None when absent or unreadable."""
    try:
        meta = json.loads(meta_path(result_path).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def write_meta(result_path: Path, cfg: DictConfig | dict, summary: dict, extra: dict | None = None) -> Path:
    """Write ``<result>.meta.json`` holding the resolved config, summary, provenance and ``extra``.

    Written to a temporary file and renamed, so a crash never leaves half a meta file.
    """
    conf = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    meta = {**(extra or {}), "config": conf, "summary": summary, "provenance": provenance()}
    path = meta_path(result_path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2, default=str))
    tmp.replace(path)
    return path
