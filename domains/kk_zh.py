"""Knights and Knaves in Chinese: the same puzzles as :mod:`mdrl.domains.kk`, phrased in Chinese.

A puzzle is its statement tuples and its unique solution; the language is only how they are
told. So a Chinese puzzle is drawn by the English generator (reasoning-gym's sampler, unique
solution checked by :func:`kk.solve`) and then told with Chinese names, statements and gold
(:func:`to_chinese`); a released English K&K row, which keeps its statements, is turned
into Chinese the same way. The gold reads ``(1) 王芳是骑士`` (or 騎士/騙子 in traditional
script), which :func:`kk.parse_ground_truth` reads like the English layout.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Sequence

from . import kk, zh
from .base import Row
from .row_io import verl_row
from .kk_generator import Phrases

# Two-character names whose characters are the same in simplified and traditional script;
# all of equal length, so none is part of another (the answer parser finds names by text).
NAMES = (
    "王芳 李娜 周杰 朱琳 高翔 何欣 林峰 郭峰 宋佳 白雪 石磊 田甜 江河 金星 潘婷 唐琪 "
    "范冰 姚明 程晨 余光 史可 洪亮 孔明 安琪 方舟 曹敏 杜若 柳青 秋菊"
).split()

# How each script says a statement (kk_generator.Phrases; compound parts in full-width parentheses).
PHRASES = {
    "simplified": Phrases(roles=zh.ROLES["simplified"], is_="{name}是{role}", is_not="{name}不是{role}",
                          not_="并非（{s}）", group="（{s}）", and_="并且", or_="或者",
                          implies="如果{a}，那么{b}", implies_top="如果{a}，那么{b}", iff="{a}当且仅当{b}"),
    "traditional": Phrases(roles=zh.ROLES["traditional"], is_="{name}是{role}", is_not="{name}不是{role}",
                           not_="並非（{s}）", group="（{s}）", and_="並且", or_="或者",
                           implies="如果{a}，那麼{b}", implies_top="如果{a}，那麼{b}", iff="{a}當且僅當{b}"),
}
INTRO = {
    "simplified": "在一座非常特别的岛上，只住着骑士和骗子。骑士总是说真话，骗子总是说谎。你遇到了{n}位岛民：{names}。",
    "traditional": "在一座非常特別的島上，只住著騎士和騙子。騎士總是說真話，騙子總是說謊。你遇到了{n}位島民：{names}。",
}
QUESTION = {"simplified": "那么，谁是骑士，谁是骗子？", "traditional": "那麼，誰是騎士，誰是騙子？"}
AND_LAST = {"simplified": "和", "traditional": "和"}
TEMPLATES = {
    "simplified": (
        "{name}说：“{content}。”",
        "{name}告诉你{content}。",
        "{name}声称：“{content}。”",
        "按照{name}的说法，“{content}。”",
        "“{content}，”{name}说道。",
        "{name}断言：“{content}。”",
        "{name}指出：“{content}。”",
        "{name}表示{content}。",
    ),
    "traditional": (
        "{name}說：「{content}。」",
        "{name}告訴你{content}。",
        "{name}聲稱：「{content}。」",
        "按照{name}的說法，「{content}。」",
        "「{content}，」{name}說道。",
        "{name}斷言：「{content}。」",
        "{name}指出：「{content}。」",
        "{name}表示{content}。",
    ),
}


def say(stmt: Sequence, names: Sequence[str], script: str = "simplified") -> str:
    """Chinese for one statement tuple (compound parts in full-width parentheses)."""
    return kk.say(stmt, names, PHRASES[script])


def quiz_text(statements: Any, names: Sequence[str], rng: random.Random, script: str = "simplified") -> str:
    """The quiz in Chinese, one random sentence template per speaker."""
    stmts = kk.parse_statements(statements)
    n = len(names)
    listing = names[0] if n == 1 else "、".join(names[:-1]) + AND_LAST[script] + names[-1]
    text = INTRO[script].format(n=zh.NUMERALS.get(n, str(n)), names=listing)
    for i, stmt in enumerate(stmts):
        text += rng.choice(TEMPLATES[script]).format(name=names[i], content=say(stmt, names, script))
    return text + QUESTION[script]


def solution_text_format(names: Sequence[str], knights: Sequence[bool], script: str = "simplified") -> str:
    """The Chinese gold layout: ``(1) 王芳是骑士`` lines."""
    knight, knave = zh.ROLES[script]
    return "\n".join(f"({i}) {n}是{knight if k else knave}" for i, (n, k) in enumerate(zip(names, knights), 1))


def to_chinese(row: Row, script: str = "simplified", seed: int = 0) -> Row:
    """The Chinese version of a K&K row that carries its statements and solution.

    Names are drawn from :data:`NAMES` by a hash of the English question and ``seed``, so a
    row always gets the same Chinese names. The English names stay in ``extra_info.names_en``.
    """
    zh.check_script(script)
    info = dict(row.get("extra_info") or {})
    gt = kk.ground_truth_fields(row["reward_model"]["ground_truth"])
    stmts = kk.parse_statements(gt.get("statements") or "")
    gold, _pair = kk.parse_ground_truth(gt)
    names_en = [str(n) for n in (info.get("names") or list(gold))]
    knights = [bool(k) for k in (info.get("knights") if info.get("knights") is not None else list(gold.values()))]
    if not stmts or len(stmts) != len(names_en) or len(knights) != len(names_en):
        raise ValueError("a K&K row needs its statements, names and solution to be told in Chinese")
    if len(names_en) > len(NAMES):
        raise ValueError(f"at most {len(NAMES)} people can be named in Chinese")
    digest = hashlib.sha256(f"{seed}|{info.get('question', '')}".encode()).hexdigest()
    rng = random.Random(digest)
    names = rng.sample(NAMES, len(names_en))
    quiz = quiz_text(stmts, names, rng, script)
    truth = {"solution_text_format": solution_text_format(names, knights, script), "statements": repr(stmts)}
    extra = {k: v for k, v in info.items() if k not in ("question", "split", "index", "names")}
    return verl_row(
        row.get("data_source") or kk.DATA_SOURCE,
        quiz,
        truth,
        row.get("ability") or kk.ABILITY,
        str(info.get("split", "train")),
        int(info.get("index", 0)),
        prompt=zh.r1_prompt("kk", quiz, script),
        **extra,
        names=names,
        names_en=names_en,
        language="zh",
        script=script,
    )


def generate(n: int, seed: int = 0, num_people: int = 3, split: str = "train", script: str = "simplified",
             **kwargs: Any) -> list[Row]:
    """``n`` Chinese K&K puzzles with exactly one solution each, deterministic in ``seed``.

    The puzzles are :func:`kk.generate`'s (same ``seed`` and sizes, same statements and
    solutions), told in Chinese; other keyword arguments go to :func:`kk.generate`.
    """
    zh.check_script(script)
    return [to_chinese(r, script, seed) for r in kk.generate(n, seed=seed, num_people=num_people, split=split, **kwargs)]
