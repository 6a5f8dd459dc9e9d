"""Countdown in Chinese: the same puzzles as :mod:`mdrl.domains.countdown`, asked in Chinese.

A countdown puzzle is its numbers and target; :func:`to_chinese` asks it in Chinese (numbers
listed with the Chinese enumeration comma), for generated rows and released rows alike.
The answer is still an arithmetic expression; the verifier reads full-width digits and
operators (``（１＋２）×３``) and a trailing ``。`` or ``等于 N`` as well.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from . import countdown, zh
from .base import Row
from .row_io import verl_row

QUESTION = {
    "simplified": (
        "用数字 {numbers}，列出一个结果等于 {target} 的等式。你可以使用基本算术运算（+、-、*、/），"
        "每个数字只能使用一次。请在 <think> </think> 标签中展示你的推理过程，"
        "并在 <answer> </answer> 标签中给出最终答案，例如 <answer> (1 + 2) / 3 </answer>。"
    ),
    "traditional": (
        "用數字 {numbers}，列出一個結果等於 {target} 的等式。你可以使用基本算術運算（+、-、*、/），"
        "每個數字只能使用一次。請在 <think> </think> 標籤中展示你的推理過程，"
        "並在 <answer> </answer> 標籤中給出最終答案，例如 <answer> (1 + 2) / 3 </answer>。"
    ),
}


def question_text(numbers: Sequence[int], target: int, script: str = "simplified") -> str:
    """The Chinese user question for one puzzle."""
    zh.check_script(script)
    return QUESTION[script].format(numbers="、".join(str(int(n)) for n in numbers), target=int(target))


def to_chinese(row: Row, script: str = "simplified") -> Row:
    """The Chinese version of a countdown row (its ground truth holds numbers and target)."""
    numbers, target = countdown._ground_truth(row["reward_model"]["ground_truth"])
    info: Mapping = row.get("extra_info") or {}
    question = question_text(numbers, target, script)
    extra = {k: v for k, v in info.items() if k not in ("question", "split", "index")}
    return verl_row(
        row.get("data_source") or "countdown",
        question,
        {"numbers": numbers, "target": target},
        row.get("ability") or countdown.ABILITY,
        str(info.get("split", "train")),
        int(info.get("index", 0)),
        prompt=zh.r1_prompt("countdown", question, script),
        **extra,
        language="zh",
        script=script,
    )


def generate(n: int, seed: int = 0, split: str = "train", script: str = "simplified", **kwargs: Any) -> list[Row]:
    """``n`` Chinese countdown puzzles: :func:`countdown.generate`'s puzzles (same seed), asked in Chinese."""
    zh.check_script(script)
    return [to_chinese(r, script) for r in countdown.generate(n, seed=seed, split=split, **kwargs)]
