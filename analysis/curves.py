"""Training curves from a run's metrics.jsonl (written by the TRL backend).

``reward_curve.png`` has two panels on one step axis: the reward (raw and smoothed) and,
on its own 0-1 axis, the rates (accuracy and format rate per source, raw and smoothed,
plus greedy validation points). The SFT warm-up, when there is one, is shaded and GRPO
steps follow it on the axis.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence


def smooth(values: Sequence[float], window: int) -> list[float]:
    """Trailing moving average over ``window`` points (shorter at the start); NaN-free input."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _window(n: int) -> int:
    return max(1, min(25, n // 10))


def plot_reward_curve(metrics_file: str | Path, out_png: str | Path, phase: str = "grpo") -> Path:
    """Plot reward and rates against the training step into ``out_png``; returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = [json.loads(l) for l in Path(metrics_file).read_text().splitlines() if l.strip()]
    fig = reward_figure(lines, f"training curves ({Path(metrics_file).parent.parent.name})", phase)
    out = Path(out_png)
    fig.savefig(out)
    plt.close(fig)
    return out


def reward_figure(lines: list[dict], title: str, phase: str = "grpo"):
    """The matplotlib figure of :func:`plot_reward_curve` from metrics.jsonl lines."""
    import matplotlib.pyplot as plt

    rows = [l for l in lines if l.get("phase") == phase and "reward" in l]
    if not rows:
        raise ValueError(f"no '{phase}' reward lines in the metrics")
    sft_steps = max((int(l["step"]) for l in lines if l.get("phase") == "sft"), default=0)
    val = [l for l in lines if l.get("phase") == "val"]
    steps = [sft_steps + int(r["step"]) for r in rows]
    w = _window(len(rows))

    fig, (ax_r, ax_p) = plt.subplots(2, 1, sharex=True, figsize=(7, 6), dpi=120, gridspec_kw={"height_ratios": [1, 1.2]})
    reward = [float(r["reward"]) for r in rows]
    ax_r.plot(steps, reward, color="C0", lw=0.8, alpha=0.35, label="mean reward (raw)")
    ax_r.plot(steps, smooth(reward, w), color="C0", lw=2, label=f"mean reward (moving mean of {w})")
    ax_r.set_ylabel("reward")

    sources = sorted({k.split("/")[1] for r in rows for k in r if k.startswith("reward/") and k.count("/") == 2 and "/all/" not in k})
    for i, src in enumerate(sources):
        for metric, style in (("accuracy", "-"), ("format_rate", "--")):
            key = f"reward/{src}/{metric}"
            pts = [(s, float(r[key])) for s, r in zip(steps, rows) if key in r]
            if not pts:
                continue
            xs, ys = zip(*pts)
            label = f"{src} {metric.replace('_', ' ')}"
            ax_p.plot(xs, ys, style, color=f"C{i + 1}", lw=0.7, alpha=0.3)
            ax_p.plot(xs, smooth(list(ys), w), style, color=f"C{i + 1}", lw=1.8, label=f"{label} (train, smoothed)")
            vkey = f"val/{src}/{metric}"
            vpts = [(sft_steps + int(v["step"]), float(v[vkey])) for v in val if vkey in v]
            if vpts:
                vx, vy = zip(*vpts)
                ax_p.plot(vx, vy, "o" if metric == "accuracy" else "s", color=f"C{i + 1}", ms=5, mfc="none" if metric == "format_rate" else None,
                          label=f"{label} (validation, greedy)")
    ax_p.set_ylim(-0.03, 1.03)
    ax_p.set_ylabel("rate")
    ax_p.set_xlabel("training step (SFT warm-up, then GRPO)" if sft_steps else "GRPO step")

    for ax in (ax_r, ax_p):
        if sft_steps:
            ax.axvspan(0, sft_steps, color="0.85", alpha=0.6, lw=0, label="SFT warm-up" if ax is ax_r else None)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    ax_r.set_title(title)
    fig.tight_layout()
    return fig
