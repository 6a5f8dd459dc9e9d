"""Generated K&K puzzles: reasoning-gym's statement sampler, a unique solution, the released wording.

Statements come from reasoning-gym's K&K sampler (the mem-kk-logic one); a puzzle is kept
when :func:`~mdrl.domains.kk_logic.solve` finds exactly one assignment, and is told in the
released quizzes' English. :func:`say` phrases a statement from a :class:`Phrases` table,
so :mod:`mdrl.domains.kk_zh` tells the same statements in Chinese with its own table.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any, Sequence

from .base import Row
from .row_io import prompt_messages, verl_row
from .kk_format import ABILITY, DATA_SOURCE, r1_prompt, solution_text_format
from .kk_logic import parse_statements, solve

# mem-kk-logic's names and statement phrasings (the ones in the released quizzes).
NAMES = (
    "Emma Liam Olivia Noah Ava Ethan Sophia Mason Isabella William Mia James Charlotte Benjamin Amelia Lucas "
    "Harper Henry Evelyn Alexander Abigail Michael Emily Daniel Elizabeth Jacob Sofia Logan Avery Jackson Ella "
    "Sebastian Scarlett Jack Grace Aiden Chloe Owen Victoria Samuel Riley Matthew Aria Joseph Lily Luke Aurora "
    "David Zoey Oliver Penelope"
).split()
TEMPLATES = (
    "{name} said that {content}.",
    "{name} told you that {content}.",
    '{name} said, "{content}."',
    '{name} stated, "{content}".',
    'According to {name}, "{content}".',
    "In {name}'s words: \"{content}\".",
    '{name} remarked, "{content}".',
    '"{content}," {name} declared.',
    '{name} was heard saying, "{content}".',
    "{name} expressed that {content}.",
    '"{content}" - {name}.',
    'As {name} put it, "{content}".',
    '{name} asserted: "{content}".',
    '"{content}," {name} mentioned.',
    '{name} commented, "{content}".',
    'In a statement by {name}: "{content}".',
    '{name} noted, "{content}".',
    '"{content}," {name} claimed.',
)


@dataclasses.dataclass(frozen=True)
class Phrases:
    """How one language says a statement: templates over {name}/{role}, {s}, {a}/{b}."""

    roles: tuple[str, str]  # (knight, knave)
    is_: str = "{name} is a {role}"
    is_not: str = "{name} is not a {role}"
    not_: str = "it is not the case that ({s})"  # negation of a compound statement
    group: str = "({s})"  # a compound part inside a larger statement
    and_: str = " and "
    or_: str = " or "
    implies: str = "if {a} then {b}"
    implies_top: str = "If {a} then {b}"  # a whole statement starts with a capital
    iff: str = "{a} if and only if {b}"


ENGLISH = Phrases(roles=("knight", "knave"))
_ATOMS = ("telling-truth", "lying")


def say(stmt: Sequence, names: Sequence[str], phrases: Phrases = ENGLISH, top: bool = True) -> str:
    """One statement tuple in words, phrased like the released quizzes by default (depth 2 reads the same)."""
    op = stmt[0]
    if op in _ATOMS:
        return phrases.is_.format(name=names[stmt[1]], role=phrases.roles[op != "telling-truth"])
    if op == "not":
        inner = stmt[1]
        if inner[0] in _ATOMS:
            return phrases.is_not.format(name=names[inner[1]], role=phrases.roles[inner[0] != "telling-truth"])
        return phrases.not_.format(s=say(inner, names, phrases, False))
    parts = [say(s, names, phrases, False) if s[0] in (*_ATOMS, "not")
             else phrases.group.format(s=say(s, names, phrases, False)) for s in stmt[1:]]
    if op == "and":
        return phrases.and_.join(parts)
    if op == "or":
        return phrases.or_.join(parts)
    if op == "->":
        return (phrases.implies_top if top else phrases.implies).format(a=parts[0], b=parts[1])
    if op == "<=>":
        return phrases.iff.format(a=parts[0], b=parts[1])
    raise ValueError(f"unknown statement operator {op!r}")


def _say(stmt: Sequence, names: Sequence[str], top: bool = True) -> str:
    """English for one statement (:func:`say` with the English phrases)."""
    return say(stmt, names, ENGLISH, top)


def quiz_text(statements: Any, names: Sequence[str], rng: random.Random) -> str:
    """The quiz in the released wording, one random template per speaker."""
    stmts = parse_statements(statements)
    n = len(names)
    listing = names[0] if n == 1 else ", ".join(names[:-1]) + ", and " + names[-1]
    text = (
        "A very special island is inhabited only by knights and knaves. Knights always tell the truth, "
        f"and knaves always lie. You meet {n} inhabitants: {listing}."
    )
    for i, stmt in enumerate(stmts):
        text += " " + rng.choice(TEMPLATES).format(name=names[i], content=_say(stmt, names))
    return text + " So who is a knight and who is a knave?"


def _sampler(rng: random.Random, n_people: int, depth: int, width: int) -> Any:
    """reasoning-gym's K&K statement sampler (the mem-kk-logic one), seeded from ``rng``."""
    from reasoning_gym.logic.knights_knaves import KKProblemSampler

    return KKProblemSampler(rng.randrange(2**32), n_people, depth_constraint=depth, width_constraint=width)



def _draw(sampler: Any, seen: set[tuple], num_people: int, max_tries: int, repeat_patience: int) -> tuple[tuple, tuple]:
    """(statements, the one solution) of a uniquely solvable puzzle not in ``seen`` if one turns up.

    After ``repeat_patience`` draws that only find used statement sets, a used one is taken.
    """
    repeats = 0
    for _ in range(max_tries):
        stmts = sampler.sample()
        sols = solve(stmts, limit=2)
        if len(sols) != 1:
            continue
        if stmts not in seen:
            return stmts, sols[0]
        repeats += 1
        if repeats >= repeat_patience:
            return stmts, sols[0]
    raise ValueError(f"no uniquely solvable {num_people}-person puzzle found in {max_tries} draws")


def _generated_row(stmts: tuple, knights: Sequence[bool], rng: random.Random, split: str, index: int, seed: int) -> Row:
    """A drawn puzzle told with names drawn from ``rng``, as a row with the Logic-RL prompt."""
    names = rng.sample(NAMES, len(stmts))
    quiz = quiz_text(stmts, names, rng)
    truth = {"solution_text_format": solution_text_format(names, knights), "statements": repr(stmts)}
    return verl_row(
        DATA_SOURCE,
        quiz,
        truth,
        ABILITY,
        split,
        index,
        prompt=prompt_messages(r1_prompt(quiz)),
        names=names,
        knights=list(knights),
        num_people=len(stmts),
        seed=seed,
    )


def generate(
    n: int,
    seed: int = 0,
    num_people: int = 3,
    split: str = "train",
    depth: int = 2,
    width: int = 2,
    max_tries: int = 5000,
    repeat_patience: int = 50,
    language: str = "en",
    script: str = "simplified",
) -> list[Row]:
    """``n`` K&K puzzles with exactly one solution each, deterministic in ``seed``.

    ``num_people`` (2..8) is the difficulty knob. Statements come from reasoning-gym's
    sampler (depth/width 2, like the released sets); reasoning-gym's own dataset class is
    not used as is because it mixes in other role words (saint/sinner, ...) and appends a
    format hint, so the quiz is phrased here in the released wording. Uniqueness of the
    solution is checked by :func:`solve`. Statement sets do not repeat within a call until
    they run out (2 people allow only a few hundred): after ``repeat_patience`` draws that
    only find used ones, a used set is taken again under new names. A longer call extends
    a shorter one with the same seed. ``language="zh"`` tells the same puzzles in Chinese
    (:mod:`mdrl.domains.kk_zh`; ``script`` simplified or traditional).
    """
    if language != "en":
        from . import kk_zh

        if language != "zh":
            raise ValueError(f"language must be en or zh, got {language!r}")
        return kk_zh.generate(n, seed=seed, num_people=num_people, split=split, script=script, depth=depth,
                              width=width, max_tries=max_tries, repeat_patience=repeat_patience)
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 2 <= int(num_people) <= 8:
        raise ValueError(f"num_people must be between 2 and 8, got {num_people!r}")
    num_people = int(num_people)
    rows: list[Row] = []
    seen: set[tuple] = set()
    for i in range(n):
        rng = random.Random(f"kk-{seed}-{i}")
        stmts, knights = _draw(_sampler(rng, num_people, depth, width), seen, num_people, max_tries, repeat_patience)
        seen.add(stmts)
        rows.append(_generated_row(stmts, knights, rng, split, i, seed))
    return rows
