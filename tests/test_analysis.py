"""``mdrl analyze`` and the analysis modules: transfer, synergy, crossover, coverage,
perplexity, tables and the paper's published numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mdrl.analysis import coverage as cov
from mdrl.analysis.load import latest_step, read_results
from mdrl.analysis.passk import crossover_k
from mdrl.analysis.synergy import synergy_table
from mdrl.analysis.tables import load_paper_numbers, paper_transfer_table, transfer_display, write_table
from mdrl.analysis.transfer import domain_transfer, training_domains, transfer_matrix
from mdrl.cli import main
from mdrl.errors import UserError

FIXTURE = Path(__file__).resolve().parents[1] / "analysis" / "fixtures" / "study_results.parquet"
PNG = b"\x89PNG\r\n\x1a\n"


def counts_from(acc: dict[tuple[str, str], list[float]], n: int = 10) -> pd.DataFrame:
    """Per-problem counts with the given per-problem accuracies (multiples of 1/n)."""
    rows = []
    for (system, bench), accs in acc.items():
        for pid, a in enumerate(accs):
            rows.append({"system": system, "benchmark": bench, "problem_id": str(pid), "n": n, "c": int(round(a * n)), "mean_score": a})
    return pd.DataFrame(rows)


def test_transfer_delta_is_paired_by_problem_with_a_ci():
    rng = np.random.default_rng(0)
    base = np.round(rng.random(200), 1)
    better = np.clip(base + 0.2, 0, 1)
    same = base.copy()
    counts = counts_from({("base", "kk"): base, ("puzzle", "kk"): better, ("math", "kk"): same, ("math", "math500"): base[:50]})
    m = transfer_matrix(counts, "base", n_boot=500).set_index(["system", "benchmark"])
    assert m.loc[("puzzle", "kk"), "delta"] == pytest.approx((better - base).mean())
    assert m.loc[("puzzle", "kk"), "significant"]
    assert m.loc[("math", "kk"), "delta"] == 0 and not m.loc[("math", "kk"), "significant"]
    # no baseline rows for math500: accuracy with a CI, no delta
    assert np.isnan(m.loc[("math", "math500"), "delta"]) and m.loc[("math", "math500"), "accuracy"] == pytest.approx(base[:50].mean())
    lo, hi = m.loc[("puzzle", "kk"), ["acc_ci_low", "acc_ci_high"]]
    assert lo < m.loc[("puzzle", "kk"), "accuracy"] < hi
    with pytest.raises(UserError, match="baseline 'nope' is not in the results"):
        transfer_matrix(counts, "nope")


def test_columns_are_grouped_by_study_domain_and_domain_table():
    accs = {}
    for run, gain in (("base", {}), ("math", {"math500": 0.3}), ("code", {"humaneval": 0.2, "math500": 0.1}), ("puzzle", {"kk": 0.4})):
        for bench in ("kk", "humaneval", "math500", "countdown"):
            accs[(run, bench)] = [0.2 + gain.get(bench, 0.0)] * 20
    m = transfer_matrix(counts_from(accs), "base", n_boot=100)
    disp = transfer_display(m)
    assert list(disp.columns) == ["system", "countdown (math)", "math500 (math)", "humaneval (code)", "kk (puzzle)"]
    dt = domain_transfer(m)
    assert list(dt.index) == ["math", "code", "puzzle"] and list(dt.columns) == ["math", "code", "puzzle"]
    assert dt.loc["math", "math"] == pytest.approx(15.0)  # +30 on math500, 0 on countdown, in points
    assert dt.loc["code", "math"] == pytest.approx(5.0) and dt.loc["puzzle", "puzzle"] == pytest.approx(40.0)
    assert training_domains("math_code_puzzle@200") == ("math", "code", "puzzle")
    assert training_domains("qwen-base") == () and training_domains("mix1", {"mix1": ["code"]}) == ("code",)


def test_synergy_gain_and_conflict_with_cis():
    n = 150
    accs = {("math", "math500"): [0.5] * n, ("puzzle", "math500"): [0.2] * n, ("math_puzzle", "math500"): [0.8] * n,
            ("math", "kk"): [0.3] * n, ("puzzle", "kk"): [0.7] * n, ("math_puzzle", "kk"): [0.4] * n,
            ("math", "countdown"): list(np.tile([0.0, 1.0], n // 2)), ("puzzle", "countdown"): [0.1] * n,
            ("math_puzzle", "countdown"): list(np.tile([1.0, 0.0], n // 2))}
    syn = synergy_table(counts_from(accs), n_boot=400).set_index("benchmark")
    assert syn.loc["math500", "verdict"] == "synergy" and syn.loc["math500", "vs_best"] == pytest.approx(0.3)
    assert syn.loc["kk", "verdict"] == "conflict" and syn.loc["kk", "best_single"] == "puzzle"
    assert syn.loc["kk", "vs_mean"] == pytest.approx(-0.1)
    # same mean as the best single, but on other problems: the paired CI straddles zero
    assert syn.loc["countdown", "verdict"] == "no clear difference"
    # a combined run whose single-domain runs are missing is left out
    assert synergy_table(counts_from({("math_code", "kk"): [0.5] * 5}), n_boot=50).empty


def test_crossover_k_where_the_baseline_catches_up():
    rows = []
    for k, rl, base in ((1, 0.6, 0.3), (2, 0.7, 0.5), (4, 0.75, 0.75), (8, 0.78, 0.9)):
        rows += [{"system": "rl", "benchmark": "math500", "k": k, "pass_at_k": rl}, {"system": "base", "benchmark": "math500", "k": k, "pass_at_k": base}]
    rows += [{"system": "rl", "benchmark": "kk", "k": k, "pass_at_k": 0.9} for k in (1, 2)]
    rows += [{"system": "base", "benchmark": "kk", "k": k, "pass_at_k": 0.1 * k} for k in (1, 2)]
    x = crossover_k(pd.DataFrame(rows), "base").set_index("benchmark")
    assert x.loc["math500", "crossover_k"] == 4 and x.loc["math500", "gap_at_k1"] == pytest.approx(0.3)
    assert np.isnan(x.loc["kk", "crossover_k"]) and not x.loc["kk", "baseline_ahead_from_start"]


def test_coverage_overlap_and_histogram():
    counts = pd.DataFrame({
        "system": ["a"] * 4 + ["b"] * 4, "benchmark": ["kk"] * 8, "problem_id": ["0", "1", "2", "3"] * 2,
        "n": [4] * 8, "c": [0, 1, 4, 0, 2, 0, 3, 0], "mean_score": [0] * 8,
    })
    c = cov.coverage(counts).set_index("system")["coverage"]
    assert c["a"] == 0.5 and c["b"] == 0.5
    o = cov.solved_overlap(counts).iloc[0]
    assert (o["both"], o["only_a"], o["only_b"], o["neither"]) == (1, 1, 1, 1) and o["jaccard"] == pytest.approx(1 / 3)
    h = cov.accuracy_histogram(counts, bins=4)
    assert h.groupby("system")["problems"].sum().to_dict() == {"a": 4, "b": 4}
    assert h[(h["system"] == "a") & (h["bin"].str.startswith("(0.75"))]["problems"].item() == 1


def test_results_loading_rules(tmp_path):
    with pytest.raises(UserError, match="results file not found"):
        read_results(str(tmp_path / "none.parquet"))
    pd.DataFrame({"x": [1]}).to_parquet(tmp_path / "bad.parquet")
    with pytest.raises(UserError, match="lacks column"):
        read_results(str(tmp_path / "bad.parquet"))
    df = read_results(str(FIXTURE))
    assert {"math@100", "math@200", "base"} <= set(df["system"])
    last = latest_step(df)
    assert set(last[last["run"] == "math"]["step"]) == {200} and set(last["system"]) == set(df["run"])


def test_tables_are_written_as_csv_markdown_and_latex(tmp_path):
    df = pd.DataFrame({"model": ["a_b"], "acc": [0.12345]})
    csv, md, tex = write_table(df, tmp_path / "t")
    assert pd.read_csv(csv)["acc"].item() == pytest.approx(0.12345)
    assert "| a_b     | 0.123 |" in md.read_text()
    assert "\\toprule" in tex.read_text() and "a\\_b" in tex.read_text()


def test_paper_published_numbers_render_into_the_transfer_table():
    nums = load_paper_numbers()
    assert len(nums) == 7 and nums["source"].str.contains("PAPER-NOTES").all()
    t = paper_transfer_table(nums).set_index("model / trained on")
    assert t.loc["base / math (DSR)", "math500"] == "+19.60 Δ"
    assert t.loc["base / code (CodeR1)", "humaneval"] == "+10.37 Δ"
    assert t.loc["instruct / puzzle (KK)", "kk"] == "99.14"
    assert t.loc["base / math (CD)", "countdown"] == "~+75.00 Δ"
    assert t.loc["? / math + code + puzzle", "overall_avg"] == "56.57"
    # everything the sources do not give stays empty
    assert (t != "").to_numpy().sum() == 7


def test_analyze_end_to_end_on_the_fixture(tmp_path, capsys):
    out = tmp_path / "an"
    rc = main(["analyze", f"results={FIXTURE}", "baseline=base", f"output_dir={out}", "ks=[1,2,4,8,16,32]", "n_boot=200"])
    err = capsys.readouterr().err
    assert rc == 0, err[-2000:]
    assert "skipped for k above the samples" in err  # k=32 > 16 samples, said rather than guessed
    pk = pd.read_csv(out / "pass_at_k.csv")
    assert list(pk.columns[:6]) == ["model", "benchmark", "k", "pass_at_k", "ci_low", "ci_high"]
    assert sorted(pk["k"].unique()) == [1, 2, 4, 8, 16]
    # recompute one number from the raw rows
    raw = pd.read_parquet(FIXTURE)
    sub = raw[(raw["run"] == "puzzle") & (raw["benchmark"] == "kk")]
    want = sub.groupby("problem_id")["correct"].mean().mean()
    got = pk[(pk["model"] == "puzzle") & (pk["benchmark"] == "kk") & (pk["k"] == 1)]["pass_at_k"].item()
    assert got == pytest.approx(want)
    tm = pd.read_csv(out / "transfer_matrix.csv")
    assert set(tm["model"]) == {"base", "math", "code", "puzzle", "math_code_puzzle"}
    assert {"delta", "delta_ci_low", "delta_ci_high", "significant"} <= set(tm.columns)
    for name in ("transfer_heatmap.png", "accuracy_over_steps.png", "figures/pass_at_k_kk.png", "figures/accuracy_hist_kk.png"):
        assert (out / name).read_bytes()[:8] == PNG, name
    for name in ("transfer_table.md", "transfer_table.tex", "transfer_domains.md", "synergy.csv", "crossover.csv", "coverage.csv", "solved_overlap.csv"):
        assert (out / name).stat().st_size > 0, name
    steps = pd.read_csv(out / "accuracy_over_steps.csv")
    assert sorted(steps[steps["run"] == "math"]["step"]) == [100, 200] * 5 or sorted(set(steps[steps["run"] == "math"]["step"])) == [100, 200]
    meta = json.loads((out / "analysis.meta.json").read_text())
    assert meta["config"]["baseline"] == "base" and "pass_at_k.csv" in meta["summary"]["files"]


def test_analyze_bad_baseline_is_one_sentence(tmp_path, capsys):
    rc = main(["analyze", f"results={FIXTURE}", "baseline=nobody", f"output_dir={tmp_path}"])
    assert rc == 2 and "baseline 'nobody' is not in the results" in capsys.readouterr().err


# -- perplexity on the tiny model --------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from mdrl.jobs.tiny_model import ensure_tiny_model

    texts = ["User: what is 2 + 3? Assistant: <think> 2 + 3 = 5 </think> <answer> 5 </answer>"] * 20
    build = {"name": "tiny", "build": {"vocab_size": 300, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
                                       "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 256, "seed": 0}}
    return ensure_tiny_model(build, texts, tmp_path_factory.mktemp("ppl"))


def test_perplexity_batched_equals_one_by_one_and_greedy_text_is_likelier(tiny_model):
    import torch

    from mdrl.analysis.perplexity import load, perplexity, response_nll

    model, tok = load(tiny_model, device="cpu")
    prompts = ["User: what is 2 + 3?", "User: 5", "User: what is 2 + 3? Assistant: <think>"]
    responses = [" <answer> 5 </answer>", " 2 + 3 = 5 </think>", " 3"]
    total, n = response_nll(model, tok, prompts, responses, batch_size=3)
    for i in range(3):
        one, m = response_nll(model, tok, prompts[i : i + 1], responses[i : i + 1], batch_size=1)
        assert m[0] == n[i] and one[0] == pytest.approx(total[i], rel=1e-4, abs=1e-4)
    # against a direct computation for one pair
    p = tok(prompts[0], add_special_tokens=False)["input_ids"]
    r = tok(responses[0], add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logp = torch.log_softmax(model(torch.tensor([p + r])).logits[0, :-1], -1)
    direct = -sum(logp[len(p) - 1 + j, t].item() for j, t in enumerate(r))
    assert total[0] == pytest.approx(direct, rel=1e-4) and n[0] == len(r)
    # the model's own greedy continuation is far likelier than random tokens
    enc = tok(prompts[0], return_tensors="pt", add_special_tokens=False)
    greedy = model.generate(**enc, max_new_tokens=12, do_sample=False, pad_token_id=tok.pad_token_id)[0, enc["input_ids"].shape[1] :]
    rng = np.random.default_rng(0)
    rand = [tok.decode(rng.integers(10, len(tok), size=len(greedy)).tolist()) for _ in range(5)]
    g_nll, g_n = response_nll(model, tok, [prompts[0]], [tok.decode(greedy)])
    r_nll, r_n = response_nll(model, tok, [prompts[0]] * 5, rand)
    assert perplexity(g_nll, g_n)[0] < perplexity(r_nll, r_n).min()


def test_analyze_writes_perplexity_of_responses_under_a_model(tmp_path, tiny_model):
    raw = pd.read_parquet(FIXTURE)
    small = raw[raw["benchmark"] == "kk"].groupby(["run", "problem_id"]).head(2)
    small = small[small["problem_id"].isin(["0", "1", "2"])]
    res = tmp_path / "r.parquet"
    small.to_parquet(res)
    out = tmp_path / "an"
    rc = main(["analyze", f"results={res}", f"output_dir={out}", "ks=[1,2]", "n_boot=50", "plots=false",
               f"perplexity.model={tiny_model}", "perplexity.max_samples=4", "progress=false"])
    assert rc == 0
    ppl = pd.read_csv(out / "perplexity.csv")
    assert set(ppl["model"]) == set(small["run"]) and (ppl["mean_perplexity"] > 1).all()
    assert ppl.groupby("model")["responses"].sum().max() <= 4


# -- the training-detail studies: template consistency and reward design ------------------------
def _study_results(path: Path) -> Path:
    """Two runs (trained with r1 / none), each evaluated under both templates on two benchmarks;
    the score of a problem is 1 for the first ``k`` of 10 problems, k set per cell below."""
    solved = {("t_r1", "r1", "kk"): 8, ("t_r1", "none", "kk"): 2, ("t_r1", "r1", "countdown"): 6, ("t_r1", "none", "countdown"): 4,
              ("t_none", "r1", "kk"): 5, ("t_none", "none", "kk"): 7, ("t_none", "r1", "countdown"): 3, ("t_none", "none", "countdown"): 9}
    rows = [{"run": run, "template": tpl, "benchmark": bench, "problem_id": str(p), "sample_idx": 0, "score": float(p < k), "correct": p < k}
            for (run, tpl, bench), k in solved.items() for p in range(10)]
    pd.DataFrame(rows).to_parquet(path)
    return path


def test_analyze_writes_the_template_matrix_and_reward_table(tmp_path, capsys):
    res = _study_results(tmp_path / "study.parquet")
    out = tmp_path / "an"
    rc = main(["analyze", f"results={res}", f"output_dir={out}", "ks=[1]", "n_boot=50", "plots=false",
               "train_templates={t_r1:r1,t_none:none}", "reward_schemes={t_r1:binary,t_none:paper}",
               "run_domains={t_r1:[puzzle],t_none:[puzzle]}"])
    assert rc == 0, capsys.readouterr().err[-2000:]
    m = pd.read_csv(out / "template_matrix.csv").set_index("train template")
    # benchmarks weighted equally: (0.8 + 0.6) / 2 for r1 under r1, and so on
    assert m.loc["r1", "r1"] == pytest.approx(0.7) and m.loc["r1", "none"] == pytest.approx(0.3)
    assert m.loc["none", "none"] == pytest.approx(0.8) and m.loc["none", "r1"] == pytest.approx(0.4)
    cost = pd.read_csv(out / "template_mismatch_cost.csv").set_index("train template")["matched minus mismatched"]
    assert cost["r1"] == pytest.approx(0.4) and cost["none"] == pytest.approx(0.4)
    rt = pd.read_csv(out / "reward_table.csv").set_index("reward")
    assert rt.loc["paper", "countdown"] == pytest.approx(0.6) and rt.loc["binary", "kk"] == pytest.approx(0.5)
    best = pd.read_csv(out / "reward_best_scheme.csv").set_index("benchmark")["best scheme"]
    assert best["countdown"] == "paper" and best["average"] == "paper"
    for name in ("template_matrix.md", "template_matrix.tex", "reward_table.md"):
        assert (out / name).stat().st_size > 0


def test_analyze_template_matrix_without_a_run_label_is_one_sentence(tmp_path, capsys):
    res = _study_results(tmp_path / "study.parquet")
    rc = main(["analyze", f"results={res}", f"output_dir={tmp_path / 'an'}", "ks=[1]", "n_boot=20", "plots=false",
               "train_templates={t_r1:r1}"])
    err = capsys.readouterr().err
    assert rc == 2 and "template matrix: no training template given for run(s) ['t_none']" in err
