"""Training curves from a run's metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path


def plot_reward_curve(metrics_file: str | Path, out_png: str | Path, phase: str = "grpo") -> Path:
    """Plot mean reward (and per-domain accuracy where logged) against the training step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = [json.loads(l) for l in Path(metrics_file).read_text().splitlines() if l.strip()]
    rows = [l for l in lines if l.get("phase") == phase and "reward" in l]
    if not rows:
        raise ValueError(f"no '{phase}' reward lines in {metrics_file}")
    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    ax.plot(steps, [r["reward"] for r in rows], label="mean reward", lw=2)
    for metric, style in (("accuracy", "-"), ("format_rate", "--")):
        keys = sorted({k for r in rows for k in r if k.startswith("reward/") and k.endswith(f"/{metric}") and "/all/" not in k})
        for k in keys:
            ax.plot(steps, [r.get(k, float("nan")) for r in rows], style, label=f"{k.split('/')[1]} {metric.replace('_', ' ')}", lw=1, alpha=0.8)
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("reward")
    ax.set_title(f"reward curve ({Path(metrics_file).parent.parent.name})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(out_png)
    fig.savefig(out)
    plt.close(fig)
    return out
