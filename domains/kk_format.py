"""The released K&K row layout: tags, role words, the Logic-RL R1 prompt and the gold text.

Loaders and the generator both build rows in this layout, so it sits below them.
"""

from __future__ import annotations

from typing import Sequence

from . import r1_prompt as r1

ABILITY = "logic"
DATA_SOURCE = "kk_logic"  # what the released files carry

# Truth-teller / liar word pairs of the K&K generator family (reasoning-gym's list); the gold's
# words pick the pair an answer must use, so "saint/sinner" puzzles score the same way.
ROLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("knight", "knave"),
    ("pioneer", "laggard"),
    ("saint", "sinner"),
    ("hero", "villain"),
    ("angel", "devil"),
    ("altruist", "egoist"),
    ("sage", "fool"),
)

# The Logic-RL "base" (R1) prompt of dcs/kk/test.parquet, verbatim (double spaces included):
# its request opens the user turn and ends with "New question:".
REQUEST = (
    "Now the user asks you to solve a logical reasoning problem. After thinking, when you finally reach a "
    "conclusion, clearly state the identity of each character within <answer> </answer> tags. List the identity of "
    "each person one by one, for example, <answer> (1) Zoey is a knight\n(2) Oliver is a knight\n(3)... </answer>. "
    "\nNew question: \n"
)
R1_PREFIX = r1.prefix(REQUEST, before_request=r1.USER, after_tags="  ")
R1_SUFFIX = "\n" + r1.ASSISTANT


def r1_prompt(quiz: str) -> str:
    """``quiz`` inside the Logic-RL base template used by dcs/kk/test.parquet."""
    return f"{R1_PREFIX}{quiz}{R1_SUFFIX}"


def solution_text_format(names: Sequence[str], knights: Sequence[bool], pair: tuple[str, str] = ROLE_PAIRS[0]) -> str:
    """The released gold layout: ``(1) Name is a knight`` lines."""
    return "\n".join(
        f"({i}) {n} is {'an' if (pair[0] if k else pair[1])[0] in 'aeiou' else 'a'} {pair[0] if k else pair[1]}"
        for i, (n, k) in enumerate(zip(names, knights), 1)
    )
