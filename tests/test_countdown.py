"""Countdown: the safe arithmetic parser, the verifier, the loader and the generator."""

from __future__ import annotations

import json
import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrl.domains import domain_for_source
from mdrl.domains import arith
from mdrl.domains import countdown as cd
from mdrl.domains.base import Verdict
from mdrl.domains.countdown_solver import solve_countdown as solve  # the warm-up gold's solver


@pytest.fixture(scope="module")
def released(shared_data) -> list[dict]:
    return cd.load_countdown(str(shared_data / "dcs/countdown/test.parquet"))


@pytest.fixture(scope="module")
def solved(released) -> list[tuple[dict, str]]:
    """(ground truth, solution) for a fixed sample of released test rows, 3 and 4 numbers."""
    rng = random.Random(0)
    sample = rng.sample(released, 60)
    out = []
    for row in sample:
        gt = row["reward_model"]["ground_truth"]
        expr = solve(gt["numbers"], gt["target"])
        assert expr is not None, f"released puzzle without a solution: {gt}"
        out.append((gt, expr))
    return out


# ---------------------------------------------------------------------------- arith


@pytest.mark.parametrize(
    "text, value",
    [("2 + 3 * 4", 14), ("(2 + 3) * 4", 20), ("8 - 3 - 2", 3), ("8 / 4 / 2", 1), ("7 / 2", Fraction(7, 2)),
     ("6 × 4 ÷ 3", 8), (" ( ( 1 ) ) ", 1), ("10 - (2 - 5)", 13)],
)
def test_arith_precedence_and_associativity(text, value):
    assert arith.evaluate(arith.parse(text)) == value


def test_arith_numbers_in_reading_order():
    assert arith.numbers(arith.parse("(3 + 10) * 2 - 3")) == [3, 10, 2, 3]


@pytest.mark.parametrize(
    "text, reason",
    [("2**3", "exponentiation"), ("2^3", "exponentiation"), ("-2 + 3", "unary"), ("+2", "unary"), ("1.5 + 1", "integers"),
     ("1e9", "integers"), ("2(3)", "implicit"), ("(1 + 2", "unbalanced"), ("1 + 2)", "unbalanced"), ("", "empty"),
     ("abs(2)", "not allowed"), ("١ + 2", "not allowed"), ("1 +", "ends")],
)
def test_arith_rejects_with_reason(text, reason):
    with pytest.raises(arith.ArithError, match=reason):
        arith.parse(text)


def test_arith_division_by_zero_raises():
    with pytest.raises(ZeroDivisionError):
        arith.evaluate(arith.parse("1 / (2 - 2)"))


# ---------------------------------------------------------------------------- verifier


def test_registry_routes_aliases():
    assert domain_for_source("countdown").name == "countdown"
    assert domain_for_source("CD").name == "countdown"


def test_solutions_of_released_rows_score_one(solved):
    for gt, expr in solved:
        v = cd.verify(expr, gt)
        assert v.correct and v.fraction == 1.0, (gt, expr, v.details)
        # the optional trailing "= target" is accepted
        assert cd.verify(f"{expr} = {gt['target']}", gt).correct


def test_perturbed_solutions_score_zero(solved):
    for gt, expr in solved:
        nums, target = gt["numbers"], gt["target"]
        cases = {
            "reuse a number": f"{expr} - {nums[0]} + {nums[0]}",
            "extra number": f"{expr} + 0",
            "wrong stated result": f"{expr} = {target + 1}",
            "equation the other way": f"{target} = {expr}",
            "two equals": f"{expr} = {target} = {target}",
        }
        for what, answer in cases.items():
            v = cd.verify(answer, gt)
            assert not v.correct and v.fraction == 0.0, (what, answer, v.details)
        assert not cd.verify(expr, {"numbers": nums + [7], "target": target}).correct, "omitted a number"
        assert not cd.verify(expr, {"numbers": nums, "target": target + 1}).correct, "wrong target"


def test_ground_truth_shapes():
    expr = "(6 × 4) ÷ 3"
    assert cd.verify(expr, {"numbers": [6, 3, 4], "target": 8}).correct
    assert cd.verify(expr, {"nums": [3, 4, 6], "target": 8}).correct
    assert cd.verify(expr, json.dumps({"nums": [3, 4, 6], "target": 8})).correct
    v = cd.verify(expr, {"target": 8})
    assert not v.correct and "ground truth" in v.details["reason"]
    assert not cd.verify(expr, None).correct


def test_division_by_zero_scores_zero():
    v = cd.verify("5 / (2 - 2)", {"numbers": [2, 2, 5], "target": 5})
    assert not v.correct and v.details["reason"] == "division by zero"


def test_fractional_intermediates_are_exact():
    # 8 / (3 - 8/3) = 24, the classic puzzle that needs exact fractions
    assert cd.verify("8 / (3 - 8 / 3)", {"numbers": [8, 3, 8, 3], "target": 24}).correct


@pytest.mark.parametrize(
    "attack",
    ["2**99999999", "9^9^9^9", "__import__('os')", "__import__('os').system('true')", "(1).__class__", "1e9",
     "1_000", "２ + ３", "٣ + ٤", "2 + 3\x00", "exec('1')", "lambda: 1", "[1, 2]", "1 if 1 else 2", "0x10", "1.0 + 2",
     "-(1 - 2)", "1 + 2 # comment", "1 <answer> 2", "x", "1 + 2 = 3 = 3", "3 = 1 + 2", "(" * 5000 + "1" + ")" * 5000,
     "(" * 60 + "1 + 2" + ")" * 60, "1 + " * 100_000 + "2", "9" * 400, "1" * 10_000_000],
    ids=lambda a: ascii(a[:24]),
)
@pytest.mark.timeout(60)  # a hang guard only: how fast each attack is refused is benchmarks/adversarial_latency.py
def test_attacks_score_zero(attack):
    gt = {"numbers": [1, 2], "target": 3}
    v = cd.verify(attack, gt)
    assert isinstance(v, Verdict) and not v.correct and v.fraction == 0.0
    assert v.details["reason"]


def test_nesting_within_limit_is_fine():
    inner = "(" * 40 + "1 + 2" + ")" * 40
    assert cd.verify(inner, {"numbers": [1, 2], "target": 3}).correct


_ALPHABET = st.sampled_from(list("0123456789+-*/()= ×÷^.eE_x,[]{}'\"\\\n\t") + ["**", "٣", "２", "\x00", "é", "__"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), st.lists(_ALPHABET, max_size=60).map("".join)))
def test_fuzz_never_raises(text):
    try:
        tree = arith.parse(text)
    except arith.ArithError:
        pass
    else:
        try:
            arith.evaluate(tree)
        except ZeroDivisionError:
            pass
    v = cd.verify(text, {"numbers": [1, 2, 3], "target": 6})
    assert isinstance(v, Verdict) and v.fraction in (0.0, 1.0) and isinstance(v.details.get("reason"), str)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 99), min_size=2, max_size=5), st.randoms(use_true_random=False))
def test_fuzz_valid_expressions_evaluate_like_fractions(nums, rnd):
    # A random well-formed expression over nums must verify against its own exact value.
    items = [(Fraction(n), str(n)) for n in nums]
    while len(items) > 1:
        (a, ea), (b, eb) = items.pop(rnd.randrange(len(items))), items.pop(rnd.randrange(len(items)))
        op = rnd.choice("+-*/" if b else "+-*")
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0}[op]
        items.append((value, f"({ea} {op} {eb})"))
    value, text = items[0]
    assert arith.evaluate(arith.parse(text)) == value
    if value.denominator == 1:
        assert cd.verify(text, {"numbers": nums, "target": int(value)}).correct


# ---------------------------------------------------------------------------- loader


def test_released_loader_keeps_rows_and_recovers_question(released, released_prompt):
    assert len(released) == 1024
    row = released[0]
    assert row["data_source"] == "countdown"
    assert row["reward_model"]["ground_truth"] == {"numbers": [30, 71, 88, 2], "target": 45}
    q = row["extra_info"]["question"]
    assert q.startswith("Using the numbers [30, 71, 88, 2], create an equation that equals 45.")
    assert "User:" not in q and "Assistant:" not in q
    # template=released rebuilds each released prompt exactly from the recovered question,
    # so rows that come without one (generated, local files) read like the authors' rows
    for r in released:
        gt = r["reward_model"]["ground_truth"]
        assert r["prompt"] == released_prompt("countdown", r["extra_info"]["question"])
        assert r["extra_info"]["question"].startswith(f"Using the numbers {gt['numbers']}, create an equation that equals {gt['target']}.")


def test_local_jsonl_loader(tmp_path, released_prompt):
    path = tmp_path / "cd.jsonl"
    path.write_text("\n".join(json.dumps({"nums": n, "target": t}) for n, t in [([1, 2, 3], 6), ([4, 5], 20)]))
    rows = cd.load_countdown(str(path), split="train")
    assert [r["reward_model"]["ground_truth"] for r in rows] == [{"numbers": [1, 2, 3], "target": 6}, {"numbers": [4, 5], "target": 20}]
    info = rows[1]["extra_info"]
    assert (info["split"], info["index"]) == ("train", 1)
    assert info["question"].startswith("Using the numbers [4, 5], create an equation that equals 20.")  # the released wording
    assert rows[0]["prompt"] == released_prompt("countdown", rows[0]["extra_info"]["question"])


# ---------------------------------------------------------------------------- generator


def test_generator_is_deterministic_per_seed():
    assert cd.generate(40, seed=7, num_count=4) == cd.generate(40, seed=7, num_count=4)
    assert cd.generate(40, seed=7, num_count=4) != cd.generate(40, seed=8, num_count=4)


@pytest.mark.parametrize("num_count, max_number", [(3, 20), (4, 100), ([3, 6], 100), (6, 50)])
def test_generated_puzzles_are_valid_and_verify(num_count, max_number, released_prompt):
    rows = cd.generate(60, seed=1, num_count=num_count, max_number=max_number, split="test")
    lo, hi = (num_count, num_count) if isinstance(num_count, int) else num_count
    keys = set()
    for i, row in enumerate(rows):
        gt = row["reward_model"]["ground_truth"]
        info = row["extra_info"]
        assert row["data_source"] == "countdown" and info["split"] == "test" and info["index"] == i
        assert lo <= len(gt["numbers"]) <= hi and all(1 <= n <= max_number for n in gt["numbers"])
        assert 1 <= gt["target"] <= 100
        assert info["question"].startswith(f"Using the numbers {gt['numbers']}, create an equation that equals {gt['target']}.")
        assert row["prompt"] == released_prompt("countdown", info["question"])
        assert cd.verify(info["solution"], gt).correct, (gt, info["solution"])
        keys.add((tuple(sorted(gt["numbers"])), gt["target"]))
    assert len(keys) == len(rows), "puzzles repeat within one call"


def test_generated_small_puzzles_are_solvable_by_search():
    for row in cd.generate(40, seed=3, num_count=3, max_number=20):
        gt = row["reward_model"]["ground_truth"]
        expr = solve(gt["numbers"], gt["target"])
        assert expr is not None and cd.verify(expr, gt).correct


def test_generator_rejects_bad_settings():
    with pytest.raises(ValueError):
        cd.generate(5, seed=0, num_count=1)
    with pytest.raises(ValueError):
        cd.generate(5, seed=0, min_target=50, max_target=10)
    assert cd.generate(0, seed=0) == []
