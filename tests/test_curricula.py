"""Difficulty per row, curriculum orders and stage plans, the adaptive rule, and the TRL order."""

from __future__ import annotations

import json
import random

import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose
from mdrl.curricula import get_curriculum, is_staged, order_mode, stage_plan
from mdrl.curricula.adaptive import AdaptiveCurriculum
from mdrl.curricula.difficulty import KNOBS, difficulty, generate_at
from mdrl.curricula.order import CurriculumIndex
from mdrl.errors import UserError

# ------------------------------------------------------------------ difficulty from domains


@pytest.mark.parametrize("domain,levels", [("countdown", [2, 4]), ("kk", [2, 5]), ("lpb", [2, 3])])
def test_generated_rows_have_the_difficulty_of_the_generator_knob(domain, levels):
    for level in levels:
        rows = generate_at(domain, level, n=3, seed=1, **({"max_number": 9, "max_target": 30} if domain == "countdown" else {}))
        assert [difficulty(domain, r) for r in rows] == [float(level)] * 3
        # the number comes from the row itself: drop the knob record and the ground truth still gives it
        for r in rows:
            r["extra_info"].pop(KNOBS[domain], None)
        assert [difficulty(domain, r) for r in rows] == [float(level)] * 3


def test_generate_at_refuses_levels_outside_the_knob_range():
    with pytest.raises(ValueError, match="between 2 and 8"):
        generate_at("kk", 9, n=1)
    with pytest.raises(ValueError, match="no generator"):
        generate_at("math", 2, n=1)


def test_released_rows_get_their_domains_difficulty(shared_data):
    from mdrl.domains.code_domain import load_leetcode
    from mdrl.domains.countdown import load_countdown
    from mdrl.domains.kk import load_kk
    from mdrl.domains.lpb import load_zebralogic

    kk5 = load_kk(str(shared_data / "kk_logic_rl" / "5ppl_test.parquet"))[:5]
    assert {difficulty("kk", r) for r in kk5} == {5.0}
    cd = load_countdown(str(shared_data / "dcs" / "countdown" / "test.parquet"))[:20]
    assert all(difficulty("countdown", r) == len(r["reward_model"]["ground_truth"]["numbers"]) for r in cd)
    zl = load_zebralogic(str(shared_data / "zebralogicbench" / "grid_mode_test.parquet"))[:50]
    assert {difficulty("lpb", r) for r in zl} == {float(len(json.loads(r["reward_model"]["ground_truth"]))) for r in zl}
    lc = load_leetcode(str(shared_data / "leetcodedataset" / "LeetCodeDataset-v0.2.0-test.jsonl.gz"))[:60]
    by = {r["extra_info"]["difficulty"]: difficulty("code", r) for r in lc}
    assert by == {k: {"Easy": 1.0, "Medium": 2.0, "Hard": 3.0}[k] for k in by} and len(by) >= 2


def test_math_level_where_the_source_records_one(tmp_path):
    from mdrl.domains.math_domain import load_math500

    f = tmp_path / "m.jsonl"
    f.write_text("\n".join(json.dumps({"problem": f"p{i}", "answer": "1", "level": f"Level {i}"}) for i in (1, 4)) + "\n" + json.dumps({"problem": "q", "answer": "2"}) + "\n")
    assert [difficulty("math", r) for r in load_math500(str(f))] == [1.0, 4.0, 0.0]


# ------------------------------------------------------------------ orders and stages


def _rows(levels):
    rows = []
    for i, (dom, lv) in enumerate(levels):
        knob = {"kk": "num_people", "countdown": "num_count", "lpb": "houses"}[dom]
        rows.append({"extra_info": {"index": i, knob: lv}, "reward_model": {"ground_truth": {}}})
    return rows


def test_easy_to_hard_sorts_annotates_and_cuts_stages():
    levels = [("kk", 5), ("kk", 2), ("countdown", 4), ("kk", 3), ("countdown", 2), ("kk", 7)]
    rows, doms = _rows(levels), [d for d, _ in levels]
    stages = get_curriculum("easy_to_hard")(rows, doms, {"stages": 2}, random.Random(0))
    flat = [r["extra_info"]["difficulty"] for s in stages for r in s]
    assert flat == sorted(flat) and len(stages) == 2 and [len(s) for s in stages] == [3, 3]
    rev = get_curriculum("easy_to_hard")(_rows(levels), doms, {"reverse": True}, random.Random(0))
    assert [r["extra_info"]["difficulty"] for r in rev[0]] == sorted(flat, reverse=True)
    # a chain stage keeps only its own rows
    part = get_curriculum("none")(_rows(levels), doms, {"select": {"part": 1, "of": 2}}, random.Random(0))
    assert sorted(r["extra_info"]["difficulty"] for r in part[0]) == [4.0, 5.0, 7.0]
    rng_sel = get_curriculum("easy_to_hard")(_rows(levels), doms, {"select": {"difficulty": [3, 5]}}, random.Random(0))
    assert [r["extra_info"]["difficulty"] for r in rng_sel[0]] == [3.0, 4.0, 5.0]


def test_stage_plans_from_a_count_or_a_list():
    assert not is_staged({"stages": 1}) and is_staged({"stages": 3}) and is_staged({"stages": [{"name": "a"}]})
    assert not is_staged({"stages": 3, "select": {"part": 0, "of": 3}})  # a stage of a chain runs as one job
    assert [s["select"] for s in stage_plan({"stages": 2})] == [{"part": 0, "of": 2}, {"part": 1, "of": 2}]
    plan = stage_plan({"stages": [{"name": "easy", "difficulty": [None, 3], "weights": {"kk": 1, "lpb": 0}, "overrides": {"trl.max_steps": 5}}, {}]})
    assert plan[0] == {"name": "easy", "select": {"difficulty": [None, 3]}, "mixture": {"sources": {"kk": {"weight": 1}, "lpb": {"weight": 0}}}, "overrides": {"trl.max_steps": 5}}
    assert plan[1]["name"] == "stage1" and plan[1]["select"] == {}
    with pytest.raises(ValueError, match="unknown keys"):
        stage_plan({"stages": [{"nmae": "typo"}]})


def test_order_modes():
    assert order_mode({"name": "none"}) == "shuffled"
    assert order_mode({"name": "easy_to_hard"}) == "ordered"
    assert order_mode({"name": "adaptive"}) == "adaptive"


# ------------------------------------------------------------------ adaptive rule and index


def test_adaptive_raises_above_the_band_lowers_below_and_holds_inside():
    cur = AdaptiveCurriculum({"kk": {"levels": [2, 3, 4], "start": 3}, "countdown": {"levels": [2, 3], "start": 2}}, low=0.3, high=0.7, min_samples=4)
    assert cur.observe([("kk", 1)] * 3) == {}  # too few outcomes to judge
    assert cur.observe([("kk", 1)]) == {"kk": 4}
    assert cur.observe([("kk", 1)] * 8) == {}  # already at the top
    assert cur.observe([("kk", 0)] * 4) == {}  # the last 4 passes still count: 0.5
    assert cur.observe([("kk", 0)] * 4) == {"kk": 3}
    assert cur.observe([("kk", 1), ("kk", 0)] * 2) == {}  # 0.5 is inside the band
    assert cur.observe([("countdown", 0)] * 4) == {}  # already at the bottom
    assert cur.observe([("countdown", 1)] * 12 + [("math", 1)] * 9) == {"countdown": 3}  # 12 of the last 16
    assert cur.levels() == {"kk": 3, "countdown": 3} and cur.level("math") is None
    assert [(h["domain"], h["from"], h["to"]) for h in cur.history] == [("kk", 3, 4), ("kk", 4, 3), ("countdown", 2, 3)]
    again = AdaptiveCurriculum({"kk": {"levels": [2, 3, 4], "start": 2}, "countdown": {"levels": [2, 3]}}, min_samples=4)
    again.load_state_dict(json.loads(json.dumps(cur.state_dict())))
    assert again.levels() == cur.levels() and again.history == cur.history
    with pytest.raises(ValueError, match="band"):
        AdaptiveCurriculum({}, low=0.8, high=0.2)
    with pytest.raises(ValueError, match="start 9"):
        AdaptiveCurriculum({"kk": {"levels": [2, 3], "start": 9}})


def test_index_orders_and_follows_the_adaptive_level():
    doms = ["kk", "math", "kk", "kk", "kk", "math"]
    diffs = [3, 5, 2, 3, 2, 1]
    ordered = CurriculumIndex(doms, diffs, "ordered")
    assert [diffs[ordered(i)] for i in range(6)] == [1, 2, 2, 3, 3, 5]
    cur = AdaptiveCurriculum({"kk": {"levels": [2, 3], "start": 2}}, min_samples=1)
    idx = CurriculumIndex(doms, diffs, "adaptive", cur)
    assert [idx(i) for i in range(6)] == [2, 1, 4, 2, 4, 5]  # kk draws read level-2 rows, math rows stay
    cur.observe([("kk", 1)])
    assert [idx(i) for i in range(6)] == [0, 1, 3, 0, 3, 5]
    with pytest.raises(ValueError, match="no rows at level"):
        CurriculumIndex(doms, diffs, "adaptive", AdaptiveCurriculum({"kk": {"levels": [2, 4]}}))


def test_adaptive_config_generates_every_level_of_generated_sources():
    from mdrl.jobs.adaptive_data import expand_levels

    cfg = compose("train", ["run_dir=/unused", "curriculum=adaptive", "mixture=countdown3_tiny", "curriculum.domains.countdown.levels=[2,4]", "curriculum.domains.countdown.start=2", "curriculum.domains.countdown.rows_per_level=7"])
    out = expand_levels(cfg)
    assert sorted(out.mixture.sources) == ["countdown3@2", "countdown3@4"]
    gen = OmegaConf.to_container(out.catalog.sources["countdown3@4"].train.generate)
    assert gen["num_count"] == 4 and gen["n"] == 7 and gen["max_number"] == 9
    bad = compose("train", ["run_dir=/unused", "curriculum=adaptive", "mixture=puzzle"])
    with pytest.raises(UserError, match="no generated source"):
        expand_levels(bad)


# ------------------------------------------------------------------ the TRL order


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    from mdrl.jobs.tiny_model import ensure_tiny_model

    cfg = compose("train", ["run_dir=/unused"])
    texts = ["A conversation between User and Assistant. <think> 1 + 2 = 3 </think> <answer> 3 </answer>"] * 4
    return ensure_tiny_model(OmegaConf.to_container(cfg.model, resolve=True), texts, tmp_path_factory.mktemp("tiny") / "model")


def _trl_draws(tiny_model, tmp_path, curriculum: str, *overrides: str) -> list[float]:
    """Difficulties of the rows TRL's own train dataloader yields, in order, from the trainer
    ``mdrl train`` builds (trl_backend.grpo_trainer)."""
    from mdrl.jobs.trl_backend import grpo_trainer

    levels = [5, 2, 4, 3, 2, 5, 3, 4]
    rows = [{"data_source": "kk", "prompt": [{"role": "user", "content": f"q{i}"}], "reward_model": {"ground_truth": "{}"},
             "extra_info": {"raw_prompt": f"question {i} ", "domain": "kk", "difficulty": float(lv)}} for i, lv in enumerate(levels)]
    cfg = OmegaConf.to_container(compose("train", ["run_dir=/unused", f"curriculum={curriculum}", "trl.prompts_per_step=2", "trl.num_generations=2", *overrides]), resolve=True)
    reward = lambda completions, **k: [0.0] * len(completions)  # noqa: E731
    reward.__name__ = "zero"
    trainer = grpo_trainer(cfg, tiny_model, rows, reward, tmp_path)
    return [json.loads(x["extra_info"])["difficulty"] for batch in trainer.get_train_dataloader() for x in batch]


def test_trl_dataloader_keeps_the_easy_to_hard_order(tiny_model, tmp_path):
    draws = _trl_draws(tiny_model, tmp_path, "easy_to_hard")
    # each prompt num_generations=2 times in a row, the prompts easy to hard
    assert draws[::2] == draws[1::2] and draws[::2] == sorted([5, 2, 4, 3, 2, 5, 3, 4])
    assert _trl_draws(tiny_model, tmp_path, "easy_to_hard", "curriculum.reverse=true")[::2] == sorted([5, 2, 4, 3, 2, 5, 3, 4], reverse=True)
    shuffled = _trl_draws(tiny_model, tmp_path, "none")
    assert sorted(shuffled[::2]) == sorted(draws[::2]) and shuffled[::2] != sorted(shuffled[::2])


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="checks the CPU path")
def test_adaptive_curriculum_end_to_end_on_trl(tmp_path, capsys):
    """The tiny untrained model passes nothing, so CountDown's difficulty drops from the start
    level to the bottom, and the rows TRL draws follow one batch later (accelerate's look-ahead)."""
    from mdrl.cli import main

    run = tmp_path / "run"
    rc = main(["train", "curriculum=adaptive", "curriculum.domains.countdown.levels=[2,3,4]", "curriculum.domains.countdown.start=3",
               "curriculum.domains.countdown.rows_per_level=16", "curriculum.min_samples=8", "trl.sft_steps=0", "trl.prompts_per_step=2",
               "trl.num_generations=4", "trl.max_completion_length=8", "trl.max_steps=4", "trl.save_steps=2", "mixture.val_rows=4", f"hydra.run.dir={run}"])
    assert rc == 0, capsys.readouterr().err[-3000:]
    manifest = json.loads((run / "data" / "manifest.json").read_text())
    assert sorted(manifest["rows"]) == ["countdown3@2", "countdown3@3", "countdown3@4"]
    log = [json.loads(l) for l in (run / "trl" / "curriculum.jsonl").read_text().splitlines()]
    assert len(log) == 4
    assert log[0]["rows_by_level"] == {"countdown@3.0": 8} and log[0]["moves"] == {"countdown": 2}
    assert log[-1]["rows_by_level"] == {"countdown@2.0": 8} and all(l["levels"] == {"countdown": 2} for l in log)
    metrics = [json.loads(l) for l in (run / "trl" / "metrics.jsonl").read_text().splitlines()]
    levels = [m["curriculum/countdown/level"] for m in metrics if m.get("phase") == "grpo" and "reward" in m]
    assert levels == [2.0] * 4 and not any("curriculum/kk/level" in m for m in metrics)  # only domains the data holds
    state = json.loads((run / "trl" / "curriculum_state.json").read_text())
    assert state["updates"] == 4 and state["history"][0]["from"] == 3 and state["history"][0]["to"] == 2


@pytest.mark.parametrize("override,phrase", [("curriculum.band=[0.9,0.1]", "target band"), ("curriculum.domains.kk.start=9", "start 9"),
                                             ("curriculum.domains.countdown.levels=[1,3]", "outside the num_count range")])
def test_bad_adaptive_settings_are_one_sentence_errors(override, phrase, tmp_path, capsys):
    from mdrl.cli import main

    rc = main(["train", "curriculum=adaptive", override, f"hydra.run.dir={tmp_path}"])
    err = capsys.readouterr().err
    assert rc != 0 and phrase in err and "Traceback" not in err
