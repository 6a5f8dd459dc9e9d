"""The shared scoring path: answer extraction, schemes, and the batch executor's limits."""

from __future__ import annotations

import json

import pytest

from mdrl.scoring import score_batch, score_one
from mdrl.scoring.answer import extract_answer, is_well_formed
from mdrl.scoring.core import DEFAULT_SETTINGS

KK_GT = {"solution_text_format": "(1) Ann is a knight\n(2) Bob is a knave\n(3) Cy is a knave", "statements": "()"}


def settings(scheme: str = "binary", **extra) -> dict:
    return {**DEFAULT_SETTINGS, "scheme": scheme, **extra}


def kk_response(roles: list[str], well_formed: bool = True) -> str:
    body = "\n".join(f"({i}) {n} is a {r}" for i, (n, r) in enumerate(zip(["Ann", "Bob", "Cy"], roles), 1))
    return f"<think>reasoning</think> <answer>{body}</answer>" if well_formed else f"Sure. <answer>{body}</answer> done"


@pytest.mark.parametrize(
    "response, expected",
    [
        ("<answer>1</answer>", "1"),
        ("I'll write <answer></answer> later. <answer> 42 </answer>", "42"),
        ("<answer>a</answer> then <answer>b</answer>", "b"),
        ("no tags at all", None),
        ("<answer>unclosed", None),
        ("</answer> stray close", None),
    ],
)
def test_extract_answer_takes_last_block(response, expected):
    assert extract_answer(response) == expected


@pytest.mark.parametrize(
    "response, ok",
    [
        ("<think>x</think><answer>y</answer>", True),
        ("x</think>\n<answer>y</answer>\n", True),  # prompt ended with "<think>"
        ("<think>x</think><answer>y</answer> trailing", False),
        ("<think>x</think><answer></answer>", False),
        ("<answer>y</answer>", False),
        ("<think>a</think><think>b</think><answer>y</answer>", False),
        ("<think>x<answer>y</answer></think><answer>y</answer>", False),
    ],
)
def test_well_formed(response, ok):
    assert is_well_formed(response) is ok


def test_schemes_on_partial_kk_answer():
    one_wrong = kk_response(["knight", "knight", "knave"])
    assert score_one("kk_logic", one_wrong, KK_GT, None, settings("binary"))["score"] == 0.0
    assert score_one("kk_logic", one_wrong, KK_GT, None, settings("proportional"))["score"] == pytest.approx(2 / 3)
    right = kk_response(["knight", "knave", "knave"])
    fmt = settings("format")
    assert score_one("kk_logic", right, KK_GT, None, fmt)["score"] == pytest.approx(1.1)
    assert score_one("kk_logic", kk_response(["knight", "knave", "knave"], False), KK_GT, None, fmt)["score"] == pytest.approx(0.9)
    assert score_one("kk_logic", one_wrong, KK_GT, None, fmt)["score"] == pytest.approx(0.1)


def test_missing_tag_unknown_source_and_junk_score_zero_with_reason():
    r = score_one("kk_logic", "(1) Ann is a knight", KK_GT, None, settings())
    assert r["score"] == 0.0 and "answer" in r["details"]["reason"]
    r = score_one("no_such_source", "<answer>1</answer>", "1", None, settings())
    assert r["score"] == 0.0 and "unknown data_source" in r["details"]["reason"]
    r = score_one("kk_logic", None, KK_GT, None, settings())
    assert r["score"] == 0.0 and "not a string" in r["details"]["reason"]
    json.dumps(r)  # details always serialise


@pytest.fixture()
def slow_plugin(monkeypatch):
    # Workers are forked from a fresh server process: the plugin reaches them via the env.
    from mdrl.scoring import shutdown

    shutdown()
    monkeypatch.setenv("MDRL_PLUGINS", "tests.plugins.slow_domain")
    import importlib

    import mdrl.domains

    if mdrl.domains.domain_for_source("slowtest") is None:
        importlib.import_module("tests.plugins.slow_domain")
    yield
    shutdown()


def test_executor_cuts_hanging_items_and_survives_crashes(slow_plugin):
    items = [
        {"data_source": "slowtest", "response": "<answer>hang</answer>", "ground_truth": "x"},
        {"data_source": "slowtest", "response": "<answer>7</answer>", "ground_truth": "7"},
        {"data_source": "slowtest", "response": "<answer>die</answer>", "ground_truth": "x"},
        {"data_source": "slowtest", "response": "<answer>raise</answer>", "ground_truth": "x"},
        {"data_source": "slowtest", "response": "<answer>hang</answer>", "ground_truth": "x"},
        {"data_source": "slowtest", "response": "<answer>8</answer>", "ground_truth": "8"},
    ]
    out = score_batch(items, settings(), workers=2)
    assert [r["score"] for r in out] == [0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert "timeout" in out[0]["details"]["reason"] and "timeout" in out[4]["details"]["reason"]
    assert "died" in out[2]["details"]["reason"]
    assert "verifier error" in out[3]["details"]["reason"]
    # each hang is cut at its domain's own limit (slowtest: 1 s) and says so; how long the batch
    # takes under a hang is benchmarks/adversarial_latency.py's to measure, not a test's
    assert "1s limit" in out[0]["details"]["reason"] and out[0]["details"]["elapsed_s"] == 1.0


def test_executor_keeps_order_over_many_items():
    items = [
        {"data_source": "kk_logic", "response": kk_response(["knight", "knave", "knave"] if i % 3 else ["knave"] * 3), "ground_truth": KK_GT}
        for i in range(60)
    ]
    out = score_batch(items, settings(), workers=2)
    assert [r["score"] for r in out] == [1.0 if i % 3 else 0.0 for i in range(60)]


def test_ground_truth_as_json_string():
    r = score_one("kk", kk_response(["knight", "knave", "knave"]), json.dumps(KK_GT), None, settings())
    assert r["score"] == 1.0, r
