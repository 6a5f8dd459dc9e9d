"""The released zebra row layout: ability tag, R1 prompt and the question with its JSON skeleton.

Loaders and the generator both build rows in this layout, so it sits below them.
"""

from __future__ import annotations

import json
from typing import Sequence

from . import r1_prompt as r1

ABILITY = "Puzzle"  # what the released zebra files carry

# The released zebra prompt (dcs/zebra/*.parquet), verbatim: no "User:" turn, and its task
# sentence says "a math problem" (a copy-paste slip kept for faithful reproduction).
R1_PREFIX = r1.prefix(r1.ANSWER_REQUEST) + "\n\n"
R1_SUFFIX = "\n\n" + r1.ASSISTANT
PUZZLE_HEADER = "# Puzzle to Solve \n\n"
INSTRUCTION = (
    "# Instruction\n\nNow please solve the above puzzle. "
    "Present your reasoning and solution in the following json format:\n\n"
)


def json_template(houses: int, categories: Sequence[str]) -> str:
    """The answer skeleton the released prompts show (``"___"`` placeholders)."""
    sol = {f"House {h}": {c: "___" for c in categories} for h in range(1, houses + 1)}
    return json.dumps({"reasoning": "___", "solution": sol})


def question_text(puzzle: str, houses: int, categories: Sequence[str]) -> str:
    """The released question layout: puzzle, then the instruction with the JSON skeleton."""
    return f"{PUZZLE_HEADER}{puzzle.strip()}\n\n{INSTRUCTION}{json_template(houses, categories)}"


def r1_prompt(question: str) -> str:
    """``question`` inside the released zebra R1 template."""
    return f"{R1_PREFIX}{question}{R1_SUFFIX}"

