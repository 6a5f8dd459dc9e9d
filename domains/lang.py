"""Text normalisation shared by the verifiers for answers written in Chinese.

Chinese keyboards produce full-width forms (``１２＋３``, ``（``, ``：``, ``＝``) and the
ideographic space; a model trained on Chinese data writes them too. :func:`halfwidth`
maps exactly those to ASCII and leaves everything else alone.

Why not plain NFKC: NFKC also folds ``²`` to ``2``, ``①`` to ``1``, ``½`` to ``1⁄2`` and
ligatures, which would turn a wrong countdown or math answer ("2²") into a different,
possibly right one. The full-width block U+FF01..U+FF5E is a one-to-one copy of ASCII
U+0021..U+007E, so mapping it changes no meaning; that is the "safe part" of NFKC used here.
"""

from __future__ import annotations

import re

# U+FF01..U+FF5E are ASCII 0x21..0x7E shifted by 0xFEE0; U+3000 is the ideographic space.
_HALFWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALFWIDTH[0x3000] = 0x20

# Chinese numerals for small counts ("第三间房子"); 1..99 is enough for houses and people.
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"^(?:([一二两兩三四五六七八九])?十)?([一二两兩三四五六七八九])?$")

# The traditional forms of the characters our role and house words use, and their simplified ones.
_TRAD = str.maketrans({"騎": "骑", "騙": "骗", "號": "号", "間": "间", "棟": "栋", "個": "个", "為": "为",
                       "誠": "诚", "實": "实", "說": "说", "謊": "谎", "無": "无", "賴": "赖", "應": "应",
                       "該": "该", "並": "并"})


def halfwidth(text: str) -> str:
    """``text`` with full-width ASCII forms and the ideographic space mapped to ASCII."""
    return text.translate(_HALFWIDTH)


def simplified(text: str) -> str:
    """``text`` with the traditional characters of our role/house vocabulary simplified."""
    return text.translate(_TRAD)


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph (the common Chinese characters)."""
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def has_cjk(text: str) -> bool:
    """True when ``text`` holds at least one Chinese character."""
    return any(is_cjk(ch) for ch in text)


def cn_number(text: str) -> int | None:
    """The value of a small number written in ASCII/full-width digits or Chinese numerals (1..99).

    ``"3"``, ``"３"``, ``"三"``, ``"十二"``, ``"二十"`` read as numbers; anything else gives None.
    """
    t = halfwidth(text).strip()
    if t.isascii() and t.isdigit():
        return int(t) if len(t) <= 4 else None
    if not t:
        return None
    m = _CN_NUMBER.match(t)
    if not m:
        return None
    if "十" not in t:
        return _CN_DIGITS[t] if len(t) == 1 else None
    tens = _CN_DIGITS[m.group(1)] if m.group(1) else 1
    ones = _CN_DIGITS[m.group(2)] if m.group(2) else 0
    return tens * 10 + ones
