"""Math: answer extraction, equivalence, guards against hangs and false positives, loaders."""

from __future__ import annotations

import json
import multiprocessing
import re
import threading

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrl.domains import domain_for_source
from mdrl.domains import math_domain as m
from mdrl.domains.base import Verdict


def ok(answer: str, gold) -> bool:
    v = m.verify(answer, gold)
    assert isinstance(v, Verdict) and v.fraction == (1.0 if v.correct else 0.0)
    return v.correct


@pytest.fixture(scope="module")
def test_rows(shared_data) -> list[dict]:
    return m.load_deepscaler(str(shared_data / "dcs/deepscaler/test.parquet"))


@pytest.fixture(scope="module")
def golds(test_rows) -> list[str]:
    return [r["reward_model"]["ground_truth"] for r in test_rows]


# ---------------------------------------------------------------------------- extraction


@pytest.mark.parametrize(
    "answer, extracted",
    [
        ("so \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"),
        ("\\boxed{1} then \\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
        ("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("\\fbox{42}", "42"),
        ("The answer is \\boxed 5.", "5"),
        ("$\\frac{3}{7}$", "\\frac{3}{7}"),
        ("\\[ x = 5 \\]", "x = 5"),
        ("\\boxed{unclosed", "\\boxed{unclosed"),
        ("  17 ", "17"),
    ],
)
def test_extract(answer, extracted):
    assert m.extract(answer) == extracted


# ---------------------------------------------------------------------------- equivalence


@pytest.mark.parametrize(
    "answer, gold",
    [
        ("080", "80"),
        ("\\boxed{080}", "80"),
        ("\\frac{1}{2}", "1/2"),
        ("1/2", "\\frac{1}{2}"),
        ("0.5", "\\frac{1}{2}"),
        ("\\dfrac12", "\\frac{1}{2}"),
        ("\\tfrac{1}{2}", "0.5"),
        ("11\\sqrt{2}", "11\\sqrt2"),
        ("\\sqrt{12}", "2\\sqrt{3}"),
        ("(3, \\pi/2)", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("\\boxed{\\left(3,\\frac{\\pi}{2}\\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("[1, 2)", "[1,2)"),
        ("(-\\infty, 0]", "(-\\infty, 0]"),
        ("(-\\infty,2)\\cup(3,\\infty)", "(-\\infty, 2) \\cup (3, \\infty)"),
        ("x^2+2x+1", "(x+1)^2"),
        ("\\{2, 1\\}", "\\{1, 2\\}"),
        ("2, 1", "1, 2"),
        ("x = 1 \\text{ or } x = 2", "1, 2"),
        ("x = 5", "5"),
        ("5", "x = 5"),
        ("x = 2 + 3 = 5", "5"),
        ("5 \\text{ cm}", "5"),
        ("5", "5 \\text{ cm}"),
        ("30", "30^\\circ"),
        ("30^{\\circ}", "30"),
        ("20", "20\\%"),
        ("20\\%", "20\\%"),
        ("\\frac{270}{7}", "\\frac{270}7\\text{ degrees}"),
        ("\\text{Evelyn}", "\\text{Evelyn}"),
        ("Evelyn", "\\text{Evelyn}"),
        ("C", "\\text{(C)}"),
        ("(C)", "\\text{(C)}"),
        ("6+9i", "6+9i"),
        ("9i + 6", "6+9i"),
        ("9 i + 6", "6+9i"),
        ("52_{8}", "52_8"),
        ("52", "52_8"),
        ("\\begin{pmatrix} -1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} -1 \\\\ 2 \\end{pmatrix}"),
        ("2 \\pm \\sqrt{3}", "2 \\pm \\sqrt{3}"),
        ("2+\\sqrt3, 2-\\sqrt3", "2 \\pm \\sqrt{3}"),
        ("\\frac{1}{2^{2017}}", "2^{-2017}"),
        ("142", 142.0),  # AMC files store answers as floats
        ("The answer is $\\frac{3}{7}$.", "\\frac{3}{7}"),
        ("1,000", "1000"),
    ],
)
def test_equivalent_answers_pass(answer, gold):
    assert ok(answer, gold), m.verify(answer, gold).details


@pytest.mark.parametrize(
    "answer, gold",
    [
        ("81", "80"),
        ("\\frac{1}{3}", "\\frac{1}{2}"),
        ("(\\pi/2, 3)", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("[1, 2]", "[1,2)"),
        ("(x+1)^2 + 1", "x^2+2x+1"),
        ("1", "1, 2"),  # one answer of a "find all" is not the answer
        ("2", "1, 2"),
        ("x = 1", "x = 1 \\text{ or } x = 2"),
        ("1, 2", "1, 2, 3"),
        ("1, 2, 3", "1, 2"),
        ("2", "\\pm 2"),
        ("2+\\sqrt3", "2 \\pm \\sqrt{3}"),
        ("5, 6", "5"),  # hedging
        ("5 \\text{ or } 6", "5"),
        ("$5$ or $6$", "5"),
        ("3 = 5", "5"),  # math-verify reads only the last side of an equation
        ("x = 3 = 5", "5"),
        ("52_9", "52_8"),  # math-verify drops base subscripts
        ("42", "52_8"),
        ("3^{-2017}", "2^{-2017}"),  # math-verify rounds tiny numbers to 0
        ("\\frac{10! 8! 4!}{25!}", "\\frac{9! 8! 4!}{25!}"),
        ("\\text{Evenly}", "\\text{Evelyn}"),
        ("\\text{(D)}", "\\text{(C)}"),
        ("21\\%", "20\\%"),
        ("", "5"),
        ("\\boxed{}", "5"),
        ("no idea", "5"),
    ],
)
def test_wrong_answers_fail(answer, gold):
    v = m.verify(answer, gold)
    assert not v.correct and v.fraction == 0.0, v.details
    assert v.details["reason"]


def test_gold_list_is_alternatives():
    assert ok("\\boxed{3}", ["3", "\\text{three}"])
    assert ok("three", ["3", "\\text{three}"])
    assert not ok("4", ["3", "\\text{three}"])


def test_details_carry_extracted_and_reason():
    v = m.verify("so \\boxed{\\frac12}", "0.5")
    assert v.correct and v.details["extracted"] == "\\frac12" and v.details["reason"] == "correct"
    v = m.verify("\\boxed{7}", "0.5")
    assert not v.correct and v.details["extracted"] == "7" and "not equivalent" in v.details["reason"]
    json.dumps(v.details)


@pytest.mark.parametrize("gold", [None, "", [], {"x": 1}, float("nan")])
def test_bad_ground_truth_is_wrong_not_an_error(gold):
    v = m.verify("\\boxed{1}", gold)
    assert isinstance(v, Verdict) and not v.correct


@pytest.mark.parametrize("answer", [None, 5, b"5", ["5"]])
def test_non_string_answer_is_wrong(answer):
    assert not m.verify(answer, "5").correct


def test_works_off_the_main_thread():
    # math-verify's own signal.alarm timeouts would raise here; ours are disabled.
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(v=m.verify("\\boxed{x^2+2x+1}", "(x+1)^2")))
    worker.start()
    worker.join(60)
    assert result["v"].correct


def test_registry_routes_every_math_source():
    for src in ("deepscaler", "DSR", "math500", "math", "AIME", "aime24", "aime2024", "amc"):
        assert domain_for_source(src).name == "math"


# ---------------------------------------------------------------------------- released golds


def _bump_first_integer(g: str) -> str | None:
    match = re.search(r"\d+", g)
    if not match:
        return None
    return g[: match.start()] + str(int(match.group()) + 1) + g[match.end() :]


def test_all_released_golds_pass(golds):
    assert len(golds) == 530
    failed = [g for g in golds if not ok(f"<reasoning> so \\boxed{{{g}}}", g)]
    assert not failed


def test_released_golds_pass_through_sympy(golds):
    # The gold re-rendered by SymPy's LaTeX printer is a different string with the same
    # value, so this exercises math-verify rather than the exact-text shortcut.
    failed = []
    for g in golds:
        expr, refusal = m._parse_gold(g)
        assert expr is not None, (g, refusal)
        if not ok(f"\\boxed{{{sympy.latex(expr)}}}", g):
            failed.append(g)
    assert not failed


def test_perturbed_released_golds_fail(golds):
    bumped = [(g, _bump_first_integer(g)) for g in golds]
    bumped = [(g, b) for g, b in bumped if b is not None]
    assert len(bumped) > 500
    passed = [(g, b) for g, b in bumped if ok(f"\\boxed{{{b}}}", g)]
    assert not passed
    # another row's gold passes only where the two golds are the same answer (every 2nd row: time)
    wrong = []
    for i, g in list(enumerate(golds))[::2]:
        other = golds[(i + 7) % len(golds)]
        if ok(f"\\boxed{{{other}}}", g) and m._norm_text(other) != m._norm_text(g):
            wrong.append((g, other))
    assert not wrong


# ---------------------------------------------------------------------------- hangs


DANGEROUS = [
    "10^{10^{10^{10}}}",
    "(10^8)!",
    "(10^{8})! - (10^{8})!",
    "10^{10^{10}}",
    "2^{2^{100}}",
    "9^{9^{9}}",
    "2^{2^{2^{2^{2}}}}",
    "\\sqrt{10^{10^{10}}}",
    "x = 10^{10^{10}}",
    "\\frac{10^{10^{10}}}{3}",
    "\\sin(10^{10^{10}})",
    "e^{e^{e^{100}}}",
    "\\pi^{10^{10}}",
    "2^{-10^{10}}",
    "100000!",
    "10^{100000}",
    "\\binom{10^{8}}{5 \\cdot 10^{7}}",
    "\\Gamma(10^{9})",
    "(x+1)^{1000}",
    "{" * 16 + "1" + "}" * 16,
    "(" * 30 + "1" + ")" * 30,
    "1+" * 490 + "1",
    "9" * 5000,
]


def _verify_in_worker(answer: str) -> tuple[bool, str]:
    v = m.verify(f"\\boxed{{{answer}}}", "5")
    return v.correct, v.details.get("reason", "")


def test_dangerous_expressions_return_zero():
    # Each case runs in a worker that is killed if it hangs: a hang fails the test, not the run.
    # How fast each is refused is measured in benchmarks/adversarial_latency.py.
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        pool.apply(_verify_in_worker, ("1",))  # warm the worker's imports
        for answer in DANGEROUS:
            try:
                correct, reason = pool.apply_async(_verify_in_worker, (answer,)).get(timeout=10)
            except multiprocessing.TimeoutError:
                pool.terminate()
                pytest.fail(f"verify hung on {answer[:40]!r}")
            assert not correct and reason, answer


def test_refusal_reasons_are_specific():
    assert "exponent" in m.verify("\\boxed{10^{10^{10^{10}}}}", "5").details["reason"]
    assert "factorial" in m.verify("\\boxed{(10^8)!}", "5").details["reason"]
    assert "nested" in m.verify("\\boxed{" + "{" * 12 + "1" + "}" * 12 + "}", "5").details["reason"]


_LATEX_BITS = list("0123456789+-*/^()[]{}=,.x \\$%!") + ["\\frac", "\\sqrt", "\\boxed{", "\\text{", "é"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_LATEX_BITS), max_size=40).map("".join))
def test_fuzz_verify_never_raises(text):
    v = m.verify(text, "\\frac{1}{2}")
    assert isinstance(v, Verdict) and v.fraction in (0.0, 1.0) and isinstance(v.details.get("reason"), str)


# ---------------------------------------------------------------------------- loaders


def test_released_loaders(shared_data, test_rows):
    path = str(shared_data / "dcs/deepscaler/test.parquet")
    assert len(test_rows) == 530
    math500 = m.load_math500(path)
    aime = m.load_aime24(path)
    assert len(math500) == 500 and {r["data_source"] for r in math500} == {"math500"}
    assert len(aime) == 30 and {r["data_source"] for r in aime} == {"AIME"}  # kept as in the file
    row = math500[0]
    assert row["reward_model"]["ground_truth"] == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert row["extra_info"]["question"].startswith("Convert the point $(0,3)$ in rectangular coordinates")
    assert row["prompt"] == [{"content": row["prompt"][0]["content"], "role": "user"}]
    assert row["prompt"][0]["content"].endswith("Assistant: <think>")
    for r in test_rows:
        q = r["extra_info"]["question"]
        assert q and "User:" not in q and "Assistant:" not in q and "<think>" not in q
        assert isinstance(r["reward_model"]["ground_truth"], str) and r["ability"] == "math"
        assert domain_for_source(r["data_source"]).name == "math"


def test_jsonl_loaders(shared_data):
    aime = m.load_aime24(str(shared_data / "logic_rl_math_eval/aime_2021_2024.jsonl"))
    # Logic-RL's file holds only AIME 2024 II (14 problems, #9 missing), not all 30 of 2024.
    assert len(aime) == 14 and all(r["extra_info"]["year"] == 2024 for r in aime)
    assert {r["data_source"] for r in aime} == {"aime24"}
    amc = m.load_amc(str(shared_data / "logic_rl_math_eval/amc.jsonl"), split="test")
    assert len(amc) == 83 and amc[0]["reward_model"]["ground_truth"] == "142"
    assert amc[0]["extra_info"]["question"].startswith("$\\frac{m}{n}$ is the Irreducible fraction")
    assert ok("\\boxed{142}", amc[0]["reward_model"]["ground_truth"])


def test_local_math500_jsonl(tmp_path):
    p = tmp_path / "math500.jsonl"
    p.write_text(json.dumps({"problem": "What is $1+1$?", "answer": "2", "unique_id": "x/1.json"}) + "\n")
    [row] = m.load_math500(str(p))
    assert row["data_source"] == "math500" and row["reward_model"]["ground_truth"] == "2"
    assert row["extra_info"] == {"question": "What is $1+1$?", "split": "test", "index": 0, "unique_id": "x/1.json"}
    assert row["prompt"] == [{"role": "user", "content": "What is $1+1$?"}]
