"""Reading grids: the gold and a model's answer JSON as normalised {house: {category: value}} grids.

House keys are read loosely ("House 1", "house1", "1", "1号房", "第三间房子"), category keys
without case, spaces or punctuation (Chinese names as their English category), values
without case and surrounding space or quotes. The answer is the last JSON object in the
text that parses and holds a grid (fences, trailing commas and Python quoting tolerated).
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Iterable, Mapping, Sequence

from . import lang
from .row_io import decode_json

MAX_ANSWER_CHARS = 200_000  # a 6x6 grid with reasoning is a few KB; beyond this is not an answer
MAX_CANDIDATES = 20  # JSON objects tried from the end before giving up
MAX_LITERAL_CHARS = 20_000  # ast.literal_eval only on small spans (it builds a full syntax tree)

_HOUSE_KEY = re.compile(r"^\s*(?:house)?\s*[#_\-:]?\s*(\d{1,4})\s*$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[\W_]+")


# Chinese house keys (language=zh): "1号房", "房子1", "第三间房子", "１號房", "第2栋".
_HOUSE_KEY_ZH = re.compile(
    r"^\s*(?:house|房子|房屋|房间|房間|房)?\s*[#_\-:：]?\s*第?\s*(\d{1,4}|[一二两兩三四五六七八九十]{1,3})\s*"
    r"(?:号|號|间|間|栋|棟|座)?\s*(?:房子|房屋|房间|房間|房)?\s*$",
    re.IGNORECASE,
)
# Chinese category words, read as the English category they name (so "姓名" and "Name" agree).
ZH_CATEGORIES = {
    "name": ("姓名", "名字", "名称", "名稱"),
    "nationality": ("国籍", "國籍"),
    "color": ("颜色", "顏色", "喜欢的颜色", "喜歡的顏色"),
    "pet": ("宠物", "寵物"),
    "drink": ("饮品", "饮料", "飲品", "飲料"),
    "food": ("食物", "美食"),
    "hobby": ("爱好", "愛好", "嗜好"),
    "sport": ("运动", "運動"),
    "car": ("汽车", "汽車", "车", "車"),
    "flower": ("花", "花卉"),
    "music": ("音乐", "音樂", "音乐类型", "音樂類型"),
    "bookgenre": ("书籍类型", "書籍類型", "书籍", "書籍", "图书类型", "圖書類型"),
    "occupation": ("职业", "職業"),
    "house": ("房子", "房屋", "房号", "房號", "房间", "房間"),
}
_ZH_CATEGORY = {zh: en for en, words in ZH_CATEGORIES.items() for zh in words}
SOLUTION_KEYS = ("solution", "答案", "解答", "解")  # the answer object's grid field, in either language


def house_index(key: Any) -> int | None:
    """1-based house number of a key like "House 1", "house1", "1", 1, "1号房" or "第三间房子"; None otherwise."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    m = _HOUSE_KEY.match(str(key))
    if m:
        return int(m.group(1))
    text = lang.halfwidth(str(key))
    if text == str(key) and not lang.has_cjk(text):
        return None
    m = _HOUSE_KEY.match(text) or _HOUSE_KEY_ZH.match(text)
    return lang.cn_number(m.group(1)) if m else None


def norm_category(key: Any) -> str:
    """Category keys compare without case, spaces or punctuation; Chinese ones as their English name."""
    norm = _NON_ALNUM.sub("", str(key)).casefold()
    return _ZH_CATEGORY.get(norm, norm)


def norm_value(value: Any) -> str:
    """Cell values compare without case, surrounding quotes/backticks or repeated spaces."""
    if isinstance(value, bool):
        value = str(value).lower()
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    text = lang.halfwidth(str(value)).strip().strip("`'\"").strip()
    return _SPACES.sub(" ", text).casefold()


Grid = dict[int, dict[str, str]]  # house number -> {normalised category: normalised value}


def _grid(obj: Any, strict: bool) -> Grid:
    """A normalised grid from a {house: {cat: val}} mapping or a list of row mappings."""
    grid: Grid = {}
    if isinstance(obj, Mapping):
        items: Iterable = obj.items()
    elif isinstance(obj, list):
        items = []
        for i, row in enumerate(obj, 1):
            key = i
            if isinstance(row, Mapping):
                for k, v in row.items():
                    if norm_category(k) == "house" and house_index(v) is not None:
                        key = house_index(v)
            items.append((key, row))
    else:
        raise ValueError(f"a grid is a mapping or a list, not a {type(obj).__name__}")
    for key, row in items:
        h = house_index(key)
        if h is None or not isinstance(row, Mapping):
            if strict:
                raise ValueError(f"bad house entry {str(key)[:40]!r}")
            continue
        cells = {norm_category(k): norm_value(v) for k, v in row.items() if norm_category(k) != "house"}
        grid.setdefault(h, cells)
    return grid


def parse_ground_truth(gt: Any) -> Grid:
    """The gold grid from any accepted ground-truth shape; raises ValueError."""
    gt = decode_json(gt)
    if isinstance(gt, Mapping) and "header" in gt and "rows" in gt:
        gt = solution_from_table(gt["header"], gt["rows"])
    grid = _grid(gt, strict=True)
    if not grid or not any(grid.values()):
        raise ValueError("ground truth has no cells")
    return grid


def solution_from_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, dict[str, str]]:
    """ZebraLogicBench ``solution{header, rows}`` as ``{"House i": {category: value}}``."""
    header = [str(h) for h in header]
    if not header or header[0].strip().lower() != "house":
        raise ValueError(f"the first header column should be 'House', got {header[:1]}")
    out: dict[str, dict[str, str]] = {}
    for i, row in enumerate(rows, 1):
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"row {i} has {len(row)} cells for {len(header)} columns")
        h = house_index(row[0]) or i
        out[f"House {h}"] = {c: str(v) for c, v in zip(header[1:], row[1:])}
    return out


# ---------------------------------------------------------------------------- answer JSON

_TRAILING_COMMA = re.compile(r",\s*([}\]])")


def _object_spans(text: str, strings: bool) -> list[tuple[int, int]]:
    """Top-level ``{...}`` spans; with ``strings`` braces inside JSON strings are skipped.

    Quotes are only tracked inside an object, so prose quotes around it cannot derail the
    scan; the plain scan (like the released reward's) is the fallback for a stray quote.
    """
    spans: list[tuple[int, int]] = []
    depth, start, in_str, esc = 0, 0, False, False
    for i, ch in enumerate(text):
        if depth and strings:
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
                continue
            if ch == '"':
                in_str = True
                continue
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, i + 1))
    return spans


def _load(span: str) -> Any:
    """The value of one candidate span, tolerating trailing commas and Python quoting."""
    for attempt in (span, _TRAILING_COMMA.sub(r"\1", span)):
        try:
            return json.loads(attempt)
        except (ValueError, RecursionError):
            pass
    if len(span) <= MAX_LITERAL_CHARS:
        try:
            return ast.literal_eval(_TRAILING_COMMA.sub(r"\1", span))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    raise ValueError("not valid JSON")


def _looks_like_answer(obj: dict) -> bool:
    """Has a "solution" field or a house-like key (so a trailing {"confidence": ...} is skipped)."""
    return any(isinstance(k, str) and k.strip().lower() in SOLUTION_KEYS or house_index(k) is not None for k in obj)


def last_json_object(text: str) -> tuple[dict | None, str]:
    """(the last JSON object in ``text`` that parses, "") or (None, why not).

    Objects that hold no solution grid are passed over in favour of an earlier one that
    does; when none does, the last object that parses is returned.
    """
    spans = _object_spans(text, strings=True)
    plain = _object_spans(text, strings=False)
    candidates = list(dict.fromkeys(sorted(spans + plain, key=lambda s: (s[1], s[0]), reverse=True)))
    if not candidates:
        return None, "no JSON object found"
    fallback = None
    for a, b in candidates[:MAX_CANDIDATES]:
        try:
            obj = _load(text[a:b])
        except ValueError:
            continue
        if isinstance(obj, dict):
            if _looks_like_answer(obj):
                return obj, ""
            fallback = obj if fallback is None else fallback
    if fallback is not None:
        return fallback, ""
    return None, "malformed JSON: no object in the answer parses"


def _solution_of(obj: dict) -> Any:
    """The grid inside a parsed answer: its "solution" field (maybe a JSON string) or itself."""
    for k, v in obj.items():
        if isinstance(k, str) and k.strip().lower() in SOLUTION_KEYS:
            if isinstance(v, str):
                try:
                    return _load(v.strip()) if len(v) <= MAX_ANSWER_CHARS else v
                except ValueError:
                    return v
            return v
    return obj

