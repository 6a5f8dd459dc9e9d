"""``mdrl analyze``: results tables in, the study's tables and figures out.

Reads one or more ``mdrl eval`` results parquet files and writes into ``output_dir``:
pass_at_k.csv (unbiased pass@k with bootstrap CIs and mean@n), transfer_matrix.csv and its
heatmap, transfer_domains.csv (domain x domain), synergy.csv, crossover.csv, coverage.csv,
solved_overlap.csv, accuracy_hist.csv, accuracy_over_steps.csv, optional perplexity.csv,
Markdown and LaTeX copies of the main tables, PNG figures, and analysis.meta.json (config, files).
In every file the ``model`` column is the evaluated system: a run's label (its final step by
default) or ``run@step`` when steps=all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from mdrl.analysis import coverage as cov
from mdrl.analysis import plots, tables
from mdrl.analysis.load import latest_step, per_problem, read_results
from mdrl.analysis.passk import crossover_k, pass_at_k_table
from mdrl.analysis.reward_table import best_scheme, reward_table
from mdrl.analysis.synergy import synergy_table
from mdrl.analysis.template_matrix import mismatch_cost, template_matrix
from mdrl.analysis.transfer import domain_transfer, transfer_matrix
from mdrl.errors import UserError
from mdrl.jobs.records import write_meta


def log(msg: str) -> None:
    print(f"[mdrl analyze] {msg}", file=sys.stderr, flush=True)


def _out(df: pd.DataFrame) -> pd.DataFrame:
    """Files name the evaluated system ``model`` (the issue's column name)."""
    return df.rename(columns={"system": "model", "combined": "combined_model"})


def steps_table(df: pd.DataFrame) -> pd.DataFrame:
    """Accuracy per (run, step, benchmark): the accuracy-over-training curve."""
    counts = per_problem(df, keys=("run", "step", "benchmark"))
    counts["acc"] = counts["c"] / counts["n"]
    return counts.groupby(["run", "step", "benchmark"]).agg(accuracy=("acc", "mean"), n_problems=("acc", "size")).reset_index()


def analyze(cfg: dict) -> dict:
    """Write every table and figure; returns {name: path}."""
    out = Path(cfg["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    df = read_results(cfg["results"])
    written: dict[str, str] = {}

    def put(name: str, frame: pd.DataFrame, md: bool = False) -> None:
        if md:
            for p in tables.write_table(_out(frame), out / name):
                written[p.name] = str(p)
        else:
            frame = _out(frame)
            frame.to_csv(out / f"{name}.csv", index=False)
            written[f"{name}.csv"] = str(out / f"{name}.csv")

    st = steps_table(df)
    put("accuracy_over_steps", st)
    if cfg.get("plots", True):
        p = plots.plot_accuracy_over_steps(st, out / "accuracy_over_steps.png")
        if p:
            written[p.name] = str(p)

    final = latest_step(df) if cfg.get("steps", "last") == "last" else df
    counts = per_problem(final)
    baseline = cfg.get("baseline")
    if baseline is not None and baseline not in set(counts["system"]):
        raise UserError(f"baseline {baseline!r} is not in the results (models: {', '.join(sorted(set(counts['system'])))})")
    ks = [int(k) for k in cfg["ks"]]
    boot = dict(n_boot=int(cfg["n_boot"]), confidence=float(cfg["confidence"]), seed=int(cfg["seed"]))
    pk = pass_at_k_table(counts, ks, **boot)
    if pk.attrs.get("skipped"):
        few = sorted({(s, b) for s, b, _ in pk.attrs["skipped"]})
        log(f"pass@k skipped for k above the samples per problem of {len(few)} model/benchmark pair(s), e.g. {few[0][0]} on {few[0][1]}")
    put("pass_at_k", pk, md=True)

    tm = transfer_matrix(counts, baseline, **boot)
    put("transfer_matrix", tm)
    disp = tables.transfer_display(tm)
    for p in tables.write_table(disp.rename(columns={"system": "model"}), out / "transfer_table"):
        written[p.name] = str(p)
    given = cfg.get("run_domains") or None
    dt = domain_transfer(tm, given) if baseline else pd.DataFrame()
    if not dt.empty:
        for p in tables.write_table(tables.domain_table_display(dt), out / "transfer_domains", digits=2):
            written[p.name] = str(p)
    syn = synergy_table(counts, given, **boot)
    put("synergy", syn, md=not syn.empty)
    if baseline:
        put("crossover", crossover_k(pk, baseline))
    put("coverage", cov.coverage(counts))
    put("solved_overlap", cov.solved_overlap(counts))
    put("accuracy_hist", cov.accuracy_histogram(counts))

    if cfg.get("plots", True):
        for p in plots.plot_pass_at_k(pk, out / "figures", crossover_k(pk, baseline) if baseline else None, baseline):
            written[p.name] = str(p)
        p = plots.plot_transfer_heatmap(tm, out / "transfer_heatmap.png")
        written[p.name] = str(p)
        for p in plots.plot_accuracy_histograms(counts, out / "figures"):
            written[p.name] = str(p)

    study_tables(final, cfg, out, written)

    ppl = cfg.get("perplexity") or {}
    if ppl.get("model"):
        from mdrl.analysis.perplexity import perplexity_table

        pt = perplexity_table(final, str(ppl["model"]), int(ppl["max_samples"]), int(ppl["batch_size"]), int(cfg["seed"]),
                              ppl.get("max_tokens"), progress=bool(cfg.get("progress", True)))
        put("perplexity", pt)
    return written


def study_tables(final: pd.DataFrame, cfg: dict, out: Path, written: dict[str, str]) -> None:
    """The training-detail studies of arXiv 2507.17512, written when their labels are given:
    template_matrix (train template x test template, plus the mismatch cost per training
    template) from ``train_templates: {run: template}`` or a ``train_template`` column, and
    reward_table (reward scheme x benchmark, plus the best scheme per benchmark) from
    ``reward_schemes: {run: scheme}`` or a ``reward`` column."""
    train_templates = cfg.get("train_templates") or None
    if train_templates or "train_template" in final.columns:
        try:
            matrix = template_matrix(final, train_templates)
        except ValueError as exc:
            raise UserError(f"template matrix: {exc}") from None
        for p in tables.write_table(matrix.reset_index(), out / "template_matrix"):
            written[p.name] = str(p)
        cost = mismatch_cost(matrix).rename_axis("train template").reset_index()
        cost.to_csv(out / "template_mismatch_cost.csv", index=False)
        written["template_mismatch_cost.csv"] = str(out / "template_mismatch_cost.csv")
    schemes = cfg.get("reward_schemes") or None
    if schemes or "reward" in final.columns:
        try:
            table = reward_table(final, schemes)
        except ValueError as exc:
            raise UserError(f"reward table: {exc}") from None
        for p in tables.write_table(table.reset_index(), out / "reward_table"):
            written[p.name] = str(p)
        if not isinstance(table.index, pd.MultiIndex):
            best = best_scheme(table).rename("best scheme").rename_axis("benchmark").reset_index()
            best.to_csv(out / "reward_best_scheme.csv", index=False)
            written["reward_best_scheme.csv"] = str(out / "reward_best_scheme.csv")


def run(cfg: DictConfig) -> dict:
    """Entry point of ``mdrl analyze``."""
    c = OmegaConf.to_container(cfg, resolve=True)
    results = c["results"]
    c["results"] = ",".join(results) if isinstance(results, list) else str(results)
    written = analyze(c)
    summary = {"output_dir": str(c["output_dir"]), "files": written}
    write_meta(Path(c["output_dir"]) / "analysis", cfg, summary)  # -> analysis.meta.json
    for name in sorted(written):
        print(f"{name:<28} {written[name]}")
    return summary
