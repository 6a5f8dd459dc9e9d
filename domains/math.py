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

import functools
import logging
import math as _math
import re
from typing import Any, Mapping, Sequence

from . import lang, row_info
from .base import Domain, Row, Verdict, Wording, register
from .io import DataFileError, load_hf, read_records, strip_r1_template, user_text, verl_row

ABILITY = "math"
MAX_CHARS = 1000  # longer "answers" are essays, and math-verify's regexes slow down on them
MAX_LOG10 = 10_000  # refuse expressions whose value may exceed 10^10000 (no contest answer does)
MAX_SYMBOLIC_POWER = 100  # (x+1)^n with larger n makes SymPy expand for seconds to minutes
MAX_FACTORIAL_LOG10 = 5  # n! for n above 10^5 is refused outright
MAX_NESTING = 8  # brackets nested deeper make math-verify's LaTeX parser take seconds per level

# math-verify warns once per process that its timeout is off; that is deliberate here.
logging.getLogger("math_verify").setLevel(logging.ERROR)

HF_SOURCES = {
    "deepscaler": ("agentica-org/DeepScaleR-Preview-Dataset", "train"),
    "math500": ("HuggingFaceH4/MATH-500", "test"),
    "aime24": ("HuggingFaceH4/aime_2024", "train"),
    "amc": ("AI-MO/aimo-validation-amc", "train"),
}


# ---------------------------------------------------------------------------- extraction

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\b")


def last_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` or ``\\fbox{...}`` (nested braces handled).

    ``\\boxed 5`` (no braces, as MATH solutions sometimes write) gives ``5``. Returns None
    when there is no box or its braces never close.
    """
    matches = list(_BOX_RE.finditer(text))
    for m in reversed(matches):
        i = m.end()
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == "{":
            depth = 0
            for j in range(i, len(text)):
                if text[j] == "{" and text[j - 1] != "\\":
                    depth += 1
                elif text[j] == "}" and text[j - 1] != "\\":
                    depth -= 1
                    if depth == 0:
                        return text[i + 1 : j]
            continue  # unclosed: try an earlier box
        if i > m.end():  # "\boxed 5": the next token
            token = re.match(r"[^\s$]+", text[i:])
            if token:
                return token.group(0)
    return None


_DELIMS = [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]


def _strip_delimiters(s: str) -> str:
    s = s.strip()
    changed = True
    while changed:
        changed = False
        for left, right in _DELIMS:
            inner = s[len(left) : len(s) - len(right)]
            # "$5$ or $6$" starts and ends with "$" but is two math spans: leave it whole.
            if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right) and left not in inner:
                s = inner.strip()
                changed = True
    return s.rstrip(".").strip()


# A Chinese answer without a box often reads "答案是 12。" or "最终答案：12": the lead-in words go.
_ZH_LEAD = re.compile(r"^\s*(?:所以|因此|故)?\s*(?:最终|最終)?\s*(?:的)?\s*(?:答案|答)\s*(?:是|为|為)?\s*[:：]?\s*")


def extract(answer: str) -> str:
    """The string compared with the gold: the last box's content, else the whole answer.

    Full-width digits and symbols read as ASCII (``１２`` is ``12``), a trailing ``。`` is
    dropped, and an unboxed answer loses a Chinese lead-in such as ``答案是``.
    """
    answer = lang.halfwidth(answer)
    boxed = last_boxed(answer)
    if boxed is None:
        answer = _ZH_LEAD.sub("", answer, count=1)
    return _strip_delimiters((boxed if boxed is not None else answer).strip().rstrip("。"))


# ---------------------------------------------------------------------------- parsing


def _mv():
    """math-verify, imported lazily so loading the registry stays cheap."""
    import math_verify

    return math_verify


def _parse(text: str) -> list:
    mv = _mv()
    return mv.parse(text, extraction_config=[mv.LatexExtractionConfig()], parsing_timeout=None)


def _first_expr(results: list) -> Any:
    from sympy import Basic
    from sympy.matrices import MatrixBase

    for r in results:
        if isinstance(r, (Basic, MatrixBase)):
            return r
    return None


_PERCENT = re.compile(r"\\?%")


def _parse_expr(text: str) -> Any:
    """The SymPy form of ``text`` or None, trying the wrappers math-verify needs.

    Text with math delimiters or a box is parsed as written first; bare text is wrapped in
    ``\\boxed{}`` and then ``$..$`` (a bare "80" or "\\left(3, \\frac{\\pi}{2}\\right)"
    can otherwise parse to nothing or to its first number).
    """
    text = _PERCENT.sub("", text).strip()  # "20\%" and "20" are one answer; SymPy cannot read "%"
    attempts = [f"\\boxed{{{text}}}", f"${text}$"]
    if any(tok in text for tok in ("$", "\\(", "\\[", "\\boxed", "\\fbox")):
        attempts.insert(0, text)
    for attempt in attempts:
        expr = _first_expr(_parse(attempt))
        if expr is not None:
            return expr
    return None


@functools.lru_cache(maxsize=4096)
def _parse_gold(gold: str) -> tuple[Any, str | None]:
    """(expr or None, refusal reason or None) for a gold string; cached (rollouts share golds)."""
    expr = _parse_expr(gold)
    if expr is None:
        return None, None
    reason = too_large(expr)
    return (None, reason) if reason else (plain_symbols(expr), None)


def plain_symbols(expr: Any) -> Any:
    """``expr`` with every symbol's assumptions dropped.

    The LaTeX parser makes ``i`` in ``9i`` real but ``i`` in ``9 i`` not, and SymPy then
    treats them as different symbols. Call only on size-checked expressions: rebuilding a
    tree lets SymPy evaluate it.
    """
    import sympy

    symbols = getattr(expr, "free_symbols", set())
    mapping = {s: sympy.Symbol(s.name) for s in symbols if isinstance(s, sympy.Symbol) and s.assumptions0}
    if not mapping:
        return expr
    plain = expr.xreplace(mapping)
    # Rebuilding evaluates: Eq(x, Interval) collapses to False. Keep the original then.
    return plain if type(plain) is type(expr) else expr


# ---------------------------------------------------------------------------- size guard


class _TooLarge(Exception):
    pass


def too_large(expr: Any) -> str | None:
    """Why comparing ``expr`` could take unbounded time, or None when it is safe.

    Walks the tree once, bounding log10 of each node's magnitude (symbols count as 1), and
    refuses huge powers, power towers, big factorials and high powers of sums that SymPy
    would expand.
    """
    try:
        _log10_bound(expr, 0)
    except _TooLarge as exc:
        return str(exc)
    except RecursionError:
        return "expression nested too deeply"
    return None


def _log10_bound(node: Any, depth: int) -> float:
    import sympy
    from sympy.matrices import MatrixBase

    if depth > 200:
        raise _TooLarge("expression nested too deeply")
    if isinstance(node, MatrixBase):
        return max((_log10_bound(x, depth + 1) for x in node), default=0.0)
    if not isinstance(node, sympy.Basic):
        return 0.0
    if isinstance(node, sympy.Integer):
        return _int_log10(int(node))
    if isinstance(node, sympy.Rational):
        return max(_int_log10(int(node.p)), _int_log10(int(node.q)))
    if isinstance(node, sympy.Float):
        try:
            return _math.log10(abs(float(node))) if node != 0 else 0.0
        except (OverflowError, ValueError):
            raise _TooLarge("floating-point number out of range") from None
    if isinstance(node, sympy.NumberSymbol):  # pi, E: their size matters in towers like e^{e^{e^{100}}}
        return _math.log10(float(node))
    args = [_log10_bound(a, depth + 1) for a in node.args]
    if isinstance(node, (sympy.exp, sympy.sinh, sympy.cosh)):
        la = max(args, default=0.0)
        if la > 6:
            raise _TooLarge("exponential of a number above 10^6")
        return _check(10**la * 0.4343)
    if isinstance(node, sympy.Pow):
        base, exp = node.args
        lb, le = args
        if le > 6:
            if base.is_Number and abs(base) in (0, 1):
                return 0.0
            raise _TooLarge("power with an exponent above 10^6")
        # The exponent's own value when it is a plain number (1/n! is Pow(n!, -1)), else its bound.
        exp_size = float(abs(exp)) if exp.is_Number else 10**le
        size = exp_size * max(lb, 0.0)
        if base.free_symbols and isinstance(base, sympy.Add) and exp_size > MAX_SYMBOLIC_POWER:
            raise _TooLarge(f"power of a sum with an exponent above {MAX_SYMBOLIC_POWER}")
        return _check(size)
    if isinstance(node, (sympy.factorial, sympy.factorial2, sympy.subfactorial, sympy.gamma, sympy.binomial,
                         sympy.RisingFactorial, sympy.FallingFactorial)):
        la = max(args, default=0.0)
        if la > MAX_FACTORIAL_LOG10:
            raise _TooLarge(f"factorial-like function of a number above 10^{MAX_FACTORIAL_LOG10}")
        return _check(10**la * max(la, 1.0))
    if isinstance(node, sympy.Mul):
        return _check(sum(max(a, 0.0) for a in args))
    if isinstance(node, sympy.Add):
        return _check(max(args, default=0.0) + _math.log10(max(len(args), 1)))
    return max(args, default=0.0)


def _int_log10(v: int) -> float:
    return abs(v).bit_length() * 0.30103


def _check(log10: float) -> float:
    if log10 > MAX_LOG10:
        raise _TooLarge(f"value may exceed 10^{MAX_LOG10}")
    return log10


# ---------------------------------------------------------------------------- comparison


def _norm_text(s: str) -> str:
    """A light textual normal form, for answers SymPy cannot read (percentages, words)."""
    s = re.sub(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}", r"\1", s)
    s = re.sub(r"\\(?:left|right|displaystyle)\b", "", s)
    s = re.sub(r"\\[,;:! ]", "", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("$", "")
    s = _PERCENT.sub("", s)
    s = re.sub(r"\s+", "", s).rstrip(".")
    # Word answers compare case-insensitively; LaTeX is case-sensitive (\Delta vs \delta).
    return s.casefold() if re.fullmatch(r"[A-Za-z()'\- ]+", s) else s


def _nesting(s: str) -> int:
    """Deepest bracket nesting of ``s`` (parentheses, brackets and braces together)."""
    depth = deepest = 0
    for ch in s:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth = max(depth - 1, 0)
    return deepest


def _gold_strings(ground_truth: Any) -> list[str]:
    """Gold answers as strings; a list gives alternatives (any one suffices)."""
    if hasattr(ground_truth, "tolist") and not isinstance(ground_truth, (str, bytes)):
        ground_truth = ground_truth.tolist()
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


def _is_multi(expr: Any) -> int:
    """How many answers a parsed gold lists (a FiniteSet of several, e.g. "find all")."""
    import sympy

    if isinstance(expr, sympy.FiniteSet):
        return len(expr)
    return 1


def _is_collection(expr: Any) -> bool:
    import sympy
    from sympy.matrices import MatrixBase

    return isinstance(expr, (sympy.FiniteSet, sympy.Tuple, sympy.Interval, sympy.Union, sympy.Set, MatrixBase))


def _constant_sides(expr: Any) -> list | None:
    """Sides without variables of an equation or a chain ``x = a = b``; None if not one."""
    import sympy

    eqs = None
    if isinstance(expr, sympy.Eq):
        eqs = [expr]
    elif isinstance(expr, sympy.And) and all(isinstance(a, sympy.Eq) for a in expr.args):
        eqs = list(expr.args)
    if eqs is None:
        return None
    return [side for eq in eqs for side in eq.args if not side.free_symbols]


def _mv_equal(gold: Any, pred: Any, float_rounding: int) -> bool:
    same = _mv().verify([gold], [pred], float_rounding=float_rounding, timeout_seconds=None, raise_on_error=False)
    return bool(same) and not _numerically_distinct(gold, pred, float_rounding)


def _numerically_distinct(gold: Any, pred: Any, float_rounding: int) -> bool:
    """True when two constants differ relatively, though math-verify called them equal.

    math-verify rounds to ``float_rounding`` decimals, so every pair of numbers below
    10^-6 "matches" (2^{-2017} = 3^{-2017}, 9!8!4!/25! = 10!8!4!/25!); a relative check
    catches that. Only size-checked constants reach here, so evaluating them is cheap.
    """
    import sympy

    if not (isinstance(gold, sympy.Expr) and isinstance(pred, sympy.Expr)):
        return False
    if gold.free_symbols or pred.free_symbols:
        return False
    try:
        g, p = sympy.N(gold, 30), sympy.N(pred, 30)
        if not (g.is_number and p.is_number) or g.has(sympy.zoo, sympy.nan) or p.has(sympy.zoo, sympy.nan):
            return False
        scale = sympy.Max(abs(g), abs(p))
        return bool(abs(g - p) > sympy.Float(10) ** (2 - float_rounding) * scale)
    except Exception:  # noqa: BLE001 - undecidable comparisons keep math-verify's answer
        return False


def _compare(gold: Any, pred: Any, float_rounding: int) -> tuple[bool, str]:
    import sympy

    n_gold = _is_multi(gold)
    if n_gold > 1 and not _is_collection(pred):
        return False, f"the gold lists {n_gold} answers; the prediction gives one"
    if not isinstance(gold, (sympy.Eq, sympy.And)):
        consts = _constant_sides(pred)
        if consts:
            # math-verify reads "3 = 5" or "x = 3 = 5" by its last side; every value stated must match.
            for side in consts:
                if too_large(side) or not _mv_equal(gold, side, float_rounding):
                    return False, "an equation in the prediction states a value other than the gold"
            return True, "correct"
    if _mv_equal(gold, pred, float_rounding):
        return True, "correct"
    return False, "not equivalent to the gold answer"


_BASE_RE = re.compile(r"([0-9A-Za-z]+)_\{?(\d+)\}?")


def _base_form(s: str) -> tuple[str, int] | None:
    """(digits, base) of a number written in another base, like ``52_8`` or ``4210_{5}``."""
    m = _BASE_RE.fullmatch(s)
    if not m:
        return None
    digits, base = m.group(1).upper(), int(m.group(2))
    # only a real positional base whose digits all fit: "x_1" is a subscripted name, not
    # the number x in base 1 (which would accept the bare answer "x")
    if not 2 <= base <= 36 or any(int(d, 36) >= base for d in digits):
        return None
    return digits, base


def _compare_base(gold: tuple[str, int], extracted: str) -> tuple[bool, str]:
    norm = _norm_text(extracted)
    pred = _base_form(norm)
    digits, base = pred if pred else (norm.upper(), None)
    if digits != gold[0]:
        return False, f"digits differ from the gold {gold[0]}_{gold[1]}"
    if base is not None and base != gold[1]:
        return False, f"base {base} is not the gold's base {gold[1]}"
    return True, "correct"


def verify(answer: str, ground_truth: Any, extra_info: Mapping | None = None, **options: Any) -> Verdict:
    """Whether ``answer`` (the <answer> content) states the gold answer; never raises.

    Options: ``float_rounding`` (digits, default 6, math-verify's), ``max_chars`` (default
    :data:`MAX_CHARS`). Details: ``extracted`` (the string compared) and ``reason``.
    """
    try:
        rounding = int(options.get("float_rounding", 6))
        return _verify(answer, ground_truth, rounding, int(options.get("max_chars", MAX_CHARS)))
    except Exception as exc:  # noqa: BLE001 - SymPy can raise anything; one item scores 0
        return Verdict.wrong(f"verifier error: {type(exc).__name__}: {str(exc)[:200]}")


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
        info = rec.get("extra_info") if isinstance(rec.get("extra_info"), Mapping) else {}
        try:
            idx = int(info.get("index", i))
        except (TypeError, ValueError):
            idx = i
        rm = rec.get("reward_model")
        if isinstance(rm, Mapping) and rec.get("prompt") is not None:
            prompt_text = user_text(rec["prompt"])
            question = strip_r1_template(prompt_text)
            if isinstance(rec["prompt"], str):
                prompt = [{"role": "user", "content": prompt_text}]
            else:
                prompt = [dict(turn) for turn in rec["prompt"]]
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
