"""The size guard: refuse expressions whose comparison could run for minutes.

math-verify's own timeouts are signal-based and fail off the main thread, so they are off;
instead every parsed expression is bounded before SymPy compares it: huge powers, power
towers, big factorials and high powers of sums (which SymPy would expand) are refused.
"""

from __future__ import annotations

import math as _math
from typing import Any

MAX_LOG10 = 10_000  # refuse expressions whose value may exceed 10^10000 (no contest answer does)
MAX_SYMBOLIC_POWER = 100  # (x+1)^n with larger n makes SymPy expand for seconds to minutes
MAX_FACTORIAL_LOG10 = 5  # n! for n above 10^5 is refused outright


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

