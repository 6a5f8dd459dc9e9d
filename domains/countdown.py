"""Countdown: combine the given numbers with + - * / to reach the target.

Ground truth: ``{"numbers": [...], "target": int}`` (``"nums"`` is accepted for
``"numbers"``; a JSON string of that object is accepted too).

Answer rules (0/1, no partial credit):

* only integers, ``+ - * / ( )``, ``×``, ``÷`` and whitespace, parsed by
  :mod:`mdrl.domains.arith` (never Python ``eval``); no unary minus, no exponent;
* optionally one trailing ``= N`` whose ``N`` must be the target; any other ``=`` fails;
* the numbers used are exactly the given multiset: each given number once, nothing else;
* the exact (:class:`fractions.Fraction`) value equals the target; dividing by zero fails.
"""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction
from typing import Any, Mapping, Sequence

from . import arith, lang, row_info
from . import r1_prompt as r1
from .base import Chinese, Domain, Knob, Row, Verdict, Wording, register
from .countdown_solver import solve_countdown
from .row_io import DataFileError, decode_json, load_hf, plain, prompt_messages, read_records
from .row_io import record_index, strip_r1_template, user_text, verl_row
from .safe_verify import never_raises

ABILITY = "math"
HF_DATASET = "Jiayi-Pan/Countdown-Tasks-3to4"  # TinyZero's source, the one the released files follow

# The released R1 countdown prompt, verbatim (the double space in "enclosed  within" included).
R1_PREFIX = r1.prefix(r1.ANSWER_REQUEST) + r1.USER
R1_SUFFIX = "\n" + r1.ASSISTANT
QUESTION = (
    "Using the numbers {numbers}, create an equation that equals {target}. You can use basic arithmetic "
    "operations (+, -, *, /) and each number can only be used once. Show your work in <think> </think> tags. "
    "And return the final answer in <answer> </answer> tags, for example <answer> (1 + 2) / 3 </answer>."
)


def question_text(numbers: Sequence[int], target: int) -> str:
    """The bare user question of the released files for one puzzle."""
    return QUESTION.format(numbers=str([int(n) for n in numbers]), target=int(target))


def r1_prompt(question: str) -> str:
    """``question`` inside the released R1 countdown template."""
    return f"{R1_PREFIX}{question}{R1_SUFFIX}"


# ---------------------------------------------------------------------------- verifier


def _ground_truth(gt: Any) -> tuple[list[int], int]:
    """(numbers, target) from the accepted ground-truth shapes; raises ValueError."""
    gt = decode_json(gt)
    if not isinstance(gt, Mapping):
        raise ValueError(f"ground truth is a {type(gt).__name__}, not a mapping")
    nums = gt.get("numbers")
    if nums is None:
        nums = gt.get("nums")
    if nums is None or "target" not in gt:
        raise ValueError("ground truth needs 'numbers' (or 'nums') and 'target'")
    return [int(n) for n in plain(nums)], int(plain(gt["target"]))  # parquet gives numpy values


def _split_equation(text: str, target: int) -> tuple[str | None, str | None]:
    """(expression, None) or (None, reason), handling one optional trailing ``= target``."""
    if text.count("=") == 0:
        return text, None
    if text.count("=") > 1:
        return None, "more than one '=' in the answer"
    lhs, rhs = text.split("=")
    rhs = rhs.strip()
    if not rhs or any(c not in "0123456789" for c in rhs):
        return None, f"the right-hand side of '=' must be the target number, got {rhs[:40]!r}"
    if len(rhs) > arith.MAX_DIGITS or int(rhs) != target:
        return None, f"the stated result {rhs[:40]} is not the target {target}"
    return lhs, None


_ZH_EQUALS = ("等于", "等於")


def _chinese_to_ascii(text: str) -> str:
    """Chinese answer forms as ASCII: full-width digits/operators/parentheses (``（１＋２）×３``),
    ``等于`` for ``=``, and one trailing ``。`` dropped. ASCII text comes back unchanged."""
    text = lang.halfwidth(text)
    for word in _ZH_EQUALS:
        text = text.replace(word, "=")
    return text[:-1].rstrip() if text.endswith("。") else text


@never_raises()
def verify(answer: str, ground_truth: Any, extra_info: Mapping | None = None, **options: Any) -> Verdict:
    """Check a countdown equation exactly; never raises (any error is a wrong verdict).

    Options: ``max_length`` (characters, default :data:`arith.MAX_LENGTH`).
    """
    return _verify(answer, ground_truth, int(options.get("max_length", arith.MAX_LENGTH)))


def _verify(answer: Any, ground_truth: Any, max_length: int) -> Verdict:
    try:
        numbers, target = _ground_truth(ground_truth)
    except (ValueError, TypeError) as exc:
        return Verdict.wrong(f"bad ground truth: {exc}")
    if not isinstance(answer, str):
        return Verdict.wrong("answer is not a string")
    text = _chinese_to_ascii(answer.strip()) if len(answer) <= max_length else answer.strip()
    if len(text) > max_length:
        return Verdict.wrong(f"answer longer than {max_length} characters", extracted=text[:100] + "...")
    expr_text, why = _split_equation(text, target)
    if expr_text is None:
        return Verdict.wrong(why or "bad equation", extracted=text)
    try:
        tree = arith.parse(expr_text, max_length=max_length)
    except arith.ArithError as exc:
        return Verdict.wrong(f"not a valid expression: {exc}", extracted=text)
    used = arith.numbers(tree)
    details: dict[str, Any] = {"extracted": text, "numbers_used": used}
    if Counter(used) != Counter(numbers):
        missing = list((Counter(numbers) - Counter(used)).elements())
        extra = list((Counter(used) - Counter(numbers)).elements())
        parts = [f"unused {missing}" if missing else "", f"not given or repeated {extra}" if extra else ""]
        return Verdict.wrong("numbers must be used exactly once each: " + "; ".join(p for p in parts if p), **details)
    try:
        value = arith.evaluate(tree)
    except ZeroDivisionError:
        return Verdict.wrong("division by zero", **details)
    details["value"] = str(value)
    if value != target:
        return Verdict.wrong(f"evaluates to {value}, not {target}", **details)
    return Verdict.right(**details)


# ---------------------------------------------------------------------------- loaders


def _row_from_record(rec: Mapping, index: int, split: str, default_source: str) -> Row:
    """A veRL row from a released row (prompt + reward_model) or a raw {nums, target} record."""
    gt = (rec.get("reward_model") or {}).get("ground_truth") if isinstance(rec.get("reward_model"), Mapping) else None
    if gt is None:
        gt = rec
    numbers, target = _ground_truth(gt)
    truth = {"numbers": numbers, "target": target}
    idx = record_index(rec, index)
    if rec.get("prompt") is not None:
        # Released rows: keep their prompt as it is, recover the bare question from it.
        question = strip_r1_template(user_text(rec["prompt"]))
        prompt = prompt_messages(rec["prompt"])
    else:
        question = question_text(numbers, target)
        prompt = prompt_messages(r1_prompt(question))
    source = str(rec.get("data_source") or default_source)
    return verl_row(source, question, truth, ABILITY, split, idx, prompt=prompt)


def load_countdown(path: str | None = None, split: str = "test") -> list[Row]:
    """Countdown rows from a released parquet, a local JSONL/parquet of {nums, target}, or the hub.

    With ``path=None`` the hub dataset (:data:`HF_DATASET`, which has only a train split)
    is read thinly; its rows get the released R1 prompt.
    """
    records = read_records(path) if path else load_hf(HF_DATASET, "train")
    rows = []
    for i, rec in enumerate(records):
        try:
            rows.append(_row_from_record(rec, i, split, "countdown"))
        except (ValueError, TypeError, KeyError) as exc:
            raise DataFileError(f"countdown record {i} of {path or HF_DATASET} is malformed: {exc}") from exc
    return rows


# ---------------------------------------------------------------------------- generator


def _random_expression(rng: random.Random, values: list[int]) -> tuple[Fraction, str] | None:
    """Combine ``values`` (in random order) with random operations into one (value, text).

    Picks two pending items, applies a random operation, and repeats, like TinyZero's and
    reasoning-gym's construction; intermediate results must stay non-negative integers so
    the construction reads like a human countdown solution.
    """
    items = [(Fraction(v), str(v)) for v in values]
    rng.shuffle(items)
    while len(items) > 1:
        i, j = rng.sample(range(len(items)), 2)
        (a, ea), (b, eb) = items[i], items[j]
        op = rng.choice("+-*/")
        if op == "-" and a < b:
            (a, ea), (b, eb) = (b, eb), (a, ea)
        if op == "/" and (b == 0 or a % b != 0):
            op = rng.choice("+*")
        value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else Fraction(0)}[op]
        rest = [items[k] for k in range(len(items)) if k not in (i, j)]
        items = rest + [(value, f"({ea} {op} {eb})")]
    value, text = items[0]
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return (value, text) if value.denominator == 1 else None


def _sizes(n: int, num_count: int | Sequence[int], min_number: int, max_number: int, min_target: int,
           max_target: int) -> tuple[int, int]:
    """The (low, high) count of numbers per puzzle, after checking every size; raises ValueError."""
    if n < 0:
        raise ValueError("n must be >= 0")
    lo, hi = (num_count, num_count) if isinstance(num_count, int) else (int(num_count[0]), int(num_count[-1]))
    if not 2 <= lo <= hi <= 12:
        raise ValueError(f"num_count must be between 2 and 12, got {num_count!r}")
    if not 0 <= min_number <= max_number:
        raise ValueError("need 0 <= min_number <= max_number")
    if min_target > max_target:
        raise ValueError("need min_target <= max_target")
    return lo, hi


def _draw(rng: random.Random, lo: int, hi: int, min_number: int, max_number: int, min_target: int,
          max_target: int) -> tuple[list[int], tuple[Fraction, str] | None]:
    """One draw of numbers and (target, construction), or None when no construction hits the range."""
    count = rng.randint(lo, hi)
    numbers = [rng.randint(min_number, max_number) for _ in range(count)]
    for _ in range(50):  # a few constructions per number draw before drawing new numbers
        cand = _random_expression(rng, numbers)
        if cand and min_target <= cand[0] <= max_target:
            return numbers, cand
    return numbers, None


def _generated_row(numbers: list[int], target: int, solution: str, split: str, index: int, seed: int) -> Row:
    """A generated puzzle as a row with the released R1 prompt and its construction."""
    question = question_text(numbers, target)
    return verl_row(
        "countdown",
        question,
        {"numbers": numbers, "target": target},
        ABILITY,
        split,
        index,
        prompt=prompt_messages(r1_prompt(question)),
        solution=solution,
        seed=seed,
        num_count=len(numbers),
    )


def generate(
    n: int,
    seed: int = 0,
    num_count: int | Sequence[int] = 4,
    max_number: int = 100,
    split: str = "train",
    min_number: int = 1,
    min_target: int = 1,
    max_target: int = 100,
    max_tries: int = 2000,
    language: str = "en",
    script: str = "simplified",
) -> list[Row]:
    """``n`` solvable countdown puzzles, deterministic in ``seed``.

    ``num_count`` (the difficulty knob) is how many numbers a puzzle gives: one int, or a
    ``[low, high]`` range drawn per puzzle. Numbers are drawn from ``[min_number,
    max_number]``; the target is the value of a random expression over all of them, kept
    when it is an integer in ``[min_target, max_target]`` (the released sets use targets
    up to 100). The construction is stored in ``extra_info.solution``; puzzles do not
    repeat within one call. ``language="zh"`` asks the same puzzles in Chinese
    (:mod:`mdrl.domains.countdown_zh`; ``script`` simplified or traditional).
    """
    if language != "en":
        from . import countdown_zh

        if language != "zh":
            raise ValueError(f"language must be en or zh, got {language!r}")
        return countdown_zh.generate(n, seed=seed, split=split, script=script, num_count=num_count,
                                     max_number=max_number, min_number=min_number, min_target=min_target,
                                     max_target=max_target, max_tries=max_tries)
    lo, hi = _sizes(n, num_count, min_number, max_number, min_target, max_target)
    rng = random.Random(seed)
    rows: list[Row] = []
    seen: set[tuple[tuple[int, ...], int]] = set()
    misses = 0
    while len(rows) < n:
        numbers, found = _draw(rng, lo, hi, min_number, max_number, min_target, max_target)
        key = (tuple(sorted(numbers)), int(found[0])) if found else None
        if found is None or key in seen:
            misses += 1
            if misses > max_tries * max(n, 1):
                raise ValueError(
                    f"could not build {n} distinct puzzles with these settings "
                    f"(num_count={num_count}, numbers {min_number}..{max_number}, targets {min_target}..{max_target})"
                )
            continue
        seen.add(key)
        rows.append(_generated_row(numbers, int(found[0]), found[1], split, len(rows), seed))
    return rows


def difficulty(row: Row) -> float:
    """How many numbers the puzzle gives (the generator's ``num_count``)."""
    known = row_info.number(row_info.info(row).get("num_count"))
    if known:
        return known
    gt = row_info.ground_truth(row) or {}
    return float(len(gt.get("numbers") or gt.get("nums") or [])) if isinstance(gt, dict) else 0.0


def gold(row: Row) -> str | None:
    """An equation that uses every number once and reaches the target (exhaustive search)."""
    gt = row_info.ground_truth(row)
    nums = gt.get("numbers") or gt.get("nums")
    return solve_countdown([int(n) for n in nums], int(gt["target"]))


def tell_in_chinese(row: Row, script: str) -> Row:
    """A released CountDown row asked in Chinese (same numbers and target; :mod:`.countdown_zh`)."""
    from . import countdown_zh

    return countdown_zh.to_chinese(row, script)


WORDING = {
    "en": Wording(task="a math problem",
                  instruction="clearly state the equation within <answer> </answer> tags, i.e., <answer> (1 + 2) / 3 </answer>."),
    "zh-simplified": Wording(task="一道数学题", instruction="请在 <answer> </answer> 标签内清楚地写出等式，例如 <answer> (1 + 2) / 3 </answer>。"),
    "zh-traditional": Wording(task="一道數學題", instruction="請在 <answer> </answer> 標籤內清楚地寫出等式，例如 <answer> (1 + 2) / 3 </answer>。"),
}

DOMAIN = register(
    Domain(
        name="countdown",
        data_sources=("countdown", "cd"),
        verify=verify,
        wording=WORDING,
        difficulty=difficulty,
        gold=gold,
        timeout_s=5.0,
        loaders={"countdown": load_countdown},
        generate=generate,
        knob=Knob("num_count", 2, 12),
        chinese=Chinese(tell=tell_in_chinese, generator=True, generator_script=True),
    )
)
