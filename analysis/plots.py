"""Figures of an analysis: pass@k curves, transfer heatmap, accuracy histograms and curves
over training steps. Every figure has labelled axes with units, a legend and a title, and is
written as PNG (Agg backend, no display needed)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .load import benchmark_domain, ordered_benchmarks


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name))


def plot_pass_at_k(table: pd.DataFrame, out_dir: str | Path, crossovers: pd.DataFrame | None = None, baseline: str | None = None) -> list[Path]:
    """One PNG per benchmark: pass@k (%) against k (log2 axis), a line and CI band per system."""
    plt = _plt()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for bench in ordered_benchmarks(table["benchmark"]):
        sub = table[table["benchmark"] == bench]
        fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
        for system, s in sub.groupby("system"):
            s = s.sort_values("k")
            style = {"ls": "--", "color": "black"} if system == baseline else {}
            line, = ax.plot(s["k"], 100 * s["pass_at_k"], marker="o", ms=3, label=f"{system}{' (baseline)' if system == baseline else ''}", **style)
            ax.fill_between(s["k"], 100 * s["ci_low"], 100 * s["ci_high"], alpha=0.15, color=line.get_color())
        if crossovers is not None and not crossovers.empty:
            for _, r in crossovers[(crossovers["benchmark"] == bench) & crossovers["crossover_k"].notna()].iterrows():
                ax.axvline(r["crossover_k"], color="grey", lw=0.8, ls=":")
                ax.annotate(f"baseline ≥ {r['system']}\nfrom k={int(r['crossover_k'])}", (r["crossover_k"], 2), fontsize=7, color="grey")
        ax.set_xscale("log", base=2)
        ks = sorted(sub["k"].unique())
        ax.set_xticks(ks, [str(int(k)) for k in ks])
        ax.minorticks_off()
        ax.set_xlabel("k (samples per problem, log scale)")
        ax.set_ylabel("pass@k (%)")
        ax.set_ylim(0, 100)
        ax.set_title(f"pass@k on {bench} ({benchmark_domain(bench)}), 95% bootstrap CI")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        path = out_dir / f"pass_at_k_{_safe(bench)}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_transfer_heatmap(matrix: pd.DataFrame, out_png: str | Path, value: str = "delta") -> Path:
    """Systems x benchmarks heatmap of the delta against the baseline (points); * = CI excludes 0.

    Columns are grouped by study domain, with the domain named above each group.
    """
    plt = _plt()
    import seaborn as sns

    use_delta = value == "delta" and matrix["delta"].notna().any()
    col = "delta" if use_delta else "accuracy"
    if use_delta:  # the baseline's own row is zero by construction
        matrix = matrix[matrix["system"] != matrix["baseline"]]
    grid = matrix.pivot(index="system", columns="benchmark", values=col)
    cols = ordered_benchmarks(grid.columns)
    grid = 100 * grid[cols]
    sig = matrix.pivot(index="system", columns="benchmark", values="significant").reindex(columns=cols) if use_delta else None
    annot = grid.copy().astype(object)
    for i in grid.index:
        for c in cols:
            v = grid.loc[i, c]
            star = "*" if sig is not None and bool(sig.loc[i, c]) is True else ""
            annot.loc[i, c] = "" if pd.isna(v) else (f"{v:+.1f}{star}" if use_delta else f"{v:.1f}")
    fig, ax = plt.subplots(figsize=(1.1 * len(cols) + 2.5, 0.55 * len(grid) + 2), dpi=120)
    lim = float(np.nanmax(np.abs(grid.to_numpy()))) if grid.notna().any().any() else 1.0
    sns.heatmap(grid.astype(float), annot=annot.to_numpy(), fmt="", cmap="RdBu" if use_delta else "viridis", center=0 if use_delta else None,
                vmin=-lim if use_delta else 0, vmax=lim if use_delta else 100, linewidths=0.5, ax=ax,
                cbar_kws={"label": "Δ accuracy vs baseline (points)" if use_delta else "accuracy (%)"})
    domains = [benchmark_domain(c) for c in cols]
    for j in range(1, len(cols)):
        if domains[j] != domains[j - 1]:
            ax.axvline(j, color="black", lw=2)
    ax.set_xticks(np.arange(len(cols)) + 0.5, [f"{c}\n({d})" for c, d in zip(cols, domains)], rotation=0)
    ax.set_xlabel("benchmark (study domain)")
    ax.set_ylabel("run")
    base = matrix["baseline"].dropna().unique()
    ax.set_title(f"transfer: Δ accuracy vs {base[0] if len(base) else 'baseline'} (* = 95% CI excludes 0)" if use_delta else "accuracy per run and benchmark")
    fig.tight_layout()
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_accuracy_histograms(counts: pd.DataFrame, out_dir: str | Path, bins: int = 10) -> list[Path]:
    """Per benchmark: how many problems each system solves at each per-problem accuracy."""
    plt = _plt()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    edges = np.linspace(0, 1, bins + 1)
    for bench in ordered_benchmarks(counts["benchmark"]):
        sub = counts[counts["benchmark"] == bench]
        fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
        for system, s in sub.groupby("system"):
            ax.hist(100 * s["c"] / s["n"], bins=100 * edges, histtype="step", lw=1.8, label=f"{system} (n={int(s['n'].min())})")
        ax.set_xlabel("per-problem accuracy (% of samples correct)")
        ax.set_ylabel("problems")
        ax.set_title(f"per-problem accuracy on {bench}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out_dir / f"accuracy_hist_{_safe(bench)}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_accuracy_over_steps(steps: pd.DataFrame, out_png: str | Path) -> Path | None:
    """Accuracy (%) against training step, a panel per benchmark, a line per run."""
    steps = steps[steps["step"] >= 0]
    if steps.empty or steps.groupby("run")["step"].nunique().max() < 2:
        return None
    plt = _plt()
    benches = ordered_benchmarks(steps["benchmark"])
    cols = min(4, len(benches))
    rows = math.ceil(len(benches) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), dpi=120, squeeze=False)
    for ax, bench in zip(axes.flat, benches):
        for run, s in steps[steps["benchmark"] == bench].groupby("run"):
            s = s.sort_values("step")
            ax.plot(s["step"], 100 * s["accuracy"], marker="o", ms=3, label=run)
        ax.set_title(bench)
        ax.set_xlabel("training step")
        ax.set_ylabel("accuracy (%)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(benches):]:
        ax.axis("off")
    fig.suptitle("accuracy over training steps")
    fig.tight_layout()
    out = Path(out_png)
    fig.savefig(out)
    plt.close(fig)
    return out
