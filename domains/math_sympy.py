"""Parsing with math-verify and comparing in SymPy, with the guards the verifier needs.

Only LaTeX extraction is used (math-verify's plain-expression extractor calls SymPy's
``parse_expr``, which evaluates Python); bare gold strings are wrapped so they parse; only
the one parsed gold is compared with the one parsed prediction; a multi-answer gold needs
all of its answers; an equation chain must agree with the gold on every constant side.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from .math_guard import too_large
from .math_text import _PERCENT

# math-verify warns once per process that its timeout is off; that is deliberate here.
logging.getLogger("math_verify").setLevel(logging.ERROR)


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
