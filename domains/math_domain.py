"""Math: competition answers checked for equivalence with math-verify (0/1).

``verify`` takes the content of the last ``<answer>`` block, compares the last
``\\boxed{}``/``\\fbox{}`` in it (or the whole answer when there is none) with the gold
answer, and returns a :class:`Verdict`. Equivalence is math-verify's (SymPy), with these
guards around it, each from a known failure mode (see shared/PITFALLS.md):

* math-verify's signal-based timeouts are disabled (they fail off the main thread); the
  batch executor bounds the call from outside. Expressions whose evaluation could run for
  minutes (``10^{10^{10}}``, ``(10^8)!``, ``(x+1)^{1000}``) are refused before SymPy
  compares them.
* Only LaTeX extraction is used: math-verify's plain-expression extractor calls SymPy's
  ``parse_expr``, which evaluates Python.
* Bare gold strings are wrapped (``\\boxed{..}``, then ``$..$``) so they parse.
* Only the one parsed gold is compared with the one parsed prediction (math-verify pairs
  every candidate with every candidate); a multi-answer gold ("find all") needs all of its
  answers; a chain like ``x = 3 = 5`` must agree with the gold on every constant side.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from . import row_info
from .base import Domain, Row, Verdict, Wording, register
from .row_io import DataFileError, load_hf, plain, prompt_messages, read_records, record_index
from .row_io import strip_r1_template, user_text, verl_row
from .safe_verify import never_raises

# The parts live in their own modules; their public names stay importable from here.
from .math_guard import MAX_FACTORIAL_LOG10, MAX_LOG10, MAX_SYMBOLIC_POWER, too_large  # noqa: F401
from .math_sympy import _compare, _parse_expr, _parse_gold, plain_symbols  # noqa: F401
from .math_text import _base_form, _compare_base, _nesting, _norm_text, extract, last_boxed  # noqa: F401

ABILITY = "math"
MAX_CHARS = 1000  # longer "answers" are essays, and math-verify's regexes slow down on them
MAX_NESTING = 8  # brackets nested deeper make math-verify's LaTeX parser take seconds per level

HF_SOURCES = {
    "deepscaler": ("agentica-org/DeepScaleR-Preview-Dataset", "train"),
    "math500": ("HuggingFaceH4/MATH-500", "test"),
    "aime24": ("HuggingFaceH4/aime_2024", "train"),
    "amc": ("AI-MO/aimo-validation-amc", "train"),
}


# ---------------------------------------------------------------------------- verifier


def _gold_strings(ground_truth: Any) -> list[str]:
    """Gold answers as strings; a list gives alternatives (any one suffices)."""
    ground_truth = plain(ground_truth)  # parquet gives numpy arrays of alternatives
    if isinstance(ground_truth, Mapping):
        ground_truth = ground_truth.get("answer", ground_truth.get("ground_truth"))
    items = list(ground_truth) if isinstance(ground_truth, (list, tuple)) else [ground_truth]
    out = []
    for g in items:
        if g is None or isinstance(g, bool):
            continue
        if isinstance(g, float) and g.is_integer():
            g = int(g)  # AMC files store 142.0
        g = str(g).strip()
        if g:
            out.append(g)
    return out


@never_raises()  # SymPy can raise almost anything; one item scores 0
def verify(answer: str, ground_truth: Any, extra_info: Mapping | None = None, **options: Any) -> Verdict:
    """Whether ``answer`` (the <answer> content) states the gold answer; never raises.

    Options: ``float_rounding`` (digits, default 6, math-verify's), ``max_chars`` (default
    :data:`MAX_CHARS`). Details: ``extracted`` (the string compared) and ``reason``.
    """
    rounding = int(options.get("float_rounding", 6))
    return _verify(answer, ground_truth, rounding, int(options.get("max_chars", MAX_CHARS)))


def _verify(answer: Any, ground_truth: Any, float_rounding: int, max_chars: int) -> Verdict:
    golds = _gold_strings(ground_truth)
    if not golds:
        return Verdict.wrong("no gold answer")
    if not isinstance(answer, str):
        return Verdict.wrong("answer is not a string")
    if len(answer) > 20 * max_chars:
        return Verdict.wrong(f"answer longer than {20 * max_chars} characters")
    extracted = extract(answer)
    if not extracted:
        return Verdict.wrong("empty answer", extracted=extracted)
    if len(extracted) > max_chars:
        return Verdict.wrong(f"extracted answer longer than {max_chars} characters", extracted=extracted[:200] + "...")
    nesting = _nesting(extracted)
    if nesting > MAX_NESTING:
        return Verdict.wrong(f"brackets nested {nesting} deep (limit {MAX_NESTING})", extracted=extracted)
    pred_norm = _norm_text(extracted)
    # An exact textual match is a sound positive and needs no SymPy at all.
    if any(_norm_text(g) == pred_norm for g in golds):
        return Verdict.right(extracted=extracted, matched="text")
    reason = "gold does not parse"
    sympy_golds = []
    for g in golds:
        base = _base_form(_norm_text(g))
        if base is None:
            sympy_golds.append(g)
            continue
        # math-verify drops subscripts, so "52_9" would equal "52_8": compare digits and base.
        ok, reason = _compare_base(base, extracted)
        if ok:
            return Verdict.right(extracted=extracted, matched="base")
    if not sympy_golds:
        return Verdict.wrong(reason, extracted=extracted)
    pred = _parse_expr(extracted)
    if pred is None:
        return Verdict.wrong("prediction does not parse and does not match the gold text", extracted=extracted)
    refusal = too_large(pred)
    if refusal:
        return Verdict.wrong(f"prediction refused: {refusal}", extracted=extracted)
    pred = plain_symbols(pred)
    for g in sympy_golds:
        gold, gold_refusal = _parse_gold(g)
        if gold is None:
            reason = f"gold refused: {gold_refusal}" if gold_refusal else "gold does not parse"
            continue
        ok, reason = _compare(gold, pred, float_rounding)
        if ok:
            return Verdict.right(extracted=extracted, matched="sympy")
    return Verdict.wrong(reason, extracted=extracted)


# ---------------------------------------------------------------------------- loaders


def _answer_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows(records: Sequence[Mapping], split: str, source: str, keep: Any = None) -> list[Row]:
    """veRL rows from released rows (prompt + reward_model) or raw {problem|question, answer} records.

    ``keep(record) -> bool`` filters; released rows keep their data_source and prompt.
    """
    rows: list[Row] = []
    for i, rec in enumerate(records):
        if keep is not None and not keep(rec):
            continue
        idx = record_index(rec, i)
        rm = rec.get("reward_model")
        if isinstance(rm, Mapping) and rec.get("prompt") is not None:
            question = strip_r1_template(user_text(rec["prompt"]))
            prompt = prompt_messages(rec["prompt"])
            gt = rm.get("ground_truth")
            gt = gt if isinstance(gt, list) else _answer_text(gt)  # a list holds alternative answers
            source_name = str(rec.get("data_source") or source)  # released files keep theirs ("AIME")
            rows.append(verl_row(source_name, question, gt, ABILITY, split, idx, prompt=prompt))
            continue
        question = rec.get("problem") or rec.get("question")
        answer = rec.get("answer")
        if question is None or answer is None:
            raise DataFileError(f"math record {i} has neither a veRL layout nor problem/question + answer fields")
        extra = {k: rec[k] for k in ("id", "year", "url", "level", "subject", "unique_id") if k in rec}
        source_name = str(rec.get("data_source") or source)
        rows.append(verl_row(source_name, str(question).strip(), _answer_text(answer), ABILITY, split, idx, **extra))
    return rows


def _records(path: str | None, name: str) -> list[dict]:
    if path:
        return read_records(path)
    dataset, hf_split = HF_SOURCES[name]
    return load_hf(dataset, hf_split)


def _source_is(*names: str):
    wanted = {n.lower() for n in names}

    def keep(rec: Mapping) -> bool:
        src = rec.get("data_source")
        return src is None or str(src).lower() in wanted

    return keep


def load_deepscaler(path: str | None = None, split: str = "test") -> list[Row]:
    """DeepScaleR rows: the released dcs/deepscaler parquet (any data_source kept), or the hub."""
    return _rows(_records(path, "deepscaler"), split, "deepscaler")


def load_math500(path: str | None = None, split: str = "test") -> list[Row]:
    """MATH500: rows with data_source math500 of the released test parquet, or a MATH500 JSONL."""
    return _rows(_records(path, "math500"), split, "math500", keep=_source_is("math500"))


def load_aime24(path: str | None = None, split: str = "test") -> list[Row]:
    """AIME 2024: the released test parquet's AIME rows, or an AIME JSONL filtered to year 2024."""

    def keep(rec: Mapping) -> bool:
        if rec.get("year") is not None:
            return int(rec["year"]) == 2024
        return _source_is("aime", "aime24", "aime2024")(rec)

    return _rows(_records(path, "aime24"), split, "aime24", keep=keep)


def load_amc(path: str | None = None, split: str = "test") -> list[Row]:
    """AMC (Logic-RL's logic_rl_math_eval/amc.jsonl, 83 problems), or the hub copy."""
    return _rows(_records(path, "amc"), split, "amc")


def difficulty(row: Row) -> float:
    """The MATH level the row records ("Level 3" -> 3); 0 for sets without levels (AIME, DSR)."""
    return row_info.number(row_info.info(row).get("level")) or 0.0


def gold(row: Row) -> str | None:
    """``\\boxed{answer}``: the form the answer instruction asks for."""
    gt = row_info.ground_truth(row)
    return f"\\boxed{{{gt}}}" if isinstance(gt, str) else None


# identity_slip: the released math prompts ask to "state the identity of each character"
# (a copy-paste slip from the KK prompt); template.instruction_variants.math=identity_slip
# reproduces it, off by default.
WORDING = {
    "en": Wording(
        task="a math reasoning problem",
        instruction="clearly state the final answer within <answer> </answer> tags, as \\boxed{...}.",
        variants={"identity_slip": "clearly state the identity of each character within <answer> </answer> tags."},
    ),
    "zh-simplified": Wording(
        task="一道数学推理题",
        instruction="请在 <answer> </answer> 标签内清楚地给出最终答案，写成 \\boxed{...}。",
        variants={"identity_slip": "请在 <answer> </answer> 标签内清楚地说明每个角色的身份。"},
    ),
    "zh-traditional": Wording(
        task="一道數學推理題",
        instruction="請在 <answer> </answer> 標籤內清楚地給出最終答案，寫成 \\boxed{...}。",
        variants={"identity_slip": "請在 <answer> </answer> 標籤內清楚地說明每個角色的身份。"},
    ),
}

DOMAIN = register(
    Domain(
        name="math",
        data_sources=("deepscaler", "dsr", "math500", "math", "aime", "aime24", "aime2024", "amc"),
        verify=verify,
        wording=WORDING,
        difficulty=difficulty,
        gold=gold,
        timeout_s=10.0,
        loaders={"deepscaler": load_deepscaler, "math500": load_math500, "aime24": load_aime24, "amc": load_amc},
    )
)
