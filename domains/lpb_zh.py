"""Zebra (logic grid) puzzles in Chinese: :mod:`mdrl.domains.lpb`'s generated puzzles, told in Chinese.

A generated puzzle keeps its attribute values and clues (``extra_info.values``/``clues``), so
:func:`to_chinese` translates values, clue sentences, the JSON skeleton and the gold grid
(keys ``"1号房"`` and Chinese category names, which :func:`lpb.house_index` and
:func:`lpb.norm_category` read). The released LPB files are English prose without that
structure; they cannot be turned into Chinese here (``language=zh`` asks for a local file).
Simplified script only.
"""

from __future__ import annotations

import json
from typing import Mapping, Sequence

from . import lpb, zh
from .base import Row
from .row_io import decode_json, verl_row
from .lpb_generator import clue_text as _clue_text

# English category key -> (Chinese name, intro line, noun phrase for "{v}", {English value: Chinese value}).
CATEGORIES: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "Name": ("姓名", "每个人都有一个独一无二的名字", "{v}", dict(zip(
        ("Alice", "Bob", "Carol", "Eric", "Peter", "Arnold", "Zoe", "Tim"),
        ("爱丽丝", "鲍勃", "卡罗尔", "埃里克", "彼得", "阿诺德", "佐伊", "蒂姆")))),
    "Nationality": ("国籍", "每个人的国籍各不相同", "那位{v}", dict(zip(
        ("Brit", "Dane", "German", "Swede", "Norwegian", "Spaniard", "Italian", "Canadian"),
        ("英国人", "丹麦人", "德国人", "瑞典人", "挪威人", "西班牙人", "意大利人", "加拿大人")))),
    "Color": ("颜色", "每个人最喜欢的颜色各不相同", "喜欢{v}的人", dict(zip(
        ("red", "green", "blue", "yellow", "white", "purple", "orange", "black"),
        ("红色", "绿色", "蓝色", "黄色", "白色", "紫色", "橙色", "黑色")))),
    "Pet": ("宠物", "每个人养的宠物各不相同", "养{v}的人", dict(zip(
        ("cat", "dog", "bird", "fish", "horse", "rabbit", "hamster", "turtle"),
        ("猫", "狗", "鸟", "鱼", "马", "兔子", "仓鼠", "乌龟")))),
    "Drink": ("饮品", "每个人最喜欢的饮品各不相同", "喝{v}的人", dict(zip(
        ("tea", "coffee", "milk", "water", "juice", "soda", "cocoa", "lemonade"),
        ("茶", "咖啡", "牛奶", "白开水", "果汁", "汽水", "可可", "柠檬水")))),
    "Food": ("食物", "每个人最喜欢的食物各不相同", "爱吃{v}的人", dict(zip(
        ("pizza", "stew", "sushi", "tacos", "curry", "salad", "pasta", "soup"),
        ("披萨", "炖菜", "寿司", "墨西哥卷饼", "咖喱", "沙拉", "意大利面", "汤")))),
    "Hobby": ("爱好", "每个人的爱好各不相同", "爱好{v}的人", dict(zip(
        ("painting", "gardening", "chess", "knitting", "cooking", "hiking", "photography", "fishing"),
        ("绘画", "园艺", "下棋", "编织", "烹饪", "徒步", "摄影", "钓鱼")))),
    "Sport": ("运动", "每个人从事的运动各不相同", "参加{v}运动的人", dict(zip(
        ("soccer", "tennis", "basketball", "golf", "baseball", "volleyball", "cricket", "hockey"),
        ("足球", "网球", "篮球", "高尔夫", "棒球", "排球", "板球", "曲棍球")))),
    "Car": ("汽车", "每个人开的汽车品牌各不相同", "开{v}的人", dict(zip(
        ("Toyota", "Ford", "Honda", "BMW", "Tesla", "Audi", "Kia", "Volvo"),
        ("丰田", "福特", "本田", "宝马", "特斯拉", "奥迪", "起亚", "沃尔沃")))),
    "Flower": ("花", "每个人种的花各不相同", "种{v}的人", dict(zip(
        ("roses", "tulips", "lilies", "daisies", "orchids", "carnations", "sunflowers", "irises"),
        ("玫瑰", "郁金香", "百合", "雏菊", "兰花", "康乃馨", "向日葵", "鸢尾")))),
    "Music": ("音乐", "每个人最喜欢的音乐类型各不相同", "爱听{v}的人", dict(zip(
        ("jazz", "rock", "pop", "classical", "hip hop", "country", "blues", "reggae"),
        ("爵士乐", "摇滚乐", "流行乐", "古典乐", "嘻哈", "乡村音乐", "蓝调", "雷鬼")))),
    "BookGenre": ("书籍类型", "每个人最喜欢的书籍类型各不相同", "爱读{v}类书籍的人", dict(zip(
        ("mystery", "fantasy", "romance", "biography", "science fiction", "history", "poetry", "horror"),
        ("悬疑", "奇幻", "爱情", "传记", "科幻", "历史", "诗歌", "恐怖")))),
    "Occupation": ("职业", "每个人的职业各不相同", "那位{v}", dict(zip(
        ("doctor", "teacher", "engineer", "artist", "lawyer", "nurse", "chef", "pilot"),
        ("医生", "教师", "工程师", "艺术家", "律师", "护士", "厨师", "飞行员")))),
}

PUZZLE_HEADER = "# 待解谜题\n\n"
INSTRUCTION = "# 说明\n\n现在请解出上面的谜题。请按以下 JSON 格式给出你的推理过程和解答：\n\n"


def house_key(h: int) -> str:
    """The gold's key for 1-based house ``h``."""
    return f"{h}号房"


def _phrase(attr: Sequence[str]) -> str:
    name, _intro, phrase, values = CATEGORIES[attr[0]]
    return phrase.format(v=values[attr[1]])


# lpb_generator.CLUE_SENTENCES in Chinese ({house} is the house number).
CLUE_SENTENCES = {
    "at": "{a}住在第{house}间房子里。",
    "not_at": "{a}不住在第{house}间房子里。",
    "same": "{a}就是{b}。",
    "not_same": "{a}不是{b}。",
    "left_of": "{a}住在{b}左边的某间房子里。",
    "right_of": "{a}住在{b}右边的某间房子里。",
    "directly_left": "{a}住在{b}紧邻的左边。",
    "directly_right": "{a}住在{b}紧邻的右边。",
    "next_to": "{a}和{b}住在相邻的房子里。",
    "one_between": "{a}和{b}之间隔着一间房子。",
}


def clue_text(clue: Sequence) -> str:
    """One clue (lpb's [kind, [category, value], ...] form) in Chinese."""
    return _clue_text(clue, CLUE_SENTENCES, _phrase, str)


def puzzle_text(values: Mapping[str, Sequence[str]], clues: Sequence[Sequence], houses: int) -> str:
    """The puzzle in Chinese, laid out like the English one (intro, characteristics, numbered clues)."""
    lines = [
        f"有{houses}间房子，从街对面看，从左到右依次编号为 1 到 {houses}。每间房子住着一个不同的人。"
        "对于下列每种特征，每间房子都有一个独特的属性："
    ]
    for cat, vals in values.items():
        name, intro, _p, table = CATEGORIES[cat]
        lines.append(f" - {intro}：" + "、".join(f"`{table[v]}`" for v in vals))
    lines.append("")
    lines.append("## 线索：")
    lines.extend(f"{i}. {clue_text(c)}" for i, c in enumerate(clues, 1))
    return "\n".join(lines)


def json_template(houses: int, categories: Sequence[str]) -> str:
    """The Chinese answer skeleton (``"___"`` placeholders), keys as the gold's."""
    sol = {house_key(h): {CATEGORIES[c][0]: "___" for c in categories} for h in range(1, houses + 1)}
    return json.dumps({"推理": "___", "答案": sol}, ensure_ascii=False)


def question_text(puzzle: str, houses: int, categories: Sequence[str]) -> str:
    """Puzzle, then the instruction with the JSON skeleton."""
    return f"{PUZZLE_HEADER}{puzzle.strip()}\n\n{INSTRUCTION}{json_template(houses, categories)}"


def to_chinese(row: Row) -> Row:
    """The Chinese version of a generated zebra row (one carrying ``values`` and ``clues``)."""
    info = dict(row.get("extra_info") or {})
    if info.get("clues") is None or info.get("values") is None or info.get("categories") is None:
        raise ValueError("only generated zebra rows (with their values and clues) can be told in Chinese")
    cats = [str(c) for c in decode_json(info["categories"])]
    values = {c: list(v) for c, v in zip(cats, decode_json(info["values"]))}
    clues = decode_json(info["clues"])
    houses = int(info["houses"])
    gold_en = decode_json(row["reward_model"]["ground_truth"])
    gold = {}
    for h in range(1, houses + 1):
        cells = gold_en[f"House {h}"]
        gold[house_key(h)] = {CATEGORIES[c][0]: CATEGORIES[c][3][cells[c]] for c in cats}
    puzzle = puzzle_text(values, clues, houses)
    question = question_text(puzzle, houses, cats)
    extra = {k: v for k, v in info.items() if k not in ("question", "split", "index", "puzzle")}
    return verl_row(
        row.get("data_source") or "zebra",
        question,
        json.dumps(gold, ensure_ascii=False),
        row.get("ability") or lpb.ABILITY,
        str(info.get("split", "train")),
        int(info.get("index", 0)),
        prompt=zh.r1_prompt("lpb", question),
        **extra,
        puzzle=puzzle,
        language="zh",
        script="simplified",
    )


def generate(n: int, seed: int = 0, houses: int = 3, categories: int = 3, split: str = "train") -> list[Row]:
    """``n`` Chinese zebra puzzles: :func:`lpb.generate`'s puzzles (same seed and sizes), told in Chinese."""
    return [to_chinese(r) for r in lpb.generate(n, seed=seed, houses=houses, categories=categories, split=split)]
