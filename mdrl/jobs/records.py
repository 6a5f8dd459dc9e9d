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


def write_meta(result_path: Path, cfg: DictConfig | dict, summary: dict) -> Path:
    """Write ``<result>.meta.json`` holding the resolved config, summary and provenance."""
    conf = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    meta = {"config": conf, "summary": summary, "provenance": provenance()}
    path = Path(str(result_path) + ".meta.json")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2, default=str))
    tmp.replace(path)
    return path
