"""Rows per source under mixture sizes and weights (``plan_sizes``), what ``prepare`` writes
(row counts, ``extra_info.difficulty``, curriculum order and stage files) and the column
flattening that lets every domain share one parquet."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdrl.cli import compose, main
from mdrl.curricula.difficulty import difficulty
from mdrl.domains.row_io import read_records
from mdrl.jobs.prepare import flatten_extra_info, plan_sizes, prepare

# ------------------------------------------------------------------ plan_sizes


def _mixture(weights: dict[str, float], sizes: dict[str, int | None] | None = None, **keys) -> dict:
    sizes = sizes or {}
    return {"normalize": True, **keys, "sources": {s: {"weight": w, "size": sizes.get(s)} for s, w in weights.items()}}


_units = st.dictionaries(st.sampled_from("abcdef"), st.tuples(st.sampled_from(["g1", "g2", "g3"]), st.integers(1, 400), st.integers(0, 4)), min_size=1)


@settings(max_examples=200, deadline=None)
@given(_units, st.one_of(st.none(), st.integers(1, 600)))
def test_every_unit_gets_exactly_its_rows_and_no_source_more_than_it_has(spec, per_unit):
    available = {s: n for s, (_, n, _) in spec.items()}
    units = {s: g for s, (g, _, _) in spec.items()}
    weights = {s: float(w) for s, (_, _, w) in spec.items()}
    if not any(weights.values()):
        weights[next(iter(weights))] = 1.0
    plan = plan_sizes(available, units, _mixture(weights, rows_per_study_domain=per_unit))
    assert set(plan) == set(available)
    assert all(plan[s] == 0 for s in plan if weights[s] == 0), "a source of weight 0 was drawn"
    live = {s for s in plan if weights[s] > 0}
    totals, capacity = Counter(), Counter()
    for s in live:
        totals[units[s]] += plan[s]
        capacity[units[s]] += available[s]
    want = per_unit if per_unit is not None else min(capacity.values())  # default: the smallest unit's total
    assert all(t == want for t in totals.values()), (totals, want)
    for s in live:
        if want <= capacity[units[s]]:
            assert plan[s] <= available[s], "a row repeated while its unit had rows to spare"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=5), st.integers(1, 500))
def test_shares_follow_the_weights_within_one_row_when_nothing_runs_short(weights, total):
    names = [f"s{i}" for i in range(len(weights))]
    w = dict(zip(names, map(float, weights)))
    plan = plan_sizes({s: 10_000 for s in names}, {s: "g" for s in names}, _mixture(w, rows_per_study_domain=total))
    assert sum(plan.values()) == total
    for s in names:
        assert abs(plan[s] - total * w[s] / sum(w.values())) < 1.0, plan


def test_rounding_hands_leftover_rows_to_the_largest_remainders():
    # 10 rows over three equal weights: 3.33 each, one source gets the spare row
    plan = plan_sizes({"a": 100, "b": 100, "c": 100}, {"a": "g", "b": "g", "c": "g"}, _mixture({"a": 1, "b": 1, "c": 1}, rows_per_study_domain=10))
    assert sorted(plan.values()) == [3, 3, 4]
    # 7 rows at weights 5 : 2 -> 5 and 2 exactly; at 1 : 1 : 5 -> 1, 1, 5
    assert plan_sizes({"a": 50, "b": 50}, {"a": "g", "b": "g"}, _mixture({"a": 5, "b": 2}, rows_per_study_domain=7)) == {"a": 5, "b": 2}


def test_size_caps_a_source_before_balancing():
    units = {"a": "g1", "b": "g2"}
    plan = plan_sizes({"a": 500, "b": 800}, units, _mixture({"a": 1, "b": 1}, {"b": 120}))
    assert plan == {"a": 120, "b": 120}  # b capped at 120 rows: the smallest unit now
    # without normalisation: each source's capped rows scaled by its weight, rounded
    off = {"normalize": False, "sources": {"a": {"weight": 0.5, "size": None}, "b": {"weight": 2.0, "size": 101}}}
    assert plan_sizes({"a": 9, "b": 800}, units, off) == {"a": round(4.5), "b": 202}


def test_a_weight_of_zero_drops_the_source():
    # g1's one live source b has 50 rows: g1 and g2 balance at 50, a is never drawn
    plan = plan_sizes({"a": 50, "b": 50, "c": 60}, {"a": "g1", "b": "g1", "c": "g2"}, _mixture({"a": 0, "b": 1, "c": 1}))
    assert plan == {"a": 0, "b": 50, "c": 50}
    # a unit asked for more than its live sources hold resamples them, not the dropped one
    plan = plan_sizes({"a": 50, "b": 50, "c": 60}, {"a": "g1", "b": "g1", "c": "g2"}, _mixture({"a": 0, "b": 1, "c": 1}, rows_per_study_domain=60))
    assert plan == {"a": 0, "b": 60, "c": 60}
    # a unit whose sources all weigh 0 is left out (a stage training one study domain only)
    assert plan_sizes({"a": 5, "b": 9}, {"a": "g1", "b": "g2"}, _mixture({"a": 0, "b": 1})) == {"a": 0, "b": 9}


@pytest.mark.parametrize("override,key", [
    ("mixture.sources.countdown3.weight=-1", "mixture.sources.countdown3.weight"),
    ("mixture.sources.countdown3.size=0", "mixture.sources.countdown3.size"),
    ("mixture.rows_per_study_domain=-5", "mixture.rows_per_study_domain"),
    ("mixture.sources.countdown3.weight=0", "weight"),
    ("mixture.val_rows=0", "mixture.val_rows"),
])
def test_bad_sizes_and_weights_are_one_sentence(override, key, tmp_path, capsys):
    rc = main(["prepare", "mixture=countdown3_tiny", override, f"hydra.run.dir={tmp_path}"])
    err = capsys.readouterr().err.strip()
    assert rc != 0 and key in err and "Traceback" not in err, err[-2000:]
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    assert not (tmp_path / "data" / "train.parquet").exists()


# ------------------------------------------------------------------ what prepare writes


def _cfg(tmp_path, shared_data, *overrides):
    return compose("train", [f"run_dir={tmp_path}", f"catalog.data_root={shared_data}", *overrides])


def _written(manifest) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(f) for f in manifest["train_files"]], ignore_index=True)


# rows each catalog source loads from the shared files (model=tiny: no length filter)
AVAILABLE = {"dsr": 10000, "countdown": 10000, "coder1": 1890, "kk": 4500, "lpb": 2482}


@pytest.mark.parametrize("mixture, per_source", [
    ("math_code_puzzle", {"dsr": 945, "countdown": 945, "coder1": 1890, "kk": 945, "lpb": 945}),
    # puzzle (6,982 rows) is the smallest: LPB has only 2,482, so KK gives the rest of its share
    ("math_puzzle", {"dsr": 3491, "countdown": 3491, "kk": 4500, "lpb": 2482}),
    ("code_puzzle", {"coder1": 1890, "kk": 945, "lpb": 945}),
    ("puzzle", {"kk": 4500, "lpb": 2482}),
])
def test_written_rows_per_source_are_the_balanced_counts(mixture, per_source, shared_data, tmp_path):
    m = prepare(_cfg(tmp_path, shared_data, f"mixture={mixture}", "mixture.val=[]"), tmp_path / "data")
    assert {s: r["available"] for s, r in m["rows"].items()} == {s: AVAILABLE[s] for s in per_source}
    assert {s: r["written"] for s, r in m["rows"].items()} == per_source
    # counted in the parquet itself: every source of these mixtures has its own verifier domain
    domain_of = {s: r["domain"] for s, r in m["rows"].items()}
    counts = Counter(i["domain"] for i in _written(m)["extra_info"])
    assert counts == Counter({domain_of[s]: n for s, n in per_source.items()})


def test_rows_per_domain_and_weights_reach_the_parquet(shared_data, tmp_path):
    m = prepare(_cfg(tmp_path, shared_data, "mixture=puzzle", "mixture.val=[]", "mixture.rows_per_study_domain=300",
                     "mixture.sources.kk.weight=2", "mixture.sources.lpb.weight=1"), tmp_path / "data")
    df = _written(m)
    assert {s: r["written"] for s, r in m["rows"].items()} == {"kk": 200, "lpb": 100}
    assert Counter(i["domain"] for i in df["extra_info"]) == Counter({"kk": 200, "lpb": 100})  # in the file itself
    assert df["extra_info"].map(lambda i: i["question"]).nunique() == 300  # no row drawn twice


def test_every_written_row_carries_its_difficulty_and_easy_to_hard_writes_it_in_order(shared_data, tmp_path):
    m = prepare(_cfg(tmp_path, shared_data, "mixture=puzzle", "mixture.val=[]", "mixture.rows_per_study_domain=400", "curriculum=easy_to_hard"), tmp_path / "data")
    df = _written(m)
    written = [float(i["difficulty"]) for i in df["extra_info"]]
    assert written == sorted(written) and len(set(written)) >= 4  # KK 3-7 people, zebra grids 2-6 houses
    # the number written is the domain's own difficulty of that row, read back from the file
    back = read_records(m["train_files"][0])
    assert [difficulty(r["extra_info"]["domain"], r) for r in back] == written

    shuffled = prepare(_cfg(tmp_path, shared_data, "mixture=puzzle", "mixture.val=[]", "mixture.rows_per_study_domain=400"), tmp_path / "shuffled")
    levels = [float(i["difficulty"]) for i in _written(shuffled)["extra_info"]]
    assert sorted(levels) == sorted(written) and levels != sorted(levels)


def test_a_staged_curriculum_writes_one_file_per_stage_easy_to_hard(shared_data, tmp_path):
    cfg = _cfg(tmp_path, shared_data, "mixture=kk", "mixture.val=[]", "mixture.rows_per_study_domain=90", "curriculum=easy_to_hard", "curriculum.stages=3")
    m = prepare(cfg, tmp_path / "data")
    assert [f.rsplit("/", 1)[1] for f in m["train_files"]] == ["train_stage0.parquet", "train_stage1.parquet", "train_stage2.parquet"]
    stages = [[float(i["difficulty"]) for i in pd.read_parquet(f)["extra_info"]] for f in m["train_files"]]
    assert [len(s) for s in stages] == m["curriculum"]["stages"] == [30, 30, 30]
    assert max(stages[0]) <= min(stages[1]) and max(stages[1]) <= min(stages[2])
    # a stage of the chain (what `mdrl train` runs per stage) keeps only its own part
    part = prepare(_cfg(tmp_path, shared_data, "mixture=kk", "mixture.val=[]", "mixture.rows_per_study_domain=90", "curriculum=easy_to_hard",
                        "curriculum.stages=3", "+curriculum.select={part: 2, of: 3}"), tmp_path / "part2")
    assert len(part["train_files"]) == 1
    assert sorted(float(i["difficulty"]) for i in _written(part)["extra_info"]) == sorted(stages[2])


# ------------------------------------------------------------------ flatten_extra_info


def test_flatten_makes_mixed_types_one_column_and_keeps_plain_values():
    infos = [
        {"question": "q1", "index": 0, "knights": ["Ann"], "difficulty": 3.0, "level": 2},
        {"question": "q2", "index": 1, "level": "Level 4", "clues": {"a": 1}},
        {"question": "q3", "index": 2, "difficulty": 5},
    ]
    flat = flatten_extra_info(infos)
    # every row has every key (one parquet schema), missing ones as None
    assert all(list(f) == sorted({k for i in infos for k in i}) for f in flat)
    assert [f["question"] for f in flat] == ["q1", "q2", "q3"] and [f["index"] for f in flat] == [0, 1, 2]
    # nested values become JSON text that round-trips
    assert json.loads(flat[0]["knights"]) == ["Ann"] and json.loads(flat[1]["clues"]) == {"a": 1} and flat[2]["knights"] is None
    # int and float in one key are both numbers: kept as numbers
    assert flat[0]["difficulty"] == 3.0 and flat[2]["difficulty"] == 5
    # a key that is a number in one row and text in another becomes text everywhere
    assert [f["level"] for f in flat] == ["2", "Level 4", None]


def test_flattened_rows_of_every_domain_share_one_parquet(tmp_path):
    from mdrl.domains import get_domain

    rows = []
    for name, kw in (("countdown", {"num_count": 3, "max_number": 9, "max_target": 30}), ("kk", {"num_people": 3}), ("lpb", {"houses": 3, "categories": 3})):
        rows += get_domain(name).generate(n=4, seed=0, **kw)
    table = pd.DataFrame({"extra_info": flatten_extra_info([r["extra_info"] for r in rows])})
    table.to_parquet(tmp_path / "x.parquet")  # pyarrow would refuse mixed types in one column
    back = pd.read_parquet(tmp_path / "x.parquet")
    assert [i["question"] for i in back["extra_info"]] == [r["extra_info"]["question"] for r in rows]
