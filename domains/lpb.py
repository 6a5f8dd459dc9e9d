"""Logic grid puzzles (Logic Puzzle Baron, ZebraLogicBench, generated zebra grids).

Ground truth: a JSON string (or the dict itself) ``{"House 1": {"Category": "value", ...}, ...}``
as in the released dcs/zebra files; ZebraLogicBench's ``{"header": [...], "rows": [[...]]}``
is accepted too.

Answer rules (the text inside the last ``<answer>`` block):

* the answer is the **last** JSON object in the text that parses and holds a grid (```json
  fences, trailing commas and Python-style quoting are tolerated); its ``"solution"`` field
  is the grid when present, else the object itself; a list of rows is read as houses 1..n;
* house keys are read loosely ("House 1", "house1", "1"), category keys ignoring case, spaces
  and punctuation ("Book Genre" = "BookGenre"), values ignoring case and surrounding space;
* ``fraction`` = gold cells right / gold cells, ``correct`` = every cell right.

Row matching (option or ``extra_info["row_order"]``): ``"house"`` (default) compares house i
with house i, which is right wherever position means something (ZebraLogicBench, generated
grids). ``"any"`` matches answer rows to gold rows one-to-one so as to maximise the cells
right, for Logic Puzzle Baron puzzles, whose "houses" are only row labels the puzzle never
defines; the released reward (DCS repo) is also order-free there, matching rows by their
first value. The "lpb" loader sets it for the released files.
"""

from __future__ import annotations

import ast
import json
import random
import re
from typing import Any, Iterable, Mapping, Sequence

from . import lang, row_info
from .base import Chinese, Domain, Knob, Row, Verdict, Wording, register
from .io import DataFileError, load_hf, read_records, strip_r1_template, user_text, verl_row

ABILITY = "Puzzle"  # what the released zebra files carry
HF_ZEBRALOGIC = "allenai/ZebraLogicBench-private"  # gated; the public set hides the solutions
MAX_ANSWER_CHARS = 200_000  # a 6x6 grid with reasoning is a few KB; beyond this is not an answer
MAX_CANDIDATES = 20  # JSON objects tried from the end before giving up
MAX_LITERAL_CHARS = 20_000  # ast.literal_eval only on small spans (it builds a full syntax tree)
MAX_MATCH_HOUSES = 12  # order-free matching is exact by DP over subsets up to this many rows

# The released zebra prompt (dcs/zebra/*.parquet), verbatim: no "User:" turn, and its task
# sentence says "a math problem" (a copy-paste slip kept for faithful reproduction).
R1_PREFIX = (
    "A conversation between User and Assistant. The User asks a question, and the Assistant solves it. "
    "The Assistant first thinks about the reasoning process in the mind and then provides the User with the answer. "
    "The reasoning process is enclosed  within <think> </think> and answer is enclosed within <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. "
    "Now the user asks you to solve a math problem. After thinking, when you finally reach a conclusion, "
    "clearly state the answer within <answer> </answer> tags. i.e., <answer> </answer>.\n\n"
)
R1_SUFFIX = "\n\nAssistant: <think>"
PUZZLE_HEADER = "# Puzzle to Solve \n\n"
INSTRUCTION = (
    "# Instruction\n\nNow please solve the above puzzle. "
    "Present your reasoning and solution in the following json format:\n\n"
)


def json_template(houses: int, categories: Sequence[str]) -> str:
    """The answer skeleton the released prompts show (``"___"`` placeholders)."""
    sol = {f"House {h}": {c: "___" for c in categories} for h in range(1, houses + 1)}
    return json.dumps({"reasoning": "___", "solution": sol})


def question_text(puzzle: str, houses: int, categories: Sequence[str]) -> str:
    """The released question layout: puzzle, then the instruction with the JSON skeleton."""
    return f"{PUZZLE_HEADER}{puzzle.strip()}\n\n{INSTRUCTION}{json_template(houses, categories)}"


def r1_prompt(question: str) -> str:
    """``question`` inside the released zebra R1 template."""
    return f"{R1_PREFIX}{question}{R1_SUFFIX}"


# ---------------------------------------------------------------------------- normalising

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
    if isinstance(gt, (bytes, bytearray)):
        gt = gt.decode("utf-8")
    if isinstance(gt, str):
        gt = json.loads(gt)
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


# ---------------------------------------------------------------------------- verifier


def _cells_right(pred: Mapping[str, str], gold: Mapping[str, str]) -> int:
    return sum(1 for c, v in gold.items() if pred.get(c) == v)


def _best_matching(pred_rows: list[dict[str, str]], gold_rows: list[dict[str, str]]) -> int:
    """Most cells right over one-to-one row matchings (exact DP over gold-row subsets)."""
    n = len(gold_rows)
    weights = [[_cells_right(p, g) for g in gold_rows] for p in pred_rows]
    best = {0: 0}
    for w in weights:  # each answer row takes one free gold row, or none
        nxt = dict(best)
        for used, score in best.items():
            for j in range(n):
                if not used >> j & 1 and w[j]:
                    key = used | 1 << j
                    if nxt.get(key, -1) < score + w[j]:
                        nxt[key] = score + w[j]
        best = nxt
    return max(best.values())


def verify(answer: str, ground_truth: Any, extra_info: Mapping | None = None, **options: Any) -> Verdict:
    """Cell accuracy of the answer's grid; never raises (any error is a wrong verdict).

    Options: ``row_order`` ("house" or "any", default from ``extra_info["row_order"]``,
    else "house").
    """
    try:
        order = options.get("row_order") or (extra_info or {}).get("row_order") or "house"
        return _verify(answer, ground_truth, str(order))
    except Exception as exc:  # noqa: BLE001 - a malformed row costs one item, never the batch
        return Verdict.wrong(f"verifier error: {type(exc).__name__}: {str(exc)[:200]}", right=0, total=0)


def _verify(answer: Any, ground_truth: Any, order: str) -> Verdict:
    try:
        gold = parse_ground_truth(ground_truth)
    except (ValueError, TypeError, RecursionError) as exc:
        return Verdict.wrong(f"bad ground truth: {str(exc)[:200]}", right=0, total=0)
    total = sum(len(r) for r in gold.values())
    if not isinstance(answer, str):
        return Verdict.wrong("answer is not a string", right=0, total=total)
    if len(answer) > MAX_ANSWER_CHARS:
        return Verdict.wrong(f"answer longer than {MAX_ANSWER_CHARS} characters", right=0, total=total)
    obj, why = last_json_object(lang.halfwidth(answer))  # full-width braces/quotes/digits as ASCII
    if obj is None:
        return Verdict.wrong(why, right=0, total=total)
    try:
        pred = _grid(_solution_of(obj), strict=False)
    except ValueError as exc:
        return Verdict.wrong(f"no solution grid in the JSON: {exc}", right=0, total=total)
    if not pred:
        return Verdict.wrong("no solution grid in the JSON (no house entries)", right=0, total=total)
    if order == "any" and len(gold) <= MAX_MATCH_HOUSES:
        houses = sorted(gold)
        pred_rows = [pred[h] for h in houses if h in pred]
        right = _best_matching(pred_rows, [gold[h] for h in houses])
    else:
        order = "house"
        right = sum(_cells_right(pred.get(h, {}), cells) for h, cells in gold.items())
    details = {"right": right, "total": total, "row_order": order}
    if right == total:
        return Verdict(1.0, True, {"reason": "correct", **details})
    return Verdict(right / total, False, {"reason": f"{total - right} of {total} cells wrong", **details})


# ---------------------------------------------------------------------------- loaders


def _prompt_list(prompt: Any) -> list[dict]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [dict(m) for m in prompt]


def _split_question(prompt_text: str) -> tuple[str, str]:
    """(question, bare puzzle) from a released zebra prompt."""
    body = strip_r1_template(prompt_text)
    # The released zebra prompts have no "User:" turn, so the preamble survives strip_r1_template.
    if PUZZLE_HEADER.strip() in body:
        body = body[body.index(PUZZLE_HEADER.strip()):]
    puzzle = body
    if puzzle.startswith(PUZZLE_HEADER.strip()):
        puzzle = puzzle[len(PUZZLE_HEADER.strip()):]
    if INSTRUCTION.split("\n")[0] in puzzle:
        puzzle = puzzle[: puzzle.index(INSTRUCTION.split("\n")[0])]
    return body.strip(), puzzle.strip()


def _categories(gold: Mapping[str, Mapping[str, Any]]) -> list[str]:
    first = next(iter(gold.values()), {})
    return [str(c) for c in first]


def _row_from_released(rec: Mapping, index: int, split: str, row_order: str) -> Row:
    """A row from a veRL-layout record (prompt + reward_model.ground_truth)."""
    rm = rec["reward_model"]
    gt = rm["ground_truth"]
    gold = json.loads(gt) if isinstance(gt, str) else dict(gt)
    parse_ground_truth(gold)  # raises on an unusable record
    truth = gt if isinstance(gt, str) else json.dumps(gold)
    question, puzzle = _split_question(user_text(rec["prompt"]))
    info = dict(rec.get("extra_info") or {}) if isinstance(rec.get("extra_info"), Mapping) else {}
    # rows written by mdrl carry their bare question already (their prompt may use another template)
    question = str(info.get("question") or question)
    try:
        idx = int(info.pop("index", index))
    except (TypeError, ValueError):
        idx = index
    for k in ("question", "split"):
        info.pop(k, None)
    info.setdefault("puzzle", puzzle)
    info.setdefault("categories", list(rm.get("categories") or _categories(gold)))
    if rm.get("labels") is not None:
        info.setdefault("labels", [list(x) for x in rm["labels"]])
    info.setdefault("houses", len(gold))
    info.setdefault("row_order", row_order)
    return verl_row(
        str(rec.get("data_source") or "zebra"),
        question,
        truth,
        str(rec.get("ability") or ABILITY),
        split,
        idx,
        prompt=_prompt_list(rec["prompt"]),
        **info,
    )


def _row_from_zebralogic(rec: Mapping, index: int, split: str) -> Row:
    """A row from a ZebraLogicBench grid-mode record (id, size, puzzle, solution{header, rows})."""
    sol = rec["solution"]
    gold = solution_from_table(sol["header"], sol["rows"])
    categories = [str(c) for c in list(sol["header"])[1:]]
    question = question_text(str(rec["puzzle"]), len(gold), categories)
    return verl_row(
        str(rec.get("data_source") or "zebralogic"),
        question,
        json.dumps(gold),
        ABILITY,
        split,
        index,
        prompt=[{"role": "user", "content": r1_prompt(question)}],
        puzzle=str(rec["puzzle"]).strip(),
        categories=categories,
        houses=len(gold),
        row_order="house",
        zebra_id=str(rec.get("id", index)),
        size=str(rec.get("size", f"{len(gold)}*{len(categories)}")),
    )


def _rows(records: list[dict], split: str, row_order: str, where: str) -> list[Row]:
    """Rows from veRL-layout records (``row_order`` for them) or grid-mode records (house order)."""
    rows = []
    for i, rec in enumerate(records):
        try:
            if isinstance(rec.get("reward_model"), Mapping) and rec.get("prompt") is not None:
                rows.append(_row_from_released(rec, i, split, row_order))
            elif rec.get("puzzle") is not None and isinstance(rec.get("solution"), Mapping):
                rows.append(_row_from_zebralogic(rec, i, split))
            else:
                raise ValueError("neither a veRL row (prompt, reward_model) nor a grid-mode record (puzzle, solution)")
        except (ValueError, TypeError, KeyError) as exc:
            raise DataFileError(f"grid puzzle record {i} of {where} is malformed: {exc}") from exc
    return rows


def load_lpb(path: str | None = None, split: str = "test") -> list[Row]:
    """Logic Puzzle Baron rows from the released dcs/zebra parquet (data_source kept: "zebra").

    Rows keep their prompt; ``extra_info.question`` is the puzzle plus its JSON instruction,
    ``extra_info.puzzle`` the bare puzzle, and ``row_order`` is "any" (LPB has no houses).
    """
    if not path:
        raise DataFileError(
            "the Logic Puzzle Baron set is not on the Hugging Face hub; pass path=dcs/zebra/<split>.parquet"
        )
    return _rows(read_records(path), split, "any", str(path))


def load_zebralogic(path: str | None = None, split: str = "test") -> list[Row]:
    """ZebraLogicBench grid-mode rows (data_source "zebralogic") with the released zebra prompt.

    ``path``: the grid_mode parquet with solutions; with None the gated hub set
    :data:`HF_ZEBRALOGIC` (config grid_mode) is read thinly.
    """
    records = read_records(path) if path else load_hf(HF_ZEBRALOGIC, split, name="grid_mode")
    return _rows(records, split, "house", str(path or HF_ZEBRALOGIC))


# ---------------------------------------------------------------------------- solver

def _right_of_support(m: int, full: int) -> int:
    """Positions strictly right of the leftmost possible position of y."""
    return full & ~(((m & -m) << 1) - 1) if m else 0


# Clue kinds: unary ("at", x, k), ("not_at", x, k) with k a 1-based house; binary (kind, x, y).
# x and y are [category, value]. For binary kinds, _SUPPORT[kind](mask_y, full) is the set of
# positions x may take given y's possible positions, as a bitmask.
_SUPPORT = {
    "same": lambda m, full: m,
    "not_same": lambda m, full: full & ~m if m & (m - 1) == 0 else full,
    "left_of": lambda m, full: (1 << (m.bit_length() - 1)) - 1 if m else 0,
    "right_of": _right_of_support,
    "directly_left": lambda m, full: m >> 1,
    "directly_right": lambda m, full: (m << 1) & full,
    "next_to": lambda m, full: ((m << 1) | (m >> 1)) & full,
    "one_between": lambda m, full: ((m << 2) | (m >> 2)) & full,
}
_INVERSE = {
    "same": "same",
    "not_same": "not_same",
    "left_of": "right_of",
    "right_of": "left_of",
    "directly_left": "directly_right",
    "directly_right": "directly_left",
    "next_to": "next_to",
    "one_between": "one_between",
}




def clue_holds(clue: Sequence, pos: Mapping[tuple[str, str], int]) -> bool:
    """Whether one clue holds when ``pos[(category, value)]`` is a 1-based house."""
    kind = clue[0]
    px = pos[tuple(clue[1])]
    if kind == "at":
        return px == clue[2]
    if kind == "not_at":
        return px != clue[2]
    py = pos[tuple(clue[2])]
    return {
        "same": px == py,
        "not_same": px != py,
        "left_of": px < py,
        "right_of": px > py,
        "directly_left": px + 1 == py,
        "directly_right": px == py + 1,
        "next_to": abs(px - py) == 1,
        "one_between": abs(px - py) == 2,
    }[kind]


class GridSolver:
    """Counts the solutions of a grid puzzle by propagation plus search.

    Variables are (category, value) pairs; each takes a house; the values of one category
    take distinct houses. Domains are bitmasks; binary clues are kept arc-consistent and each
    category is a permutation (naked and hidden singles), then the search branches on the
    smallest domain.
    """

    def __init__(self, values: Mapping[str, Sequence[str]], houses: int):
        self.houses = houses
        self.full = (1 << houses) - 1
        self.var: dict[tuple[str, str], int] = {}
        self.groups: list[list[int]] = []
        for cat, vals in values.items():
            if len(vals) != houses:
                raise ValueError(f"category {cat!r} has {len(vals)} values for {houses} houses")
            group = []
            for v in vals:
                self.var[(cat, v)] = len(self.var)
                group.append(self.var[(cat, v)])
            self.groups.append(group)

    def _setup(self, clues: Sequence[Sequence]) -> tuple[list[int], list]:
        """Initial domains (unary clues applied) and the binary constraints."""
        doms = [self.full] * len(self.var)
        binary = []
        for clue in clues:
            x = self.var[tuple(clue[1])]
            if clue[0] in ("at", "not_at"):
                bit = 1 << (int(clue[2]) - 1)
                doms[x] &= bit if clue[0] == "at" else ~bit
            else:
                y = self.var[tuple(clue[2])]
                binary.append((x, y, _SUPPORT[clue[0]], _SUPPORT[_INVERSE[clue[0]]]))
        return doms, binary

    def count(self, clues: Sequence[Sequence], limit: int = 2) -> int:
        """How many solutions the clues allow, counting no further than ``limit``."""
        doms, binary = self._setup(clues)
        return self._search(doms, binary, limit)

    def solutions(self, clues: Sequence[Sequence], limit: int = 2) -> list[dict[tuple[str, str], int]]:
        """Up to ``limit`` solutions as {(category, value): 1-based house}."""
        doms, binary = self._setup(clues)
        found: list[list[int]] = []
        self._search(doms, binary, limit, found)
        names = list(self.var)
        return [{names[i]: d.bit_length() for i, d in enumerate(sol)} for sol in found]

    def _propagate(self, doms: list[int], binary: list) -> bool:
        full = self.full
        changed = True
        while changed:
            changed = False
            for x, y, fx, fy in binary:
                nx = doms[x] & fx(doms[y], full)
                if nx != doms[x]:
                    if not nx:
                        return False
                    doms[x] = nx
                    changed = True
                ny = doms[y] & fy(doms[x], full)
                if ny != doms[y]:
                    if not ny:
                        return False
                    doms[y] = ny
                    changed = True
            for group in self.groups:
                fixed = 0
                for v in group:
                    d = doms[v]
                    if not d:
                        return False
                    if d & (d - 1) == 0:
                        if fixed & d:
                            return False
                        fixed |= d
                for v in group:
                    d = doms[v]
                    if d & (d - 1) and d & fixed:
                        doms[v] = d & ~fixed
                        changed = True
                        if not doms[v]:
                            return False
                # hidden singles: a house only one value of the group can take
                for p in range(self.houses):
                    bit = 1 << p
                    holders = [v for v in group if doms[v] & bit]
                    if not holders:
                        return False
                    if len(holders) == 1 and doms[holders[0]] != bit:
                        doms[holders[0]] = bit
                        changed = True
        return True

    def _search(self, doms: list[int], binary: list, limit: int, found: list | None = None) -> int:
        if not self._propagate(doms, binary):
            return 0
        best, best_size = -1, 99
        for i, d in enumerate(doms):
            size = bin(d).count("1")
            if 1 < size < best_size:
                best, best_size = i, size
        if best < 0:
            if found is not None:
                found.append(list(doms))
            return 1
        total = 0
        d = doms[best]
        while d and total < limit:
            bit = d & -d
            d &= d - 1
            child = list(doms)
            child[best] = bit
            total += self._search(child, binary, limit - total, found)
        return total


# ---------------------------------------------------------------------------- generator

# (JSON key, intro line as in ZebraLogicBench, noun phrase for "{v}", values)
CATEGORIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Name", "Each person has a unique name", "{v}",
     ("Alice", "Bob", "Carol", "Eric", "Peter", "Arnold", "Zoe", "Tim")),
    ("Nationality", "Each person has a unique nationality", "the {v}",
     ("Brit", "Dane", "German", "Swede", "Norwegian", "Spaniard", "Italian", "Canadian")),
    ("Color", "Each person has a unique favorite color", "the person who loves {v}",
     ("red", "green", "blue", "yellow", "white", "purple", "orange", "black")),
    ("Pet", "Each person keeps a unique pet", "the {v} owner",
     ("cat", "dog", "bird", "fish", "horse", "rabbit", "hamster", "turtle")),
    ("Drink", "Each person has a unique favorite drink", "the person who drinks {v}",
     ("tea", "coffee", "milk", "water", "juice", "soda", "cocoa", "lemonade")),
    ("Food", "Each person has a unique favorite food", "the person who eats {v}",
     ("pizza", "stew", "sushi", "tacos", "curry", "salad", "pasta", "soup")),
    ("Hobby", "Each person has a unique hobby", "the person who enjoys {v}",
     ("painting", "gardening", "chess", "knitting", "cooking", "hiking", "photography", "fishing")),
    ("Sport", "Each person plays a unique sport", "the person who plays {v}",
     ("soccer", "tennis", "basketball", "golf", "baseball", "volleyball", "cricket", "hockey")),
    ("Car", "Each person drives a unique car brand", "the {v} driver",
     ("Toyota", "Ford", "Honda", "BMW", "Tesla", "Audi", "Kia", "Volvo")),
    ("Flower", "Each person grows a unique flower", "the person who grows {v}",
     ("roses", "tulips", "lilies", "daisies", "orchids", "carnations", "sunflowers", "irises")),
    ("Music", "Each person has a unique favorite music genre", "the {v} fan",
     ("jazz", "rock", "pop", "classical", "hip hop", "country", "blues", "reggae")),
    ("BookGenre", "Each person reads a unique favorite book genre", "the person who reads {v} books",
     ("mystery", "fantasy", "romance", "biography", "science fiction", "history", "poetry", "horror")),
    ("Occupation", "Each person has a unique occupation", "the {v}",
     ("doctor", "teacher", "engineer", "artist", "lawyer", "nurse", "chef", "pilot")),
)
_BY_KEY = {c[0]: c for c in CATEGORIES}
MAX_HOUSES = 8
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
# How often each clue kind is drawn: same-house clues carry the most information per clue,
# positional ones make the puzzle a zebra puzzle rather than a matching grid.
CLUE_WEIGHTS = {
    "same": 5, "not_same": 2, "at": 2, "not_at": 1, "left_of": 2, "right_of": 1,
    "directly_left": 2, "next_to": 2, "one_between": 1,
}


def _phrase(attr: Sequence[str]) -> str:
    return _BY_KEY[attr[0]][2].format(v=attr[1])


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def clue_text(clue: Sequence) -> str:
    """One clue in English, in ZebraLogicBench's phrasing."""
    kind = clue[0]
    a = _phrase(clue[1])
    if kind == "at":
        return f"{_cap(a)} is in the {ORDINALS[clue[2] - 1]} house."
    if kind == "not_at":
        return f"{_cap(a)} is not in the {ORDINALS[clue[2] - 1]} house."
    b = _phrase(clue[2])
    return _cap({
        "same": f"{a} is {b}.",
        "not_same": f"{a} is not {b}.",
        "left_of": f"{a} is somewhere to the left of {b}.",
        "right_of": f"{a} is somewhere to the right of {b}.",
        "directly_left": f"{a} is directly left of {b}.",
        "directly_right": f"{a} is directly right of {b}.",
        "next_to": f"{a} and {b} are next to each other.",
        "one_between": f"There is one house between {a} and {b}.",
    }[kind])


def puzzle_text(values: Mapping[str, Sequence[str]], clues: Sequence[Sequence], houses: int) -> str:
    """The puzzle in ZebraLogicBench's layout (intro, characteristics, numbered clues)."""
    lines = [
        f"There are {houses} houses, numbered 1 to {houses} from left to right, as seen from across the street. "
        "Each house is occupied by a different person. Each house has a unique attribute for each of the "
        "following characteristics:"
    ]
    for cat, vals in values.items():
        lines.append(f" - {_BY_KEY[cat][1]}: " + ", ".join(f"`{v}`" for v in vals))
    lines.append("")
    lines.append("## Clues:")
    lines.extend(f"{i}. {clue_text(c)}" for i, c in enumerate(clues, 1))
    return "\n".join(lines)


def _random_clue(rng: random.Random, grid: Sequence[Mapping[str, str]], cats: Sequence[str]) -> list:
    """One clue true of ``grid`` (houses 0-based in the list, 1-based in the clue)."""
    n = len(grid)
    kinds = [k for k in CLUE_WEIGHTS if not (k in ("same", "not_same") and len(cats) < 2)
             and not (k in ("directly_left", "next_to", "left_of", "right_of") and n < 2)
             and not (k == "one_between" and n < 3) and not (k == "not_at" and n < 2)]
    kind = rng.choices(kinds, weights=[CLUE_WEIGHTS[k] for k in kinds])[0]

    def attr(h: int, cat: str | None = None) -> list[str]:
        c = cat or rng.choice(cats)
        return [c, grid[h][c]]

    if kind == "at":
        h = rng.randrange(n)
        return ["at", attr(h), h + 1]
    if kind == "not_at":
        h = rng.randrange(n)
        k = rng.choice([p for p in range(n) if p != h])
        return ["not_at", attr(h), k + 1]
    if kind == "same":
        h = rng.randrange(n)
        c1, c2 = rng.sample(list(cats), 2)
        return ["same", attr(h, c1), attr(h, c2)]
    if kind == "not_same":
        h1, h2 = rng.sample(range(n), 2)
        c1, c2 = rng.sample(list(cats), 2)
        return ["not_same", attr(h1, c1), attr(h2, c2)]
    if kind in ("left_of", "right_of"):
        h1, h2 = sorted(rng.sample(range(n), 2))
        if kind == "right_of":
            h1, h2 = h2, h1
        return [kind, attr(h1), attr(h2)]
    if kind == "directly_left":
        h = rng.randrange(n - 1)
        return ["directly_left", attr(h), attr(h + 1)]
    if kind == "next_to":
        h = rng.randrange(n - 1)
        pair = [attr(h), attr(h + 1)]
        rng.shuffle(pair)
        return ["next_to", *pair]
    h = rng.randrange(n - 2)
    pair = [attr(h), attr(h + 2)]
    rng.shuffle(pair)
    return ["one_between", *pair]


def make_puzzle(rng: random.Random, houses: int, categories: int, max_clues: int = 400) -> dict[str, Any]:
    """One uniquely solvable grid puzzle: {values, grid, clues} (clues minimal: none redundant).

    A random solution grid is drawn; random true clues are added until the solver finds
    exactly one solution, then every clue whose removal keeps the solution unique is dropped.
    """
    chosen = ["Name"] + rng.sample([c[0] for c in CATEGORIES[1:]], categories - 1)
    values = {c: sorted(rng.sample(_BY_KEY[c][3], houses), key=_BY_KEY[c][3].index) for c in chosen}
    perms = {c: rng.sample(values[c], houses) for c in chosen}
    grid = [{c: perms[c][h] for c in chosen} for h in range(houses)]
    solver = GridSolver(values, houses)
    clues: list[list] = []
    seen: set[str] = set()
    while solver.count(clues) > 1:
        if len(clues) >= max_clues:
            raise RuntimeError("clue budget exhausted before the solution became unique")
        clue = _random_clue(rng, grid, chosen)
        key = json.dumps(clue)
        if key in seen:
            continue
        seen.add(key)
        clues.append(clue)
    for clue in rng.sample(clues, len(clues)):  # prune in random order
        rest = [c for c in clues if c is not clue]
        if solver.count(rest) == 1:
            clues = rest
    rng.shuffle(clues)
    return {"values": values, "grid": grid, "clues": clues}


def generate(
    n: int,
    seed: int = 0,
    houses: int = 3,
    categories: int = 3,
    split: str = "train",
    language: str = "en",
) -> list[Row]:
    """``n`` zebra grid puzzles with a unique solution each, deterministic in ``seed``.

    ``houses`` (2..8) and ``categories`` (1..13) set the size; ``houses`` is the main
    difficulty knob. Rows use the released zebra prompt and house-keyed scoring; the clues
    are kept in ``extra_info.clues`` as JSON text of [kind, [category, value], ...] lists so
    the uniqueness can be re-checked. Row i depends only on (seed, i, sizes).
    ``language="zh"`` tells the same puzzles in Chinese (:mod:`mdrl.domains.lpb_zh`).
    """
    if language != "en":
        from . import lpb_zh

        if language != "zh":
            raise ValueError(f"language must be en or zh, got {language!r}")
        return lpb_zh.generate(n, seed=seed, houses=houses, categories=categories, split=split)
    if n < 0:
        raise ValueError("n must be >= 0")
    houses, categories = int(houses), int(categories)
    if not 2 <= houses <= MAX_HOUSES:
        raise ValueError(f"houses must be between 2 and {MAX_HOUSES}, got {houses}")
    if not 1 <= categories <= len(CATEGORIES):
        raise ValueError(f"categories must be between 1 and {len(CATEGORIES)}, got {categories}")
    rows: list[Row] = []
    for i in range(n):
        rng = random.Random(f"lpb-{seed}-{houses}-{categories}-{i}")
        p = make_puzzle(rng, houses, categories)
        cats = list(p["values"])
        gold = {f"House {h + 1}": dict(row) for h, row in enumerate(p["grid"])}
        puzzle = puzzle_text(p["values"], p["clues"], houses)
        question = question_text(puzzle, houses, cats)
        rows.append(
            verl_row(
                "zebra",
                question,
                json.dumps(gold),
                ABILITY,
                split,
                i,
                prompt=[{"role": "user", "content": r1_prompt(question)}],
                puzzle=puzzle,
                categories=cats,
                values=[list(p["values"][c]) for c in cats],
                clues=json.dumps(p["clues"]),  # JSON text: parquet cannot hold mixed-type lists
                houses=houses,
                row_order="house",
                seed=seed,
            )
        )
    return rows


def difficulty(row: Row) -> float:
    """Houses in the grid (the generator's ``houses``; the released sets record it too)."""
    known = row_info.number(row_info.info(row).get("houses"))
    if known:
        return known
    gt = row_info.ground_truth(row)
    return float(len(gt)) if isinstance(gt, dict) else 0.0


def gold(row: Row) -> str | None:
    """The solution grid as the JSON object the puzzle asks for: ``{"solution": {...}}``."""
    gt = row_info.ground_truth(row)
    return json.dumps({"solution": gt}) if isinstance(gt, dict) else None


WORDING = {
    "en": Wording(task="a logic puzzle",
                  instruction="clearly state the solution as the requested JSON object within <answer> </answer> tags."),
    "zh-simplified": Wording(task="一道逻辑谜题", instruction="请在 <answer> </answer> 标签内按要求的 JSON 格式给出解答。"),
    "zh-traditional": Wording(task="一道邏輯謎題", instruction="請在 <answer> </answer> 標籤內按要求的 JSON 格式給出解答。"),
}

DOMAIN = register(
    Domain(
        name="lpb",
        data_sources=("zebra", "lpb", "zebralogic", "zebra_logic", "zebralogicbench"),
        verify=verify,
        wording=WORDING,
        difficulty=difficulty,
        gold=gold,
        timeout_s=5.0,
        loaders={"lpb": load_lpb, "zebralogic": load_zebralogic},
        generate=generate,
        knob=Knob("houses", 2, 8),
        chinese=Chinese(generator=True),  # the released LPB files are English prose: no tell
    )
)
