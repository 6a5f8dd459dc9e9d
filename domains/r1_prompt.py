"""The R1 conversation prompt of the released files, written once for the domains that use it.

The released countdown and zebra files and Logic-RL's K&K file (dcs/countdown, dcs/zebra,
dcs/kk) open with the same R1 system text and differ only in their request sentence, where
the user turn starts, and a doubled space after "tags," in the K&K copy. Each domain builds
its prefix here with :func:`prefix` so those texts stay byte for byte the released ones
(tests compare loaded rows with freshly built prompts). ``conf/template/released.yaml``
holds the same texts as configuration for rows of other sources.
"""

from __future__ import annotations

# "enclosed  within" (two spaces) is in every released copy.
SYSTEM = (
    "A conversation between User and Assistant. The User asks a question, and the Assistant solves it. "
    "The Assistant first thinks about the reasoning process in the mind and then provides the User with the answer. "
    "The reasoning process is enclosed  within <think> </think> and answer is enclosed within <answer> </answer> tags,"
)
FORMAT = "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>."
# The request of the countdown and zebra files (zebra's "a math problem" is the authors' slip, kept).
ANSWER_REQUEST = (
    "Now the user asks you to solve a math problem. After thinking, when you finally reach a conclusion, "
    "clearly state the answer within <answer> </answer> tags. i.e., <answer> </answer>."
)
USER = "\nUser: "
ASSISTANT = "Assistant: <think>"


def prefix(request: str, *, before_request: str = " ", after_tags: str = " ") -> str:
    """The released R1 text up to the question: system text, format sentence, ``request``.

    ``before_request`` separates the format sentence from the request (``USER`` where the
    request opens the user turn, as in Logic-RL's K&K prompt); ``after_tags`` is the space
    after "tags," (two in that K&K copy).
    """
    return f"{SYSTEM}{after_tags}{FORMAT}{before_request}{request}"
