"""Knights and Knaves: verifier, loaders and generator (domains/kk.py)."""

from __future__ import annotations

import json
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrl.domains import domain_for_source, kk
from mdrl.domains.row_io import read_records

GOLD = "(1) Aurora is a knight\n(2) Logan is a knave\n(3) Henry is a knave"
GT = {"solution_text_format": GOLD, "statements": "()"}


@pytest.fixture(scope="module")
def dcs_rows(shared_data):
    return read_records(shared_data / "dcs/kk/test.parquet")


def _gold_pairs(text: str) -> list[tuple[str, str]]:
    return re.findall(r"\(\d+\) (\w+) is a (knight|knave)", text)


def _lines(pairs) -> str:
    return "\n".join(f"({i}) {n} is a {r}" for i, (n, r) in enumerate(pairs, 1))


# ---------------------------------------------------------------------------- released data


def test_every_released_gold_scores_one(dcs_rows):
    assert len(dcs_rows) == 600
    for row in dcs_rows:
        gt = row["reward_model"]["ground_truth"]
        v = kk.verify(gt["solution_text_format"], gt)
        assert v.correct and v.fraction == 1.0, (row["index"], v.details)
        assert v.details["right"] == v.details["total"] == len(row["names"])


def test_released_statements_have_the_gold_as_unique_solution(dcs_rows):
    for row in dcs_rows:
        sols = kk.solve(row["reward_model"]["ground_truth"]["statements"])
        assert sols == [tuple(row["solution"])]


def test_flipping_one_role_costs_one_person(dcs_rows):
    rng = random.Random(0)
    for row in dcs_rows:
        gt = row["reward_model"]["ground_truth"]
        pairs = _gold_pairs(gt["solution_text_format"])
        n = len(pairs)
        k = rng.randrange(n)
        pairs[k] = (pairs[k][0], "knave" if pairs[k][1] == "knight" else "knight")
        v = kk.verify(_lines(pairs), gt)
        assert not v.correct
        assert v.fraction == pytest.approx((n - 1) / n)


def test_dropping_a_person_costs_one_person(dcs_rows):
    for row in dcs_rows[::7]:
        gt = row["reward_model"]["ground_truth"]
        pairs = _gold_pairs(gt["solution_text_format"])
        n = len(pairs)
        v = kk.verify(_lines(pairs[1:]), gt)
        assert not v.correct and v.fraction == pytest.approx((n - 1) / n)
        assert "no claim for" in v.details["reason"]


def test_reordered_lines_pass(dcs_rows):
    rng = random.Random(1)
    for row in dcs_rows[::5]:
        gt = row["reward_model"]["ground_truth"]
        pairs = _gold_pairs(gt["solution_text_format"])
        rng.shuffle(pairs)
        assert kk.verify(_lines(pairs), gt).correct


# ---------------------------------------------------------------------------- format variants


@pytest.mark.parametrize(
    "answer",
    [
        GOLD,
        "(3) Henry is a knave\n(1) Aurora is a knight\n(2) Logan is a knave",
        "Aurora is a knight\nLogan is a knave\nHenry is a knave",
        "(1) **Aurora** is a **knight**\n(2) **Logan** is a **knave**\n(3) **Henry** is a **knave**",
        "1. Aurora is a Knight.\n2. Logan is a Knave.\n3. Henry is a Knave.",
        "AURORA IS A KNIGHT; LOGAN IS A KNAVE; HENRY IS A KNAVE",
        "Aurora is a knight, Logan is a knave, and Henry is a knave.",
        "- Aurora: knight\n- Logan: knave\n- Henry: knave",
        "| Name | Role |\n|---|---|\n| Aurora | Knight |\n| Logan | Knave |\n| Henry | Knave |",
        "(1) Aurora is not a knave\n(2) Logan is a knave\n(3) Henry is not a knight",
        "  (1)  Aurora   is  a  knight \n\n (2) Logan is an knave\n(3) Henry is the knave ",
    ],
)
def test_format_variants_pass(answer):
    v = kk.verify(answer, GT)
    assert v.correct and v.fraction == 1.0, v.details
    assert v.details["parsed"] == {"Aurora": "knight", "Logan": "knave", "Henry": "knave"}


def test_contradictory_claim_counts_that_person_wrong():
    v = kk.verify(GOLD + "\n(4) Logan is a knight", GT)
    assert not v.correct
    assert v.fraction == pytest.approx(2 / 3)
    assert v.details["parsed"]["Logan"] == "conflict"
    assert "both roles" in v.details["reason"]


def test_names_match_whole_words_only():
    gt = {"solution_text_format": "(1) Mia is a knight\n(2) Amelia is a knave"}
    assert kk.verify("Amelia is a knave. Mia is a knight.", gt).correct
    v = kk.verify("Amelia is a knave.", gt)  # "Mia" inside "Amelia" is not a claim about Mia
    assert v.fraction == pytest.approx(0.5) and v.details["parsed"] == {"Amelia": "knave"}


def test_ground_truth_shapes():
    assert kk.verify(GOLD, json.dumps(GT)).correct
    assert kk.verify(GOLD, GOLD).correct  # the bare solution text
    assert kk.verify(GOLD, {"names": ["Aurora", "Logan", "Henry"], "solution": [True, False, False]}).correct
    saints = {"solution_text_format": "(1) Ann is a saint\n(2) Bo is a sinner"}
    assert kk.verify("Ann is a saint, Bo is a sinner", saints).correct
    assert not kk.verify("Ann is a knight, Bo is a knave", saints).correct


@pytest.mark.parametrize("gt", [None, 3, "", "{not json", {"statements": "()"}, {"solution_text_format": "nobody"}])
def test_bad_ground_truth_is_a_wrong_verdict(gt):
    v = kk.verify(GOLD, gt)
    assert not v.correct and v.fraction == 0.0 and v.details["reason"]


@pytest.mark.parametrize("answer", [None, 12, "", "I don't know", "x" * 100_000])
def test_unusable_answers_score_zero(answer):
    v = kk.verify(answer, GT)
    assert not v.correct and v.fraction == 0.0 and v.details["reason"]


def test_registry_routes_sources():
    for src in ("kk_logic", "kk", "knights_knaves", "KK_LOGIC"):
        assert domain_for_source(src).name == "kk"
    d = domain_for_source("kk")
    assert d.loaders["kk"] is kk.load_kk and d.generate is kk.generate and d.timeout_s <= 10


# ---------------------------------------------------------------------------- loaders


def test_load_released_base_test(shared_data, dcs_rows, released_prompt):
    rows = kk.load_kk(str(shared_data / "dcs/kk/test.parquet"))
    assert len(rows) == 600
    for row, raw in zip(rows, dcs_rows):
        assert row["data_source"] == "kk_logic"
        assert row["prompt"] == raw["prompt"]
        assert row["extra_info"]["question"] == raw["quiz"]
        assert row["extra_info"]["names"] == raw["names"]
        assert row["reward_model"]["ground_truth"] == raw["reward_model"]["ground_truth"]
        # template=released rebuilds the released prompt exactly from the bare quiz
        assert raw["prompt"] == released_prompt("kk", raw["quiz"])


def test_load_logic_rl_instruct_split(shared_data):
    rows = kk.load_kk(str(shared_data / "kk_logic_rl/3ppl_train.parquet"), split="train")
    assert len(rows) == 900
    row = rows[0]
    assert row["prompt"][0]["content"].startswith("<|im_start|>system")
    assert row["extra_info"]["question"].startswith("A very special island")
    assert row["extra_info"]["split"] == "train" and row["extra_info"]["num_people"] == 3
    gt = row["reward_model"]["ground_truth"]
    assert kk.verify(gt["solution_text_format"], gt).correct


def test_load_raw_kk_jsonl(tmp_path, dcs_rows):
    keep = ("quiz", "names", "knight_knave", "solution", "solution_text", "solution_text_format", "statements", "index")
    path = tmp_path / "people3_num5.jsonl"
    path.write_text("\n".join(json.dumps({k: r[k] for k in keep}) for r in dcs_rows[:5]))
    rows = kk.load_kk(str(path), split="train")
    assert len(rows) == 5
    for row, raw in zip(rows, dcs_rows):
        assert row["prompt"][0]["content"] == raw["prompt"][0]["content"]  # rebuilt base prompt
        assert row["extra_info"]["question"] == raw["quiz"]
        assert row["reward_model"]["ground_truth"]["solution_text_format"] == raw["solution_text_format"]
        assert row["data_source"] == "kk_logic"


def test_load_malformed_file(tmp_path):
    from mdrl.domains.row_io import DataFileError

    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"quiz": "q"}) + "\n")
    with pytest.raises(DataFileError):
        kk.load_kk(str(path))


# ---------------------------------------------------------------------------- generator


def test_generator_is_deterministic_and_extends():
    a = kk.generate(12, seed=7, num_people=4)
    assert a == kk.generate(12, seed=7, num_people=4)
    assert a[:5] == kk.generate(5, seed=7, num_people=4)
    assert a != kk.generate(12, seed=8, num_people=4)


@pytest.mark.parametrize("people", [2, 3, 5, 8])
def test_generated_puzzles_are_unique_and_gold_verifies(people, released_prompt):
    from reasoning_gym.logic.knights_knaves import KnightsKnavesDataset

    rows = kk.generate(15, seed=3, num_people=people)
    assert len({r["reward_model"]["ground_truth"]["statements"] for r in rows}) == len(rows)
    for row in rows:
        gt = row["reward_model"]["ground_truth"]
        stmts = kk.parse_statements(gt["statements"])
        assert len(stmts) == people
        sols = kk.solve(stmts)
        assert sols == [tuple(row["extra_info"]["knights"])]
        # independent check: reasoning-gym's own brute force agrees
        assert [tuple(map(bool, s)) for s in KnightsKnavesDataset.find_solution(stmts)] == sols
        assert kk.verify(gt["solution_text_format"], gt).correct
        quiz = row["extra_info"]["question"]
        assert row["prompt"] == released_prompt("kk", quiz)  # reads like a released row
        assert quiz.startswith("A very special island") and quiz.endswith("So who is a knight and who is a knave?")
        assert all(name in quiz for name in row["extra_info"]["names"])


def test_generated_quiz_matches_released_phrasing(dcs_rows):
    """Phrasing a released puzzle's statements with our wording reproduces its sentences."""
    for row in dcs_rows[:100]:
        stmts = kk.parse_statements(row["statements"])
        for stmt in stmts:
            assert kk._say(stmt, row["names"]) in row["quiz"], (stmt, row["quiz"])


def test_generator_rejects_bad_sizes():
    with pytest.raises(ValueError):
        kk.generate(1, num_people=1)
    with pytest.raises(ValueError):
        kk.generate(1, num_people=9)


# ---------------------------------------------------------------------------- fuzz

_adversarial = st.one_of(
    st.text(max_size=400),
    st.text(alphabet="AuroaLgnHeyki sv()*:|-\n.notKNIGHTKNAVE", max_size=600),
    st.builds(lambda k: "Aurora is " * k + "a knight", st.integers(0, 3000)),
    st.builds(lambda k: "(" * k + "Logan" + ")" * k, st.integers(0, 5000)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_adversarial)
@pytest.mark.timeout(300)  # a hang guard only; latency is measured in benchmarks/adversarial_latency.py
def test_fuzz_never_raises(answer):
    v = kk.verify(answer, GT)
    assert 0.0 <= v.fraction <= 1.0 and isinstance(v.correct, bool) and "reason" in v.details


def test_rows_survive_a_parquet_round_trip(tmp_path, shared_data):
    """Rows (released + generated) written by prepare's writer into one parquet reload as they were."""
    from mdrl.jobs.prepare import write_rows

    rows = kk.load_kk(str(shared_data / "dcs/kk/test.parquet"))[:20] + kk.generate(20, seed=2, num_people=3)
    path = tmp_path / "kk.parquet"
    write_rows(rows, path)
    back = kk.load_kk(str(path), split="train")
    assert len(back) == 40
    for row, orig in zip(back, rows):
        assert row["extra_info"]["question"] == orig["extra_info"]["question"]
        assert row["extra_info"]["knights"] == orig["extra_info"]["knights"]
        gt = row["reward_model"]["ground_truth"]
        assert kk.verify(gt["solution_text_format"], json.dumps(gt)).correct
