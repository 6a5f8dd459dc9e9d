"""Regenerate the analysis notebooks (without outputs): ``python analysis/notebooks/make_notebooks.py``.

The notebooks are kept as code here so a change is reviewed as a diff of Python, not JSON.
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''import os
from pathlib import Path

import pandas as pd
from IPython.display import Image, display

import mdrl.analysis as A
from mdrl.analysis import coverage, plots, tables
from mdrl.analysis.load import latest_step, per_problem, read_results
from mdrl.analysis.passk import crossover_k, pass_at_k_table
from mdrl.analysis.synergy import synergy_table
from mdrl.analysis.transfer import domain_transfer, transfer_matrix

# Point MDRL_RESULTS at your own `mdrl eval` output (comma-separated for several files);
# by default the notebook runs on the small synthetic fixture shipped with mdrl.
FIXTURE = Path(A.__file__).resolve().parent / "fixtures" / "study_results.parquet"
RESULTS = os.environ.get("MDRL_RESULTS", str(FIXTURE))
BASELINE = os.environ.get("MDRL_BASELINE", "base")
OUT = Path(os.environ.get("MDRL_NOTEBOOK_OUT", "notebook_out"))
OUT.mkdir(parents=True, exist_ok=True)
N_BOOT = int(os.environ.get("MDRL_N_BOOT", "1000"))'''


def notebook(cells: list) -> nbf.NotebookNode:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = cells
    return nb


def walkthrough() -> nbf.NotebookNode:
    """The study walkthrough notebook. Long on purpose: it is the notebook's text, one cell
    after another in reading order; splitting it would only scatter the story."""
    return notebook([
        new_markdown_cell(
            "# A multi-domain RLVR study, from a results table\n\n"
            "This notebook walks through what `mdrl analyze` computes, one step at a time, on a results table written by "
            "`mdrl eval` (one row per sample). It answers the two questions of the study: **which training domains help "
            "which benchmarks** (arXiv 2507.17512) and **does RL widen or narrow what the model can solve at large k** "
            "(arXiv 2504.13837).\n\nBy default it runs on `analysis/fixtures/study_results.parquet`, a small *synthetic* "
            "table with the shape of a study (its numbers are made up; they say nothing about the paper)."),
        new_code_cell(SETUP),
        new_markdown_cell("## 1. Load the results\nEach row is one sample. A *system* is one evaluated model state: a run's final step by default."),
        new_code_cell(
            'df = read_results(RESULTS)\n'
            'print(f"{len(df):,} sample rows; runs: {sorted(df[\'run\'].unique())}; benchmarks: {sorted(df[\'benchmark\'].unique())}")\n'
            'final = latest_step(df)\n'
            'counts = per_problem(final)          # n samples and c correct per problem\n'
            'counts.head()'),
        new_markdown_cell("## 2. pass@k with bootstrap confidence intervals\n"
                          "The unbiased estimator 1 − C(n−c, k)/C(n, k) per problem, averaged over problems; the 95% CI resamples problems."),
        new_code_cell(
            'n_min = int(counts["n"].min())\n'
            'ks = [k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256) if k <= n_min]\n'
            'pk = pass_at_k_table(counts, ks, n_boot=N_BOOT)\n'
            'display(pk[pk["k"].isin([1, ks[-1]])].round(3))'),
        new_markdown_cell("### pass@k curves and the crossover k\n"
                          "Where the baseline's curve meets an RL run's, sampling the base model more often solves as much as the RL model."),
        new_code_cell(
            'cross = crossover_k(pk, BASELINE)\n'
            'display(cross.round(3))\n'
            'paths = plots.plot_pass_at_k(pk, OUT / "figures", cross, BASELINE)\n'
            'display(Image(filename=str(paths[0])))'),
        new_markdown_cell("## 3. Transfer matrix\nAccuracy per run and benchmark, and its change against the baseline (paired by problem, "
                          "bootstrap CI). Columns are grouped by study domain, so single-domain runs read as the paper's domain × domain table."),
        new_code_cell(
            'tm = transfer_matrix(counts, BASELINE, n_boot=N_BOOT)\n'
            'display(tables.transfer_display(tm))\n'
            'display(Image(filename=str(plots.plot_transfer_heatmap(tm, OUT / "transfer_heatmap.png"))))\n'
            'display(tables.domain_table_display(domain_transfer(tm)).round(2))'),
        new_markdown_cell("## 4. Synergy of combined mixtures\nA combined run against its single-domain runs: better than every specialist "
                          "(synergy), worse than the best one (conflict), or not distinguishable at this number of problems."),
        new_code_cell(
            'syn = synergy_table(counts, n_boot=N_BOOT)\n'
            'display(syn[["combined", "benchmark", "combined_acc", "best_single", "best_single_acc", "vs_best", "vs_best_ci_low", "vs_best_ci_high", "verdict"]].round(3))'),
        new_markdown_cell("## 5. Coverage, solved-set overlap and per-problem accuracy\nDoes RL solve problems the base model never solves, "
                          "or does it concentrate probability on problems the base model already solves sometimes?"),
        new_code_cell(
            'display(coverage.coverage(counts).round(3))\n'
            'ov = coverage.solved_overlap(counts)\n'
            'display(ov[ov["system_a"] == BASELINE].round(3))\n'
            'hist = plots.plot_accuracy_histograms(counts, OUT / "figures")\n'
            'display(Image(filename=str(hist[0])))'),
        new_markdown_cell("## 6. Accuracy over training steps\nRuns evaluated at several checkpoints (`mdrl eval model.path=RUN_DIR`) give the paper's training curves."),
        new_code_cell(
            'from mdrl.jobs.analyze import steps_table\n\n'
            'st = steps_table(df)\n'
            'display(st[st["step"] >= 0].round(3))\n'
            'p = plots.plot_accuracy_over_steps(st, OUT / "accuracy_over_steps.png")\n'
            'if p:\n'
            '    display(Image(filename=str(p)))'),
        new_markdown_cell("## 7. Write the tables for a paper\nCSV, Markdown and LaTeX side by side (what `mdrl analyze` writes for every table)."),
        new_code_cell(
            'written = tables.write_table(tables.transfer_display(tm), OUT / "transfer_table")\n'
            'print("\\n".join(map(str, written)))\n'
            'print(Path(written[2]).read_text()[:600])'),
    ])


def paper_numbers() -> nbf.NotebookNode:
    return notebook([
        new_markdown_cell(
            "# mdrl's transfer table beside the paper's published numbers\n\n"
            "`analysis/fixtures/paper_published.csv` holds the numbers of arXiv 2507.17512 that `shared/PAPER-NOTES.md` "
            "confirms, with their source; cells the sources do not give stay empty rather than guessed. This notebook "
            "renders them in the layout of mdrl's transfer table and sets an mdrl results table beside them."),
        new_code_cell(SETUP),
        new_code_cell('paper = tables.load_paper_numbers()\ndisplay(paper)\ndisplay(tables.paper_transfer_table(paper))'),
        new_markdown_cell("## mdrl's numbers in the same layout\nDeltas in points against the baseline (the paper reports gains over the base model the same way)."),
        new_code_cell(
            'counts = per_problem(latest_step(read_results(RESULTS)))\n'
            'tm = transfer_matrix(counts, BASELINE, n_boot=N_BOOT)\n'
            'cells = [f"{100 * d:+.2f} Δ" if pd.notna(d) else f"{100 * a:.2f}" for a, d in zip(tm["accuracy"], tm["delta"])]\n'
            'mine = tm.assign(cell=cells).pivot(index="system", columns="benchmark", values="cell")\n'
            'display(mine.reindex(columns=tables.PAPER_COLUMNS).astype(object).fillna(""))'),
        new_markdown_cell("Read the two tables row by row: a run trained on math (DSR) should show its largest gain on MATH500, "
                          "as the paper's +19.60 points do; with the synthetic fixture the numbers only show the layout."),
    ])


if __name__ == "__main__":
    nbf.write(walkthrough(), HERE / "01_study_walkthrough.ipynb")
    nbf.write(paper_numbers(), HERE / "02_paper_numbers.ipynb")
    print(f"wrote notebooks in {HERE}")
