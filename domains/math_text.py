"""Math answers as text: the boxed answer, delimiters, a light normal form, numbers in other bases.

What :func:`~mdrl.domains.math_domain.verify` does before (and instead of) SymPy: find the string
to compare (:func:`extract`), compare it textually (:func:`_norm_text`), refuse deep
nesting (:func:`_nesting`), and compare numbers written in another base digit by digit
(math-verify drops subscripts, so ``52_9`` would equal ``52_8``).
"""

from __future__ import annotations

import re

from . import lang

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


_PERCENT = re.compile(r"\\?%")


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

