"""language=zh: Chinese generators, Chinese answer parsing in the verifiers, and the prepare path."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdrl.domains import countdown as cd
from mdrl.domains import countdown_zh, kk, kk_zh, lang, lpb, lpb_zh, zh
from mdrl.domains import math_domain as mth
from mdrl.domains.base import Verdict, get_domain
from mdrl.errors import UserError

FULL = {ord(c): ord(c) + 0xFEE0 for c in "0123456789+-*/()=:{}\","}


def fullwidth(text: str) -> str:
    return text.translate(FULL)


# ---------------------------------------------------------------------------- normalisation


def test_halfwidth_maps_only_the_fullwidth_block():
    assert lang.halfwidth("（１２＋３）×４＝６０：ａ　b") == "(12+3)×4=60:a b"
    # NFKC would fold these into digits; they must stay as they are (a different value).
    for unsafe in ("2²", "①", "½", "٣", "ﬁ"):
        assert lang.halfwidth(unsafe) == unsafe


@pytest.mark.parametrize("text,value", [("3", 3), ("３", 3), ("三", 3), ("十", 10), ("十二", 12), ("二十", 20),
                                        ("两", 2), ("九十九", 99), ("", None), ("三三", None), ("x", None)])
def test_cn_number(text, value):
    assert lang.cn_number(text) == value


# ---------------------------------------------------------------------------- K&K


def _answer(names, knights, knight="骑士", knave="骗子"):
    return "\n".join(f"({i}) {n}是{knight if k else knave}" for i, (n, k) in enumerate(zip(names, knights), 1))


def test_chinese_names_cannot_hide_each_other():
    assert len(set(kk_zh.NAMES)) == len(kk_zh.NAMES) >= 8
    for a in kk_zh.NAMES:
        assert lang.has_cjk(a) and not any(a != b and a in b for b in kk_zh.NAMES)
        assert not set(a) & set("是为為不非骑骗騎騙")


@pytest.mark.parametrize("script", zh.SCRIPTS)
@pytest.mark.parametrize("people", [2, 3, 5, 7])
def test_kk_zh_generator_unique_and_self_consistent(script, people):
    rows = kk.generate(6, seed=11, num_people=people, language="zh", script=script)
    english = kk.generate(6, seed=11, num_people=people)
    knight, knave = zh.ROLES[script]
    for row, en in zip(rows, english):
        gt = row["reward_model"]["ground_truth"]
        info = row["extra_info"]
        # the same puzzle as the English generator's, told in Chinese
        assert gt["statements"] == en["reward_model"]["ground_truth"]["statements"]
        assert info["knights"] == en["extra_info"]["knights"] and info["names_en"] == en["extra_info"]["names"]
        sols = kk.solve(gt["statements"])
        assert sols == [tuple(info["knights"])]
        assert info["language"] == "zh" and info["script"] == script
        quiz = info["question"]
        assert all(n in quiz for n in info["names"]) and knight in quiz and knave in quiz
        for stmt in kk.parse_statements(gt["statements"]):
            assert kk_zh.say(stmt, info["names"], script) in quiz
        assert row["prompt"][0]["content"].endswith("<think>") and quiz in row["prompt"][0]["content"]
        # the verifier agrees with the generator's own solution
        v = kk.verify(gt["solution_text_format"], json.dumps(gt, ensure_ascii=False))
        assert v.correct and v.details["right"] == people
        assert kk.verify(_answer(info["names"], info["knights"], knight, knave), gt).correct
    assert rows == kk.generate(6, seed=11, num_people=people, language="zh", script=script)


def test_kk_zh_rejects_unknown_language_and_script():
    with pytest.raises(ValueError):
        kk.generate(1, language="fr")
    with pytest.raises(ValueError):
        kk.generate(1, language="zh", script="pinyin")


@pytest.fixture(scope="module")
def zh_rows():
    return kk.generate(10, seed=3, num_people=4, language="zh")


@pytest.mark.parametrize(
    "render",
    [
        lambda n, k: "，".join(f"{n_}是{'骑士' if k_ else '骗子'}" for n_, k_ in zip(n, k)),
        lambda n, k: "\n".join(f"{n_}是一名{'騎士' if k_ else '騙子'}。" for n_, k_ in zip(n, k)),
        lambda n, k: "\n".join(f"| {n_} | {'骑士' if k_ else '骗子'} |" for n_, k_ in zip(n, k)),
        lambda n, k: "\n".join(f"**{n_}**：{'骑士' if k_ else '骗子'}" for n_, k_ in zip(n, k)),
        lambda n, k: "；".join(f"{n_}{'不是骗子' if k_ else '不是骑士'}" for n_, k_ in zip(n, k)),
        lambda n, k: "；".join(f"{n_}{'应该是骑士' if k_ else '并非骑士'}" for n_, k_ in zip(n, k)),
        lambda n, k: "\n".join(f"{n_} is a {'knight' if k_ else 'knave'}" for n_, k_ in zip(n, k)),
        lambda n, k: "".join(f"【{n_}】是{'骑士' if k_ else '骗子'}；" for n_, k_ in zip(n, k)),
        lambda n, k: fullwidth("\n".join(f"({i}) {n_}: {'骑士' if k_ else '骗子'}" for i, (n_, k_) in enumerate(zip(n, k), 1))),
    ],
    ids=["comma", "traditional", "table", "markdown", "negated", "adverb", "english-roles", "brackets", "fullwidth"],
)
def test_kk_zh_answer_forms_score_one(zh_rows, render):
    for row in zh_rows:
        info, gt = row["extra_info"], row["reward_model"]["ground_truth"]
        v = kk.verify(render(info["names"], info["knights"]), gt)
        assert v.correct and v.fraction == 1.0, v.details


def test_kk_zh_perturbed_answers_score_below_one(zh_rows):
    rng = random.Random(0)
    for row in zh_rows:
        info, gt = row["extra_info"], row["reward_model"]["ground_truth"]
        names, knights = info["names"], list(info["knights"])
        i = rng.randrange(len(names))
        flipped = knights[:i] + [not knights[i]] + knights[i + 1:]
        v = kk.verify(_answer(names, flipped), gt)
        assert not v.correct and v.fraction == pytest.approx((len(names) - 1) / len(names))
        # someone left out, or hedged with both roles
        assert not kk.verify(_answer(names[1:], knights[1:]), gt).correct
        hedge = _answer(names, knights) + f"\n{names[0]}是{'骗子' if knights[0] else '骑士'}"
        v = kk.verify(hedge, gt)
        assert not v.correct and v.details["parsed"][names[0]] == "conflict"
        assert kk.verify("", gt).fraction == 0.0


def test_kk_english_gold_accepts_chinese_role_words():
    gt = {"solution_text_format": "(1) Emma is a knight\n(2) Liam is a knave"}
    assert kk.verify("Emma是骑士，Liam是骗子。", gt).correct
    assert not kk.verify("Emma是骗子，Liam是骗子。", gt).correct
    # a longer English name that merely starts with a gold name claims nothing for it
    assert kk.verify("Emmanuel是骗子，Emma是骑士，Liam是骗子", gt).correct


def test_released_kk_rows_told_in_chinese(shared_data):
    rows = kk.load_kk(str(shared_data / "dcs/kk/test.parquet"))[::40]
    for row in rows:
        zrow = kk_zh.to_chinese(row, "traditional")
        info, gt = zrow["extra_info"], zrow["reward_model"]["ground_truth"]
        assert gt["statements"] == row["reward_model"]["ground_truth"]["statements"]
        assert kk.solve(gt["statements"]) == [tuple(row["extra_info"]["knights"])]
        assert "騎士" in gt["solution_text_format"] or "騙子" in gt["solution_text_format"]
        assert kk.verify(gt["solution_text_format"], gt).correct
        assert not kk.verify(_answer(info["names"], [not k for k in info["knights"]]), gt).correct
        assert zrow == kk_zh.to_chinese(row, "traditional")  # the same names every time


# ---------------------------------------------------------------------------- countdown


@pytest.mark.parametrize("script", zh.SCRIPTS)
def test_countdown_zh_generator_matches_english_and_verifies(script):
    rows = cd.generate(20, seed=5, num_count=[3, 4], language="zh", script=script)
    english = cd.generate(20, seed=5, num_count=[3, 4])
    for row, en in zip(rows, english):
        gt = row["reward_model"]["ground_truth"]
        assert gt == en["reward_model"]["ground_truth"]
        q = row["extra_info"]["question"]
        assert "、".join(map(str, gt["numbers"])) in q and str(gt["target"]) in q and "等" in q
        sol = row["extra_info"]["solution"]
        assert cd.verify(sol, gt).correct
        assert cd.verify(fullwidth(sol) + "＝" + fullwidth(str(gt["target"])) + "。", gt).correct
        assert cd.verify(f"{sol} 等于 {gt['target']}", gt).correct
        # perturbed: a wrong target stated, a number changed
        assert not cd.verify(f"{sol} 等于 {gt['target'] + 1}", gt).correct
        wrong = sol.replace(str(gt["numbers"][0]), str(gt["numbers"][0] + 1000), 1)
        assert not cd.verify(fullwidth(wrong), gt).correct


def test_countdown_keeps_nfkc_unsafe_forms_out():
    gt = {"numbers": [2, 2, 1], "target": 5}
    assert cd.verify("2 * 2 + 1", gt).correct
    for text in ("2² + 1", "①+2*2", "٢ * ٢ + ١", "2 * 2 + 1。。", "2 * 2 + 1 等于 4"):
        v = cd.verify(text, gt)
        assert not v.correct and v.details["reason"]


def test_released_countdown_rows_asked_in_chinese(shared_data):
    rows = cd.load_countdown(str(shared_data / "dcs/countdown/test.parquet"))[:50]
    for row in rows:
        zrow = countdown_zh.to_chinese(row)
        assert zrow["reward_model"]["ground_truth"] == row["reward_model"]["ground_truth"]
        assert zrow["extra_info"]["language"] == "zh" and "用数字" in zrow["extra_info"]["question"]


# ---------------------------------------------------------------------------- zebra / LPB


@pytest.fixture(scope="module")
def zebra_rows():
    return lpb.generate(6, seed=2, houses=4, categories=3, language="zh")


def test_lpb_zh_generator_unique_and_self_consistent(zebra_rows):
    english = lpb.generate(6, seed=2, houses=4, categories=3)
    for row, en in zip(zebra_rows, english):
        info = row["extra_info"]
        assert info["clues"] == en["extra_info"]["clues"]
        cats = info["categories"]
        values = {c: v for c, v in zip(cats, info["values"])}
        solver = lpb.GridSolver(values, 4)
        assert solver.count(json.loads(info["clues"])) == 1
        gold = json.loads(row["reward_model"]["ground_truth"])
        assert set(gold) == {"1号房", "2号房", "3号房", "4号房"}
        assert all(lang.has_cjk(k) for cells in gold.values() for k in cells)
        # the Chinese gold is the English gold translated cell by cell
        en_gold = json.loads(en["reward_model"]["ground_truth"])
        for h in range(1, 5):
            for c in cats:
                name, _i, _p, table = lpb_zh.CATEGORIES[c]
                assert gold[f"{h}号房"][name] == table[en_gold[f"House {h}"][c]]
        for clue in json.loads(info["clues"]):
            assert lpb_zh.clue_text(clue) in info["question"]
        assert lpb.verify(json.dumps({"推理": "…", "答案": gold}, ensure_ascii=False), row["reward_model"]["ground_truth"]).correct


def test_chinese_value_tables_are_one_to_one():
    for key, (name, _intro, _phrase, table) in lpb_zh.CATEGORIES.items():
        assert set(table) == set(lpb._BY_KEY[key][3])
        assert len(set(table.values())) == len(table)
        assert lpb.norm_category(name) == lpb.norm_category(key)


def _variants(gold: dict) -> list[str]:
    houses = list(gold.items())
    en_names = {lpb_zh.CATEGORIES[c][0]: c for c in lpb_zh.CATEGORIES}
    return [
        json.dumps({"solution": gold}, ensure_ascii=False),
        fullwidth(json.dumps({"答案": gold}, ensure_ascii=False)),
        json.dumps({"解答": {f"第{'一二三四'[i]}间房子": cells for i, (_h, cells) in enumerate(houses)}}, ensure_ascii=False),
        json.dumps({"答案": {f"房子{i + 1}": {en_names[c]: v for c, v in cells.items()} for i, (_h, cells) in enumerate(houses)}},
                   ensure_ascii=False),
        json.dumps({"答案": {f"{i + 1}號房": cells for i, (_h, cells) in enumerate(houses)}}, ensure_ascii=False),
    ]


def test_lpb_zh_answer_forms_score_one_and_perturbed_less(zebra_rows):
    for row in zebra_rows:
        gt = row["reward_model"]["ground_truth"]
        gold = json.loads(gt)
        for text in _variants(gold):
            v = lpb.verify(f"推理过程……\n```json\n{text}\n```", gt)
            assert v.correct, (text, v.details)
        # swap one category's values between houses 1 and 2: exactly two cells go wrong
        bad = json.loads(gt)
        cat = next(iter(bad["1号房"]))
        bad["1号房"][cat], bad["2号房"][cat] = bad["2号房"][cat], bad["1号房"][cat]
        v = lpb.verify(json.dumps({"答案": bad}, ensure_ascii=False), gt)
        assert not v.correct and v.details["right"] == v.details["total"] - 2


@pytest.mark.parametrize("key,index", [("1号房", 1), ("第三间房子", 3), ("房子2", 2), ("１號房", 1), ("第2栋", 2),
                                       ("十二号房", 12), ("House 4", 4), ("房", None), ("第间", None), ("邻居", None)])
def test_house_index_chinese(key, index):
    assert lpb.house_index(key) == index


# ---------------------------------------------------------------------------- math


@pytest.mark.parametrize("answer,ok", [("\\boxed{１２}", True), ("答案是 １２。", True), ("最终答案：12", True),
                                       ("所以答案为 $12$", True), ("答案是 13", False), ("\\boxed{１３}", False),
                                       ("答案", False)])
def test_math_reads_chinese_answers(answer, ok):
    assert mth.verify(answer, "12").correct is ok


# ---------------------------------------------------------------------------- fuzz

_ZH_BITS = st.sampled_from(list("王芳李娜是不非为骑士骗子騎騙：:，、|（）() \n*一名个") + ["骑士", "骗子", "不是", "王芳", "李娜"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.lists(_ZH_BITS, max_size=200).map("".join),
                 st.builds(lambda k: "王芳" * k + "是骑士", st.integers(0, 3000)),
                 st.builds(lambda k: "王芳" + "：" * k + "不是", st.integers(0, 3000))))
def test_fuzz_kk_zh_never_raises(answer):
    gt = {"solution_text_format": "(1) 王芳是骑士\n(2) 李娜是骗子"}
    v = kk.verify(answer, gt)
    assert isinstance(v, Verdict) and 0.0 <= v.fraction <= 1.0 and "reason" in v.details
    parsed = v.details["parsed"]
    assert set(parsed) <= {"王芳", "李娜"}


_CD_BITS = st.sampled_from(list("0123456789+-*/()=×÷ ") + ["１", "２", "（", "）", "＋", "＝", "等于", "。", "²", "①"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_CD_BITS, max_size=60).map("".join))
def test_fuzz_countdown_fullwidth_agrees_with_ascii(text):
    gt = {"numbers": [1, 2, 3], "target": 6}
    v = cd.verify(text, gt)
    assert isinstance(v, Verdict) and v.fraction in (0.0, 1.0)
    # a full-width answer scores exactly what its ASCII reading scores
    assert cd.verify(lang.halfwidth(text), gt).correct == v.correct


_LPB_BITS = st.sampled_from(list('{}[]":,，：号房第一二三 \n') + ["答案", "姓名", "爱丽丝", "1号房", "｛", "＂", "solution"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), st.lists(_LPB_BITS, max_size=120).map("".join)))
def test_fuzz_lpb_zh_never_raises(text):
    gt = json.dumps({"1号房": {"姓名": "爱丽丝"}, "2号房": {"姓名": "鲍勃"}}, ensure_ascii=False)
    v = lpb.verify(text, gt)
    assert isinstance(v, Verdict) and 0.0 <= v.fraction <= 1.0 and "reason" in v.details


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("答案是为：:最终所以12３４$\\boxed{} 。")), max_size=60))
def test_fuzz_math_extract_never_raises(text):
    assert isinstance(mth.extract(text), str)


# ---------------------------------------------------------------------------- config and prepare


def _cfg(*overrides: str):
    from mdrl.cli import compose

    return compose("train", ["run_dir=/unused", *overrides])


def test_language_group_defaults_to_english():
    from mdrl.jobs import language

    cfg = _cfg()
    assert cfg.language.name == "en"
    assert language.for_split(cfg, "train") is None and language.for_split(cfg, "val") is None
    zh_cfg = _cfg("language=zh")
    assert language.for_split(zh_cfg, "train")["name"] == "zh" and language.for_split(zh_cfg, "val") is None
    both = _cfg("language=zh", "language.apply_to=[train,val]")
    assert language.for_split(both, "val")["script"] == "simplified"
    with pytest.raises(UserError, match="script"):
        language.for_split(_cfg("language=zh", "language.script=pinyin"), "train")
    with pytest.raises(UserError, match="apply_to"):
        language.for_split(_cfg("language=zh", "language.apply_to=[test]"), "train")


@pytest.mark.parametrize("script", zh.SCRIPTS)
def test_chinese_r1_template_matches_the_rows_own_prompt(script):
    """The template prepare applies and the prompt a Chinese row carries are the same text."""
    from omegaconf import OmegaConf

    from mdrl.jobs import language
    from mdrl.jobs.templates import render

    cfg = _cfg("language=zh", f"language.script={script}")
    template = OmegaConf.to_container(cfg.template, resolve=True)
    zh_template = language.localize_template(template, language.for_split(cfg, "train"))
    rows = kk.generate(2, seed=0, language="zh", script=script) + cd.generate(2, seed=0, language="zh", script=script)
    for row, domain in zip(rows, ["kk", "kk", "countdown", "countdown"]):
        out = render(zh_template, domain, row["extra_info"]["question"])
        assert out["raw_prompt"] == row["prompt"][0]["content"]
    chat = language.localize_template(OmegaConf.to_container(_cfg("template=qwen_chat").template, resolve=True),
                                      {"name": "zh", "script": script})
    msgs = render(chat, "lpb", "题目")["prompt"]
    assert msgs[0]["role"] == "system" and get_domain("lpb").words(f"zh-{script}").task in msgs[0]["content"]
    assert msgs[1]["content"] == "题目"
    # the English template is untouched without a language
    assert language.localize_template(template, None) == template


def test_prepare_writes_chinese_train_and_english_val(tmp_path):
    import pandas as pd

    from mdrl.jobs.prepare import prepare

    prepare(_cfg("language=zh", "mixture.val_rows=4", "catalog.sources.countdown3.train.generate.n=16"), tmp_path)
    train = pd.read_parquet(tmp_path / "train.parquet")
    val = pd.read_parquet(tmp_path / "val.parquet")
    assert len(train) == 16 and len(val) == 4
    for prompt, info, rm in zip(train["prompt"], train["extra_info"], train["reward_model"]):
        text = prompt[0]["content"]
        assert text.startswith("这是用户与助手之间的对话") and "用数字" in text and info["language"] == "zh"
        assert cd.verify(info["solution"], rm["ground_truth"]).correct
    assert all(p[0]["content"].startswith("A conversation") for p in val["prompt"])


def test_prepare_math_needs_a_local_chinese_file(tmp_path, capsys):
    import pandas as pd

    from mdrl.jobs.prepare import prepare

    with pytest.raises(UserError, match="language.local_files.math"):
        prepare(_cfg("mixture=dsr", "language=zh", "mixture.val=[]"), tmp_path / "no")
    data = tmp_path / "zh_math.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in
                              [{"problem": "计算 1+1。", "answer": "2"}, {"problem": "求 3×4。", "answer": "12"}]))
    prepare(_cfg("mixture=dsr", "language=zh", "mixture.val=[]", f"language.local_files.math={data}"), tmp_path / "yes")
    assert "zh_math.jsonl" in capsys.readouterr().err
    train = pd.read_parquet(tmp_path / "yes" / "train.parquet")
    assert sorted(i["question"] for i in train["extra_info"]) == ["求 3×4。", "计算 1+1。"]
    assert all("数学推理题" in p[0]["content"] for p in train["prompt"])


def test_prepare_released_lpb_in_chinese_is_refused_in_one_sentence(tmp_path):
    from mdrl.jobs.prepare import prepare

    with pytest.raises(UserError, match="generated source") as err:
        prepare(_cfg("mixture=lpb", "language=zh"), tmp_path)
    assert "\n" not in str(err.value)
