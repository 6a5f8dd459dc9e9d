"""reward=paper: the study's scheme per domain on mdrl's verifiers.

LPB/zebra pays the fraction of cells right; math, countdown, KK and code pay 0 or 1; no
format term (a correct answer without <think> tags pays 1, a wrong well-formed one 0).
"""

from __future__ import annotations

import json

import pytest
from omegaconf import OmegaConf

from mdrl.cli import compose
from mdrl.scoring import score_one
from mdrl.scoring.core import SETTING_KEYS

LPB_GOLD = {
    "House 1": {"Name": "Arnold", "Drink": "tea", "Pet": "cat"},
    "House 2": {"Name": "Peter", "Drink": "water", "Pet": "dog"},
    "House 3": {"Name": "Eric", "Drink": "milk", "Pet": "bird"},
}
KK_GT = {"solution_text_format": "(1) Ann is a knight\n(2) Bob is a knave\n(3) Cy is a knave", "statements": "()"}
CODE_GT = json.dumps({"functional": "def check(candidate):\n    assert candidate([1, 2, 3]) == 6\n    assert candidate([]) == 0\n\ncheck(Solution().total)"})
CODE_RIGHT = "```python\nclass Solution:\n    def total(self, nums):\n        return sum(nums)\n```"
CODE_HALF = "```python\nclass Solution:\n    def total(self, nums):\n        return 6\n```"  # passes 1 of 2 asserts


@pytest.fixture(scope="module")
def paper() -> dict:
    """The reward settings `reward=paper` hands the scorer (as `mdrl score` and veRL get them)."""
    cfg = compose("score", ["reward=paper", "input=x", "output=y"])
    reward = OmegaConf.to_container(cfg.reward, resolve=True)
    assert reward["scheme"] == "paper"
    return {k: reward[k] for k in SETTING_KEYS}


def wrap(answer: str, think: bool = True) -> str:
    return f"<think>working</think> <answer>{answer}</answer>" if think else f"So: <answer>{answer}</answer>"


def lpb_answer(wrong_cells: int) -> str:
    grid = json.loads(json.dumps(LPB_GOLD))
    cells = [(h, c) for h, row in grid.items() for c in row][:wrong_cells]
    for h, c in cells:
        grid[h][c] = "nobody"
    return json.dumps({"reasoning": "...", "solution": grid})


@pytest.mark.parametrize("wrong, expected", [(0, 1.0), (1, 8 / 9), (3, 6 / 9), (9, 0.0)])
@pytest.mark.parametrize("think", [True, False])
def test_zebra_pays_cell_accuracy_without_format_term(paper, wrong, expected, think):
    r = score_one("zebra", wrap(lpb_answer(wrong), think), json.dumps(LPB_GOLD), None, paper)
    assert r["score"] == pytest.approx(expected), r["details"]
    assert r["details"]["domain"] == "lpb"


def kk(roles: list[str]) -> str:
    return "\n".join(f"({i}) {n} is a {r}" for i, (n, r) in enumerate(zip(["Ann", "Bob", "Cy"], roles), 1))


@pytest.mark.parametrize(
    "data_source, response, gt, expected",
    [
        ("kk_logic", wrap(kk(["knight", "knave", "knave"])), KK_GT, 1.0),
        ("kk_logic", wrap(kk(["knight", "knave", "knave"]), think=False), KK_GT, 1.0),
        ("kk_logic", wrap(kk(["knight", "knight", "knave"])), KK_GT, 0.0),  # 2 of 3 right: no partial credit
        ("math500", wrap("\\frac{1}{2}"), "\\frac12", 1.0),
        ("math500", wrap("0.5", think=False), "\\frac{1}{2}", 1.0),
        ("math500", wrap("3"), "4", 0.0),
        ("countdown", wrap("(3 + 5) * 2"), {"target": 16, "numbers": [2, 3, 5]}, 1.0),
        ("countdown", wrap("3 + 5 + 2"), {"target": 16, "numbers": [2, 3, 5]}, 0.0),
        ("code", wrap(CODE_RIGHT), CODE_GT, 1.0),
        ("code", wrap(CODE_HALF), CODE_GT, 0.0),  # half the tests pass: still 0
    ],
)
def test_other_domains_pay_zero_or_one(paper, data_source, response, gt, expected):
    r = score_one(data_source, response, gt, None, paper)
    assert r["score"] == expected, r["details"]


def test_no_answer_and_unknown_source_pay_zero(paper):
    assert score_one("zebra", "<think>no answer</think>", json.dumps(LPB_GOLD), None, paper)["score"] == 0.0
    assert score_one("nowhere", wrap("1"), "1", None, paper)["score"] == 0.0


def test_paper_differs_from_proportional_and_format_where_the_study_did(paper):
    """Same responses, other schemes: proportional pays KK partial credit, format adds 0.1."""
    partial_kk = wrap(kk(["knight", "knight", "knave"]))
    prop = {**paper, "scheme": "proportional"}
    fmt = {**paper, "scheme": "format"}
    assert score_one("kk_logic", partial_kk, KK_GT, None, prop)["score"] == pytest.approx(2 / 3)
    assert score_one("kk_logic", partial_kk, KK_GT, None, paper)["score"] == 0.0
    right = wrap(kk(["knight", "knave", "knave"]))
    assert score_one("kk_logic", right, KK_GT, None, fmt)["score"] == pytest.approx(1.1)
    assert score_one("kk_logic", right, KK_GT, None, paper)["score"] == 1.0


def test_veRL_hook_scores_with_the_paper_scheme(paper):
    """The veRL reward hook receives the same settings through reward_kwargs."""
    import asyncio

    from mdrl.scoring.verl_reward import compute_score

    out = asyncio.run(compute_score("zebra", wrap(lpb_answer(3)), json.dumps(LPB_GOLD), None, **paper))
    assert out["score"] == pytest.approx(6 / 9)
    out = asyncio.run(compute_score("kk_logic", wrap(kk(["knight", "knight", "knave"])), json.dumps(KK_GT), None, **paper))
    assert out["score"] == 0.0
