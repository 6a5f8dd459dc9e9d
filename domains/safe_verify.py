"""The never-raise rule of every verifier, written once as a decorator.

A verifier scores one model answer against one row's ground truth; a malformed row or an
answer that trips a library (SymPy raises almost anything) must cost that one item, never
the batch or the training step. :func:`never_raises` wraps a domain's ``verify`` so any
exception becomes a wrong :class:`Verdict` naming it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Callable, Mapping

from .base import Verdict

VerifyFn = Callable[..., Verdict]


def never_raises(**empty_details: Any) -> Callable[[VerifyFn], VerifyFn]:
    """Decorator for ``verify(answer, ground_truth, extra_info=None, **options)``: errors become wrong verdicts.

    ``empty_details`` are the details the domain's wrong verdicts always carry (``right=0,
    total=0``, ``parsed={}``...), so a verifier error reads like any other wrong verdict;
    the reason is ``"verifier error: <type>: <message, first 200 characters>"``.
    """

    def decorate(verify: VerifyFn) -> VerifyFn:
        @functools.wraps(verify)
        def safe_verify(answer: Any, ground_truth: Any, extra_info: Mapping | None = None, **options: Any) -> Verdict:
            try:
                return verify(answer, ground_truth, extra_info, **options)
            except Exception as exc:  # noqa: BLE001 - a malformed row costs one item, never the batch
                reason = f"verifier error: {type(exc).__name__}: {str(exc)[:200]}"
                return Verdict.wrong(reason, **copy.deepcopy(empty_details))

        return safe_verify

    return decorate
