"""A sixth domain is one module: tests/toy_domain.py, loaded as a plugin, goes through
prepare (a mixture naming it, no catalog entry), mdrl score, the veRL reward hook, the
warm-up gold and the curriculum's difficulty, with nothing else edited."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose

REPO = Path(__file__).resolve().parents[1]
PLUGIN = "tests.toy_domain"


@pytest.fixture(scope="module")
def toy():
    """The toy domain registered through MDRL_PLUGINS, and taken out again afterwards."""
    from mdrl.domains import base, load_plugins
    from mdrl.scoring.executor import shutdown

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MDRL_PLUGINS", PLUGIN)  # the scoring pool's workers import it from here
        shutdown()
        load_plugins()
        yield sys.modules[PLUGIN]
        shutdown()
        base.unregister("toyadd")
        sys.modules.pop(PLUGIN, None)


@pytest.fixture(scope="module")
def prepared(toy, tmp_path_factory):
    """``mdrl prepare`` of a mixture whose only source is the toy domain, easy to hard."""
    from mdrl.jobs.prepare import run

    out = tmp_path_factory.mktemp("toy_run")
    cfg = compose("prepare", [f"run_dir={out}", "mixture=countdown3_tiny", "~mixture.sources.countdown3",
                              "+mixture.sources.toyadd={weight:1.0,size:12}", "mixture.val=[]", "curriculum=easy_to_hard"])
    manifest = run(cfg)
    return manifest, pd.read_parquet(manifest["train_files"][0])


def test_prepare_takes_a_registered_generated_domain_without_a_catalog_entry(prepared):
    manifest, df = prepared
    row = manifest["rows"]["toyadd"]
    assert (row["domain"], row["group"], row["written"], row["data"]) == ("toyadd", "toyadd", 12, {"generate": {}})
    assert len(df) == 12 and set(df["data_source"]) == {"toyadd"}
    infos = list(df["extra_info"])
    assert {i["domain"] for i in infos} == {"toyadd"}
    # the domain's own wording reached the r1 template, and its difficulty the curriculum
    prompt = df["prompt"].iloc[0][0]["content"]
    assert "solve an addition problem." in prompt and "state the sum within <answer> </answer> tags." in prompt
    assert [i["difficulty"] for i in infos] == [float(i["digits"]) for i in infos]
    assert [i["difficulty"] for i in infos] == sorted(i["difficulty"] for i in infos)
    assert len({i["difficulty"] for i in infos}) > 1  # the generator drew several levels


def test_mdrl_score_scores_the_toy_domain_in_its_workers(prepared, tmp_path):
    _, df = prepared
    items = []
    for i, r in enumerate(df.to_dict("records")):
        gt = r["reward_model"]["ground_truth"]
        answer = gt if i % 2 == 0 else str(int(gt) + 1)
        items.append({"id": str(i), "data_source": r["data_source"], "response": f"<think>add</think> <answer> {answer} </answer>",
                      "ground_truth": gt, "extra_info": {"index": i}})
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps(it) + "\n" for it in items))
    env = {**os.environ, "MDRL_PLUGINS": PLUGIN, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, "-m", "mdrl.cli", "score", f"input={src}", f"output={dst}", "reward=binary",
                           "workers=1", "progress=false"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    scores = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [s["score"] for s in scores] == [1.0 if i % 2 == 0 else 0.0 for i in range(len(items))]
    assert scores[1]["details"]["reason"] == "wrong sum"


def test_the_verl_reward_hook_scores_the_toy_domain(toy):
    from mdrl.scoring.verl_reward import compute_score

    right = asyncio.run(compute_score("toy_sum", "<think>3 + 4</think> <answer> 7 </answer>", "7", {"index": 0}))
    wrong = asyncio.run(compute_score("toyadd", "<think>3 + 4</think> <answer> seven </answer>", "7", {"index": 1}))
    assert right["score"] == 1.0 and right["acc"] == 1.0
    assert wrong["score"] == 0.0 and wrong["acc"] == 0.0


def test_gold_difficulty_knob_and_wording_come_from_the_module(toy):
    from mdrl.curricula.difficulty import difficulty, generate_at
    from mdrl.jobs.templates import render
    from mdrl.jobs.warmup import gold_response

    rows = generate_at("toyadd", 2, n=5, seed=3)
    assert [difficulty("toyadd", r) for r in rows] == [2.0] * 5
    assert all(10 <= r["extra_info"]["a"] <= 99 for r in rows)
    r = rows[0]
    assert gold_response("toyadd", r) == f" </think> <answer> {r['extra_info']['a'] + r['extra_info']['b']} </answer>"
    with pytest.raises(ValueError, match="between 1 and 3"):
        generate_at("toyadd", 4, n=1)
    # template=released has no authors' prompt for it: the R1 layout in the domain's words
    released = OmegaConf.to_container(compose("train", ["template=released", "run_dir=/unused"]).template, resolve=True)
    out = render(released, "toyadd", "What is 1 + 2?")
    assert out["raw_prompt"] is None and len(out["prompt"]) == 1
    assert out["prompt"][0]["content"].startswith("A conversation between User and Assistant.")
    assert "solve an addition problem." in out["prompt"][0]["content"]
    assert out["prompt"][0]["content"].endswith("User: What is 1 + 2?\nAssistant: <think>")
