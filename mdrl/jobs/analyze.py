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


class _Files:
    """The files an analysis writes, by name, into one output folder."""

    def __init__(self, out: Path) -> None:
        self.out, self.written = out, {}

    def add(self, paths) -> None:
        for p in [paths] if isinstance(paths, Path) else paths or []:
            self.written[p.name] = str(p)

    def csv(self, name: str, frame: pd.DataFrame) -> None:
        path = self.out / f"{name}.csv"
        _out(frame).to_csv(path, index=False)
        self.add(path)

    def table(self, name: str, frame: pd.DataFrame, **kw) -> None:
        """CSV plus Markdown and LaTeX copies."""
        self.add(tables.write_table(_out(frame), self.out / name, **kw))


def analyze(cfg: dict) -> dict:
    """Write every table and figure; returns {name: path}."""
    out = Path(cfg["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    df = read_results(cfg["results"])
    files = _Files(out)
    plot = bool(cfg.get("plots", True))

    st = steps_table(df)
    files.csv("accuracy_over_steps", st)
    if plot:
        files.add(plots.plot_accuracy_over_steps(st, out / "accuracy_over_steps.png"))

    final = latest_step(df) if cfg.get("steps", "last") == "last" else df
    counts = per_problem(final)
    baseline = cfg.get("baseline")
    if baseline is not None and baseline not in set(counts["system"]):
        raise UserError(f"baseline {baseline!r} is not in the results (models: {', '.join(sorted(set(counts['system'])))})")
    boot = dict(n_boot=int(cfg["n_boot"]), confidence=float(cfg["confidence"]), seed=int(cfg["seed"]))
    pk = _pass_at_k(files, counts, [int(k) for k in cfg["ks"]], boot)
    tm = _transfer(files, counts, baseline, cfg.get("run_domains") or None, boot)
    if baseline:
        files.csv("crossover", crossover_k(pk, baseline))
    files.csv("coverage", cov.coverage(counts))
    files.csv("solved_overlap", cov.solved_overlap(counts))
    files.csv("accuracy_hist", cov.accuracy_histogram(counts))
    if plot:
        files.add(plots.plot_pass_at_k(pk, out / "figures", crossover_k(pk, baseline) if baseline else None, baseline))
        files.add(plots.plot_transfer_heatmap(tm, out / "transfer_heatmap.png"))
        files.add(plots.plot_accuracy_histograms(counts, out / "figures"))
    study_tables(final, cfg, files)
    _perplexity(files, final, cfg)
    return files.written


def _pass_at_k(files: _Files, counts: pd.DataFrame, ks: list[int], boot: dict) -> pd.DataFrame:
    pk = pass_at_k_table(counts, ks, **boot)
    if pk.attrs.get("skipped"):
        few = sorted({(s, b) for s, b, _ in pk.attrs["skipped"]})
        log(f"pass@k skipped for k above the samples per problem of {len(few)} model/benchmark pair(s), e.g. {few[0][0]} on {few[0][1]}")
    files.table("pass_at_k", pk)
    return pk


def _transfer(files: _Files, counts: pd.DataFrame, baseline: str | None, given: dict | None, boot: dict) -> pd.DataFrame:
    """Transfer matrix (with its display table), domain x domain transfer, and synergy."""
    tm = transfer_matrix(counts, baseline, **boot)
    files.csv("transfer_matrix", tm)
    files.add(tables.write_table(tables.transfer_display(tm).rename(columns={"system": "model"}), files.out / "transfer_table"))
    dt = domain_transfer(tm, given) if baseline else pd.DataFrame()
    if not dt.empty:
        files.add(tables.write_table(tables.domain_table_display(dt), files.out / "transfer_domains", digits=2))
    syn = synergy_table(counts, given, **boot)
    if syn.empty:
        files.csv("synergy", syn)
    else:
        files.table("synergy", syn)
    return tm


def _perplexity(files: _Files, final: pd.DataFrame, cfg: dict) -> None:
    ppl = cfg.get("perplexity") or {}
    if ppl.get("model"):
        from mdrl.analysis.perplexity import perplexity_table

        files.csv("perplexity", perplexity_table(final, str(ppl["model"]), int(ppl["max_samples"]), int(ppl["batch_size"]),
                                                 int(cfg["seed"]), ppl.get("max_tokens"), progress=bool(cfg.get("progress", True))))


def study_tables(final: pd.DataFrame, cfg: dict, files: _Files) -> None:
    """The training-detail studies of arXiv 2507.17512, written when their labels are given:
    template_matrix (train template x test template, plus the mismatch cost per training
    template) from ``train_templates: {run: template}`` or a ``train_template`` column, and
    reward_table (reward scheme x benchmark, plus the best scheme per benchmark) from
    ``reward_schemes: {run: scheme}`` or a ``reward`` column."""
    train_templates = cfg.get("train_templates") or None
    if train_templates or "train_template" in final.columns:
        matrix = _study("template matrix", template_matrix, final, train_templates)
        files.add(tables.write_table(matrix.reset_index(), files.out / "template_matrix"))
        files.csv("template_mismatch_cost", mismatch_cost(matrix).rename_axis("train template").reset_index())
    schemes = cfg.get("reward_schemes") or None
    if schemes or "reward" in final.columns:
        table = _study("reward table", reward_table, final, schemes)
        files.add(tables.write_table(table.reset_index(), files.out / "reward_table"))
        if not isinstance(table.index, pd.MultiIndex):
            files.csv("reward_best_scheme", best_scheme(table).rename("best scheme").rename_axis("benchmark").reset_index())


def _study(title: str, build, final: pd.DataFrame, labels: dict | None) -> pd.DataFrame:
    """``build(final, labels)``, its one-sentence errors prefixed with the table's title."""
    try:
        return build(final, labels)
    except UserError as exc:
        raise UserError(f"{title}: {exc}") from None


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
