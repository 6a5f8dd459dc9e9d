"""Pulling the answer out of a model response, and checking the response's shape.

These rules are shared by every domain so that a reward means the same thing whichever
verifier produced it.
"""

from __future__ import annotations

import re

# Responses longer than this are judged on their tail only; a model that writes megabytes
# still gets an answer, and no regex ever runs over unbounded text.
MAX_RESPONSE_CHARS = 200_000

_OPEN, _CLOSE = "<answer>", "</answer>"
# The leading whitespace belongs to the optional "<think>" opener: as a separate "\s*" it
# could also be matched by the think group, and a failing match retried every split of a
# run of blanks (quadratic: 20,000 spaces took 12 s, 200,000 would take 20 minutes).
_THINK_ANSWER = re.compile(
    r"\A(?:\s*<think>)?(?P<think>(?:(?!</?think>|</?answer>).)*)</think>\s*"
    r"<answer>(?P<answer>(?:(?!</?think>|</?answer>).)*)</answer>\s*\Z",
    re.DOTALL,
)


def clip(response: str) -> str:
    """The response, cut to its last MAX_RESPONSE_CHARS characters."""
    return response if len(response) <= MAX_RESPONSE_CHARS else response[-MAX_RESPONSE_CHARS:]


def extract_answer(response: str) -> str | None:
    """Content of the last ``<answer>...</answer>`` block, or None when there is none.

    The last block wins because models often restate the tag in their reasoning
    ("I will put it in <answer></answer>") before giving the real one.
    """
    if not isinstance(response, str):
        return None
    text = clip(response)
    end = text.rfind(_CLOSE)
    if end < 0:
        return None
    start = text.rfind(_OPEN, 0, end)
    if start < 0:
        return None
    return text[start + len(_OPEN) : end].strip()


def is_well_formed(response: str, require_think_open: bool = False) -> bool:
    """True for exactly ``<think>...</think><answer>...</answer>`` and nothing after.

    The opening ``<think>`` may be missing unless ``require_think_open``: R1-style prompts
    end with "Assistant: <think>", so the model's text starts inside the think block.
    """
    if not isinstance(response, str) or len(response) > MAX_RESPONSE_CHARS:
        return False
    if require_think_open and not response.lstrip().startswith("<think>"):
        return False
    m = _THINK_ANSWER.match(response)
    return bool(m and m.group("answer").strip())
