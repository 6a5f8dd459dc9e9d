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

import json
from typing import Any, Mapping

from . import lang, row_info
from .base import Chinese, Domain, Knob, Row, Verdict, Wording, register
from .row_io import DataFileError, decode_json, extra_info_of, load_hf, prompt_messages, read_records
from .row_io import record_index, strip_r1_template, user_text, verl_row
from .safe_verify import never_raises

# The parts live in their own modules; their public names stay importable from here.
from .lpb_format import ABILITY, INSTRUCTION, PUZZLE_HEADER, R1_PREFIX, R1_SUFFIX  # noqa: F401
from .lpb_format import json_template, question_text, r1_prompt  # noqa: F401
from .lpb_generator import (  # noqa: F401
    _BY_KEY,
    CATEGORIES,
    CLUE_SENTENCES,
    CLUE_WEIGHTS,
    MAX_HOUSES,
    ORDINALS,
    _random_clue,
    clue_text,
    generate,
    make_puzzle,
    puzzle_text,
)
from .lpb_grid import (  # noqa: F401
    MAX_ANSWER_CHARS,
    MAX_CANDIDATES,
    MAX_LITERAL_CHARS,
    SOLUTION_KEYS,
    ZH_CATEGORIES,
    Grid,
    _grid,
    _solution_of,
    house_index,
    last_json_object,
    norm_category,
    norm_value,
    parse_ground_truth,
    solution_from_table,
)
from .lpb_solver import GridSolver, clue_holds  # noqa: F401

HF_ZEBRALOGIC = "allenai/ZebraLogicBench-private"  # gated; the public set hides the solutions
MAX_MATCH_HOUSES = 12  # order-free matching is exact by DP over subsets up to this many rows


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


@never_raises(right=0, total=0)
def verify(answer: str, ground_truth: Any, extra_info: Mapping | None = None, **options: Any) -> Verdict:
    """Cell accuracy of the answer's grid; never raises (any error is a wrong verdict).

    Options: ``row_order`` ("house" or "any", default from ``extra_info["row_order"]``,
    else "house").
    """
    order = options.get("row_order") or (extra_info or {}).get("row_order") or "house"
    return _verify(answer, ground_truth, str(order))


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
    gold = decode_json(gt)
    parse_ground_truth(gold)  # raises on an unusable record
    truth = gt if isinstance(gt, str) else json.dumps(gold)
    question, puzzle = _split_question(user_text(rec["prompt"]))
    info = extra_info_of(rec)
    # rows written by mdrl carry their bare question already (their prompt may use another template)
    question = str(info.get("question") or question)
    idx = record_index(rec, index)
    for k in ("question", "split", "index"):
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
        prompt=prompt_messages(rec["prompt"]),
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
        prompt=prompt_messages(r1_prompt(question)),
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
