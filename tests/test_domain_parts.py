"""The pieces the domain modules share (never-raise rule, ground-truth decoding, row helpers)
and the phrase tables through which the Chinese generators reuse the English ones."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from mdrl.domains import countdown as cd
from mdrl.domains import kk, kk_zh, lpb, lpb_generator, lpb_zh, zh
from mdrl.domains import math_domain as mth
from mdrl.domains.base import Verdict
from mdrl.domains.row_io import decode_json, extra_info_of, prompt_messages, record_index, row_ground_truth
from mdrl.domains.safe_verify import never_raises

# ------------------------------------------------------------------ never-raise rule


@never_raises(right=0, total=0, parsed={})
def _broken(answer, ground_truth, extra_info=None, **options):
    """Divides by its ground truth."""
    if options.get("mutate"):
        raise KeyError("gone")
    return Verdict(1 / ground_truth, True)


def test_an_exception_becomes_a_wrong_verdict_with_the_domains_empty_details():
    v = _broken("x", 0)
    assert (v.fraction, v.correct) == (0.0, False)
    assert v.details["reason"].startswith("verifier error: ZeroDivisionError: ")
    assert (v.details["right"], v.details["total"], v.details["parsed"]) == (0, 0, {})
    assert _broken("x", 2).fraction == 0.5  # no exception: the verdict passes through
    assert _broken("x", 1, None, mutate=True).details["reason"] == "verifier error: KeyError: 'gone'"


def test_wrong_verdicts_do_not_share_their_details():
    first = _broken("x", 0)
    first.details["parsed"]["Ann"] = "knight"
    assert _broken("x", 0).details["parsed"] == {}


def test_the_wrapper_keeps_the_name_and_pickles_as_itself():
    # the scoring pool's workers receive verifiers by reference
    assert kk.verify.__name__ == "verify" and "person by person" in kk.verify.__doc__
    for fn in (kk.verify, lpb.verify, cd.verify, mth.verify):
        assert pickle.loads(pickle.dumps(fn)) is fn


@pytest.mark.parametrize(
    "verify, args, options",
    [
        (cd.verify, ("1 + 2", {"numbers": [1, 2], "target": 3}), {"max_length": "many"}),
        (mth.verify, ("\\boxed{3}", "3"), {"float_rounding": "six"}),
        (mth.verify, ("\\boxed{3}", "4"), {"max_chars": None}),
    ],
)
def test_a_bad_option_costs_one_item_in_every_domain(verify, args, options):
    v = verify(*args, **options)
    assert not v.correct and v.details["reason"].startswith("verifier error: ")


# ------------------------------------------------------------------ ground truths and rows


@pytest.mark.parametrize(
    "value, keep_text, expected",
    [
        ('{"numbers": [1, 2], "target": 3}', False, {"numbers": [1, 2], "target": 3}),
        (b'{"House 1": {"Name": "Ann"}}', False, {"House 1": {"Name": "Ann"}}),
        ("[1, 2]", False, [1, 2]),
        ("12", True, 12),
        ("(1) Ann is a knight", True, "(1) Ann is a knight"),
        (b"(1) Ann is a knave", True, "(1) Ann is a knave"),
        ({"already": "decoded"}, False, {"already": "decoded"}),
        (None, False, None),
    ],
)
def test_decode_json(value, keep_text, expected):
    assert decode_json(value, keep_text=keep_text) == expected


def test_decode_json_refuses_text_that_is_not_json_unless_asked_to_keep_it():
    with pytest.raises(ValueError):
        decode_json("{not json")
    with pytest.raises(ValueError):
        decode_json(b"\xff\xfe")
    assert decode_json(b"\xff\xfe", keep_text=True) == b"\xff\xfe"


def test_row_ground_truth_decodes_json_and_keeps_plain_answers():
    row = {"reward_model": {"ground_truth": json.dumps({"numbers": [3, 4], "target": 7})}}
    assert row_ground_truth(row) == {"numbers": [3, 4], "target": 7}
    assert row_ground_truth({"reward_model": {"ground_truth": "\\frac{1}{2}"}}) == "\\frac{1}{2}"
    assert row_ground_truth({}) is None


def test_numpy_ground_truths_from_parquet_score_like_plain_ones():
    gt = {"numbers": np.array([25, 3, 1]), "target": np.int64(100)}
    assert cd.verify("25 * (3 + 1)", gt).correct
    assert cd._ground_truth(gt) == ([25, 3, 1], 100)
    assert mth.verify("\\boxed{7}", np.array(["6", "7"])).correct  # alternatives as a numpy array


def test_record_index_falls_back_to_the_position():
    assert record_index({"extra_info": {"index": "7"}}, 3) == 7
    assert record_index({"extra_info": {"index": None}}, 3) == 3
    assert record_index({"extra_info": "not a mapping", "index": 9}, 3) == 3
    assert record_index({"index": 9}, 3, top_level=True) == 9
    assert record_index({"extra_info": {"index": 1}, "index": 9}, 3, top_level=True) == 1
    assert record_index({"index": "x"}, 3, top_level=True) == 3


def test_prompt_messages_and_extra_info_are_copies():
    assert prompt_messages("Q?") == [{"role": "user", "content": "Q?"}]
    turns = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    out = prompt_messages(turns)
    out[0]["content"] = "changed"
    assert turns[0]["content"] == "S"
    rec = {"extra_info": {"index": 1}}
    extra_info_of(rec).pop("index")
    assert rec["extra_info"] == {"index": 1} and extra_info_of({"extra_info": None}) == {}


# ------------------------------------------------------------------ phrase tables


def test_the_english_statement_phrasing_is_the_released_one(shared_data):
    """Every statement of the released K&K test set, said by kk.say, stands in its quiz."""
    rows = kk.load_kk(str(shared_data / "dcs/kk/test.parquet"))
    assert len(rows) == 600
    for row in rows:
        names = row["extra_info"]["names"]
        for stmt in kk.parse_statements(row["reward_model"]["ground_truth"]["statements"]):
            assert kk.say(stmt, names) in row["extra_info"]["question"]


def test_every_script_says_every_operator():
    stmt = ("<=>", ("->", ("telling-truth", 0), ("not", ("lying", 1))),
            ("not", ("and", ("lying", 0), ("or", ("telling-truth", 1), ("lying", 2)))))
    names = ["A", "B", "C"]
    assert kk.say(stmt, names) == (
        "(if A is a knight then B is not a knave) if and only if "
        "it is not the case that (A is a knave and (B is a knight or C is a knave))"
    )
    for script in zh.SCRIPTS:
        text = kk_zh.say(stmt, ["甲", "乙", "丙"], script)
        knight, knave = zh.ROLES[script]
        assert text.count("（") == text.count("）") == 3 and knight in text and knave in text
        assert not any(word in text for word in ("if", "and", "knight"))


def test_the_chinese_clue_sentences_cover_every_clue_kind():
    assert set(lpb_zh.CLUE_SENTENCES) == set(lpb_generator.CLUE_SENTENCES)
    clue = ["at", ["Pet", "cat"], 2]
    assert lpb.clue_text(clue) == "The cat owner is in the second house."
    assert lpb_zh.clue_text(clue) == "养猫的人住在第2间房子里。"
