"""Generated zebra puzzles: a random solution grid, random true clues until it is the only one.

Uniqueness is checked by :class:`~mdrl.domains.lpb_solver.GridSolver`; the clues are then
pruned to a minimal set and told in ZebraLogicBench's English phrasing (the Chinese
phrasing lives in :mod:`mdrl.domains.lpb_zh` and reuses :func:`clue_text` with its own
sentences).
"""

from __future__ import annotations

import json
import random
from typing import Any, Callable, Mapping, Sequence

from .base import Row
from .row_io import prompt_messages, verl_row
from .lpb_format import ABILITY, question_text, r1_prompt
from .lpb_solver import GridSolver

# (JSON key, intro line as in ZebraLogicBench, noun phrase for "{v}", values)
CATEGORIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Name", "Each person has a unique name", "{v}",
     ("Alice", "Bob", "Carol", "Eric", "Peter", "Arnold", "Zoe", "Tim")),
    ("Nationality", "Each person has a unique nationality", "the {v}",
     ("Brit", "Dane", "German", "Swede", "Norwegian", "Spaniard", "Italian", "Canadian")),
    ("Color", "Each person has a unique favorite color", "the person who loves {v}",
     ("red", "green", "blue", "yellow", "white", "purple", "orange", "black")),
    ("Pet", "Each person keeps a unique pet", "the {v} owner",
     ("cat", "dog", "bird", "fish", "horse", "rabbit", "hamster", "turtle")),
    ("Drink", "Each person has a unique favorite drink", "the person who drinks {v}",
     ("tea", "coffee", "milk", "water", "juice", "soda", "cocoa", "lemonade")),
    ("Food", "Each person has a unique favorite food", "the person who eats {v}",
     ("pizza", "stew", "sushi", "tacos", "curry", "salad", "pasta", "soup")),
    ("Hobby", "Each person has a unique hobby", "the person who enjoys {v}",
     ("painting", "gardening", "chess", "knitting", "cooking", "hiking", "photography", "fishing")),
    ("Sport", "Each person plays a unique sport", "the person who plays {v}",
     ("soccer", "tennis", "basketball", "golf", "baseball", "volleyball", "cricket", "hockey")),
    ("Car", "Each person drives a unique car brand", "the {v} driver",
     ("Toyota", "Ford", "Honda", "BMW", "Tesla", "Audi", "Kia", "Volvo")),
    ("Flower", "Each person grows a unique flower", "the person who grows {v}",
     ("roses", "tulips", "lilies", "daisies", "orchids", "carnations", "sunflowers", "irises")),
    ("Music", "Each person has a unique favorite music genre", "the {v} fan",
     ("jazz", "rock", "pop", "classical", "hip hop", "country", "blues", "reggae")),
    ("BookGenre", "Each person reads a unique favorite book genre", "the person who reads {v} books",
     ("mystery", "fantasy", "romance", "biography", "science fiction", "history", "poetry", "horror")),
    ("Occupation", "Each person has a unique occupation", "the {v}",
     ("doctor", "teacher", "engineer", "artist", "lawyer", "nurse", "chef", "pilot")),
)
_BY_KEY = {c[0]: c for c in CATEGORIES}
MAX_HOUSES = 8
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")
# How often each clue kind is drawn: same-house clues carry the most information per clue,
# positional ones make the puzzle a zebra puzzle rather than a matching grid.
CLUE_WEIGHTS = {
    "same": 5, "not_same": 2, "at": 2, "not_at": 1, "left_of": 2, "right_of": 1,
    "directly_left": 2, "next_to": 2, "one_between": 1,
}


# One sentence per clue kind, in ZebraLogicBench's English phrasing: {a} and {b} are the
# attributes' noun phrases, {house} the house's word ("first"). Another language passes
# its own table to clue_text.
CLUE_SENTENCES = {
    "at": "{a} is in the {house} house.",
    "not_at": "{a} is not in the {house} house.",
    "same": "{a} is {b}.",
    "not_same": "{a} is not {b}.",
    "left_of": "{a} is somewhere to the left of {b}.",
    "right_of": "{a} is somewhere to the right of {b}.",
    "directly_left": "{a} is directly left of {b}.",
    "directly_right": "{a} is directly right of {b}.",
    "next_to": "{a} and {b} are next to each other.",
    "one_between": "There is one house between {a} and {b}.",
}


def _phrase(attr: Sequence[str]) -> str:
    return _BY_KEY[attr[0]][2].format(v=attr[1])


def _ordinal(house: int) -> str:
    return ORDINALS[house - 1]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def clue_text(
    clue: Sequence,
    sentences: Mapping[str, str] = CLUE_SENTENCES,
    phrase: Callable[[Sequence[str]], str] = _phrase,
    house_word: Callable[[int], str] = _ordinal,
) -> str:
    """One clue as a sentence, in ZebraLogicBench's English phrasing by default.

    ``sentences`` (kind -> sentence with {a}, {b}, {house}), ``phrase`` ([category, value]
    -> noun phrase) and ``house_word`` (1-based house -> word) tell it in another language;
    the first letter is capitalised, which leaves scripts without case alone.
    """
    kind = clue[0]
    a = phrase(clue[1])
    if kind in ("at", "not_at"):
        return _cap(sentences[kind].format(a=a, house=house_word(clue[2])))
    return _cap(sentences[kind].format(a=a, b=phrase(clue[2])))


def puzzle_text(values: Mapping[str, Sequence[str]], clues: Sequence[Sequence], houses: int) -> str:
    """The puzzle in ZebraLogicBench's layout (intro, characteristics, numbered clues)."""
    lines = [
        f"There are {houses} houses, numbered 1 to {houses} from left to right, as seen from across the street. "
        "Each house is occupied by a different person. Each house has a unique attribute for each of the "
        "following characteristics:"
    ]
    for cat, vals in values.items():
        lines.append(f" - {_BY_KEY[cat][1]}: " + ", ".join(f"`{v}`" for v in vals))
    lines.append("")
    lines.append("## Clues:")
    lines.extend(f"{i}. {clue_text(c)}" for i, c in enumerate(clues, 1))
    return "\n".join(lines)


def _random_clue(rng: random.Random, grid: Sequence[Mapping[str, str]], cats: Sequence[str]) -> list:
    """One clue true of ``grid`` (houses 0-based in the list, 1-based in the clue)."""
    n = len(grid)
    kinds = [k for k in CLUE_WEIGHTS if not (k in ("same", "not_same") and len(cats) < 2)
             and not (k in ("directly_left", "next_to", "left_of", "right_of") and n < 2)
             and not (k == "one_between" and n < 3) and not (k == "not_at" and n < 2)]
    kind = rng.choices(kinds, weights=[CLUE_WEIGHTS[k] for k in kinds])[0]

    def attr(h: int, cat: str | None = None) -> list[str]:
        c = cat or rng.choice(cats)
        return [c, grid[h][c]]

    if kind == "at":
        h = rng.randrange(n)
        return ["at", attr(h), h + 1]
    if kind == "not_at":
        h = rng.randrange(n)
        k = rng.choice([p for p in range(n) if p != h])
        return ["not_at", attr(h), k + 1]
    if kind == "same":
        h = rng.randrange(n)
        c1, c2 = rng.sample(list(cats), 2)
        return ["same", attr(h, c1), attr(h, c2)]
    if kind == "not_same":
        h1, h2 = rng.sample(range(n), 2)
        c1, c2 = rng.sample(list(cats), 2)
        return ["not_same", attr(h1, c1), attr(h2, c2)]
    if kind in ("left_of", "right_of"):
        h1, h2 = sorted(rng.sample(range(n), 2))
        if kind == "right_of":
            h1, h2 = h2, h1
        return [kind, attr(h1), attr(h2)]
    if kind == "directly_left":
        h = rng.randrange(n - 1)
        return ["directly_left", attr(h), attr(h + 1)]
    if kind == "next_to":
        h = rng.randrange(n - 1)
        pair = [attr(h), attr(h + 1)]
        rng.shuffle(pair)
        return ["next_to", *pair]
    h = rng.randrange(n - 2)
    pair = [attr(h), attr(h + 2)]
    rng.shuffle(pair)
    return ["one_between", *pair]


def make_puzzle(rng: random.Random, houses: int, categories: int, max_clues: int = 400) -> dict[str, Any]:
    """One uniquely solvable grid puzzle: {values, grid, clues} (clues minimal: none redundant).

    A random solution grid is drawn; random true clues are added until the solver finds
    exactly one solution, then every clue whose removal keeps the solution unique is dropped.
    """
    chosen = ["Name"] + rng.sample([c[0] for c in CATEGORIES[1:]], categories - 1)
    values = {c: sorted(rng.sample(_BY_KEY[c][3], houses), key=_BY_KEY[c][3].index) for c in chosen}
    perms = {c: rng.sample(values[c], houses) for c in chosen}
    grid = [{c: perms[c][h] for c in chosen} for h in range(houses)]
    solver = GridSolver(values, houses)
    clues: list[list] = []
    seen: set[str] = set()
    while solver.count(clues) > 1:
        if len(clues) >= max_clues:
            raise RuntimeError("clue budget exhausted before the solution became unique")
        clue = _random_clue(rng, grid, chosen)
        key = json.dumps(clue)
        if key in seen:
            continue
        seen.add(key)
        clues.append(clue)
    for clue in rng.sample(clues, len(clues)):  # prune in random order
        rest = [c for c in clues if c is not clue]
        if solver.count(rest) == 1:
            clues = rest
    rng.shuffle(clues)
    return {"values": values, "grid": grid, "clues": clues}


def generate(
    n: int,
    seed: int = 0,
    houses: int = 3,
    categories: int = 3,
    split: str = "train",
    language: str = "en",
) -> list[Row]:
    """``n`` zebra grid puzzles with a unique solution each, deterministic in ``seed``.

    ``houses`` (2..8) and ``categories`` (1..13) set the size; ``houses`` is the main
    difficulty knob. Rows use the released zebra prompt and house-keyed scoring; the clues
    are kept in ``extra_info.clues`` as JSON text of [kind, [category, value], ...] lists so
    the uniqueness can be re-checked. Row i depends only on (seed, i, sizes).
    ``language="zh"`` tells the same puzzles in Chinese (:mod:`mdrl.domains.lpb_zh`).
    """
    if language != "en":
        from . import lpb_zh

        if language != "zh":
            raise ValueError(f"language must be en or zh, got {language!r}")
        return lpb_zh.generate(n, seed=seed, houses=houses, categories=categories, split=split)
    if n < 0:
        raise ValueError("n must be >= 0")
    houses, categories = int(houses), int(categories)
    if not 2 <= houses <= MAX_HOUSES:
        raise ValueError(f"houses must be between 2 and {MAX_HOUSES}, got {houses}")
    if not 1 <= categories <= len(CATEGORIES):
        raise ValueError(f"categories must be between 1 and {len(CATEGORIES)}, got {categories}")
    rows: list[Row] = []
    for i in range(n):
        rng = random.Random(f"lpb-{seed}-{houses}-{categories}-{i}")
        p = make_puzzle(rng, houses, categories)
        cats = list(p["values"])
        gold = {f"House {h + 1}": dict(row) for h, row in enumerate(p["grid"])}
        puzzle = puzzle_text(p["values"], p["clues"], houses)
        question = question_text(puzzle, houses, cats)
        rows.append(
            verl_row(
                "zebra",
                question,
                json.dumps(gold),
                ABILITY,
                split,
                i,
                prompt=prompt_messages(r1_prompt(question)),
                puzzle=puzzle,
                categories=cats,
                values=[list(p["values"][c]) for c in cats],
                clues=json.dumps(p["clues"]),  # JSON text: parquet cannot hold mixed-type lists
                houses=houses,
                row_order="house",
                seed=seed,
            )
        )
    return rows


