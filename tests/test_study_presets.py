"""Template-consistency and reward-design studies: the preset sweeps and their analysis tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from mdrl.analysis.reward_table import best_scheme, reward_table
from mdrl.analysis.template_matrix import mismatch_cost, template_matrix
from mdrl.cli import compose, main
from mdrl.errors import UserError

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = ["released", "r1", "qwen_chat", "none"]


def _template_results() -> pd.DataFrame:
    """Synthetic eval rows: matched templates score 0.8, mismatched 0.5 (0.2 under none), on
    two benchmarks of different sizes; benchmark b adds 0.1 everywhere."""
    rows = []
    for ti, train in enumerate(TEMPLATES):
        for test in TEMPLATES:
            base = 0.8 if train == test else (0.2 if test == "none" else 0.5)
            for bench, extra, n in (("a", 0.0, 30), ("b", 0.1, 3)):
                for k in range(n):
                    rows.append({"run": f"run{ti}", "template": test, "benchmark": bench, "score": base + extra + (0.01 if k % 2 else -0.01) * (n % 2 == 0)})
    return pd.DataFrame(rows)


def test_template_matrix_from_a_results_table():
    df = _template_results()
    runs = {f"run{i}": t for i, t in enumerate(TEMPLATES)}
    m = template_matrix(df, runs=runs)
    assert list(m.index) == TEMPLATES and list(m.columns) == TEMPLATES
    # benchmarks weigh equally: (0.8 + 0.9) / 2 on the diagonal although a has 10x the rows
    assert np.allclose(np.diag(m.values), 0.85)
    assert m.loc["r1", "qwen_chat"] == pytest.approx(0.55) and m.loc["r1", "none"] == pytest.approx(0.25)
    assert template_matrix(df, runs=runs, benchmark="b").loc["none", "none"] == pytest.approx(0.9)
    cost = mismatch_cost(m)
    assert cost["r1"] == pytest.approx(0.85 - (0.55 + 0.55 + 0.25) / 3)
    # a train_template column works without the mapping; missing pieces are one-sentence errors
    assert template_matrix(df.assign(train_template=df["run"].map(runs))).equals(m)
    with pytest.raises(UserError, match="no training template given for run"):
        template_matrix(df, runs={"run0": "r1"})
    with pytest.raises(UserError, match="lack the column 'score'"):
        template_matrix(df.drop(columns="score"), runs=runs)


def test_reward_table_scheme_by_benchmark():
    rows = []
    truth = {("kk", "binary"): {"kk": 0.9, "zebralogic": 0.2}, ("kk", "proportional"): {"kk": 0.7, "zebralogic": 0.4},
             ("lpb", "binary"): {"kk": 0.3, "zebralogic": 0.3}, ("lpb", "proportional"): {"kk": 0.35, "zebralogic": 0.6}}
    for (mix, scheme), scores in truth.items():
        for bench, s in scores.items():
            rows += [{"run": f"{mix}-{scheme}", "mixture": mix, "benchmark": bench, "score": s + d} for d in (-0.05, 0.05)]
    df = pd.DataFrame(rows)
    runs = {f"{m}-{s}": s for m, s in truth}
    kk = reward_table(df, runs=runs, mixture="kk")
    assert list(kk.index) == ["binary", "proportional"] and list(kk.columns) == ["kk", "zebralogic", "average"]
    assert kk.loc["binary", "kk"] == pytest.approx(0.9) and kk.loc["proportional", "average"] == pytest.approx(0.55)
    assert best_scheme(kk).to_dict() == {"kk": "binary", "zebralogic": "proportional", "average": "binary"}
    both = reward_table(df.assign(reward=df["run"].map(runs)))
    assert both.loc[("lpb", "proportional"), "zebralogic"] == pytest.approx(0.6) and len(both) == 4
    with pytest.raises(UserError, match="pick one mixture"):
        best_scheme(both)
    with pytest.raises(UserError, match="no results for mixture"):
        reward_table(df, runs=runs, mixture="math")


def test_presets_compose_and_list_the_papers_grid():
    t = compose("train", ["run_dir=/unused", "+experiment=study/template_consistency"])
    assert t.study.train_templates == TEMPLATES and t.study.eval_templates == TEMPLATES and t.mixture.name == "puzzle"
    r = compose("train", ["run_dir=/unused", "+experiment=study/reward_design"])
    assert list(r.study.schemes) == ["binary", "proportional", "format", "paper"]
    raw = OmegaConf.load(REPO / "conf" / "experiment" / "study" / "reward_design.yaml")
    assert raw.hydra.sweeper.params.reward.split(",") == list(r.study.schemes)
    assert raw.hydra.sweeper.params.mixture.split(",") == list(r.study.mixtures)
    # every single-domain mixture of the grid exists
    assert all((REPO / "conf" / "mixture" / f"{m}.yaml").is_file() for m in r.study.mixtures)


def test_template_study_sweeps_one_training_job_per_template(tmp_path, capsys):
    have = [t for t in TEMPLATES if (REPO / "conf" / "template" / f"{t}.yaml").is_file()]
    rc = main(["train", "-m", "+experiment=study/template_consistency", f"template={','.join(have)}", "dry_run=true", f"hydra.sweep.dir={tmp_path}"])
    out = capsys.readouterr()
    assert rc == 0, out.err[-2000:]
    jobs = sorted(p for p in tmp_path.iterdir() if p.is_dir())
    assert len(jobs) == len(have)
    seen = {str(OmegaConf.load(j / ".hydra" / "config.yaml").template.name) for j in jobs}
    assert seen == set(have)


def test_reward_study_sweeps_schemes_by_mixtures(tmp_path, capsys):
    rc = main(["train", "-m", "+experiment=study/reward_design", "reward=binary,proportional", "mixture=kk,countdown", "dry_run=true", f"hydra.sweep.dir={tmp_path}"])
    out = capsys.readouterr()
    assert rc == 0, out.err[-2000:]
    cfgs = [OmegaConf.load(j / ".hydra" / "config.yaml") for j in sorted(p for p in tmp_path.iterdir() if p.is_dir())]
    assert sorted((str(c.reward.scheme), str(c.mixture.name)) for c in cfgs) == [("binary", "countdown"), ("binary", "kk"), ("proportional", "countdown"), ("proportional", "kk")]


def test_language_study_sweeps_english_and_chinese_training(tmp_path, capsys):
    rc = main(["train", "-m", "+experiment=study/language", "dry_run=true", f"hydra.sweep.dir={tmp_path}"])
    out = capsys.readouterr()
    assert rc == 0, out.err[-2000:]
    cfgs = [OmegaConf.load(j / ".hydra" / "config.yaml") for j in sorted(p for p in tmp_path.iterdir() if p.is_dir())]
    assert sorted(str(c.language.name) for c in cfgs) == ["en", "zh"]
    assert {str(c.mixture.name) for c in cfgs} == {"kk"}
