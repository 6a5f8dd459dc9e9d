"""A solution counter for logic grid puzzles (the generator's uniqueness check).

Clue kinds: unary ("at", x, k), ("not_at", x, k) with k a 1-based house; binary (kind, x, y)
for the keys of ``_SUPPORT`` ("same", "left_of", "next_to", ...); x and y are [category,
value]. :class:`GridSolver` counts solutions by propagation plus search; :func:`clue_holds`
checks one clue against a full assignment (the brute-force oracle the tests compare the
solver with). Kept apart from the generator and the verifier, as reasoning-gym keeps its
zebra solver in a module of its own.
"""

from __future__ import annotations

from typing import Mapping, Sequence


def _right_of_support(m: int, full: int) -> int:
    """Positions strictly right of the leftmost possible position of y."""
    return full & ~(((m & -m) << 1) - 1) if m else 0


# For binary kinds, _SUPPORT[kind](mask_y, full) is the set of positions x may take given
# y's possible positions, as a bitmask.
_SUPPORT = {
    "same": lambda m, full: m,
    "not_same": lambda m, full: full & ~m if m & (m - 1) == 0 else full,
    "left_of": lambda m, full: (1 << (m.bit_length() - 1)) - 1 if m else 0,
    "right_of": _right_of_support,
    "directly_left": lambda m, full: m >> 1,
    "directly_right": lambda m, full: (m << 1) & full,
    "next_to": lambda m, full: ((m << 1) | (m >> 1)) & full,
    "one_between": lambda m, full: ((m << 2) | (m >> 2)) & full,
}
_INVERSE = {
    "same": "same",
    "not_same": "not_same",
    "left_of": "right_of",
    "right_of": "left_of",
    "directly_left": "directly_right",
    "directly_right": "directly_left",
    "next_to": "next_to",
    "one_between": "one_between",
}


def clue_holds(clue: Sequence, pos: Mapping[tuple[str, str], int]) -> bool:
    """Whether one clue holds when ``pos[(category, value)]`` is a 1-based house."""
    kind = clue[0]
    px = pos[tuple(clue[1])]
    if kind == "at":
        return px == clue[2]
    if kind == "not_at":
        return px != clue[2]
    py = pos[tuple(clue[2])]
    return {
        "same": px == py,
        "not_same": px != py,
        "left_of": px < py,
        "right_of": px > py,
        "directly_left": px + 1 == py,
        "directly_right": px == py + 1,
        "next_to": abs(px - py) == 1,
        "one_between": abs(px - py) == 2,
    }[kind]


class GridSolver:
    """Counts the solutions of a grid puzzle by propagation plus search.

    Variables are (category, value) pairs; each takes a house; the values of one category
    take distinct houses. Domains are bitmasks; binary clues are kept arc-consistent and each
    category is a permutation (naked and hidden singles), then the search branches on the
    smallest domain.
    """

    def __init__(self, values: Mapping[str, Sequence[str]], houses: int):
        self.houses = houses
        self.full = (1 << houses) - 1
        self.var: dict[tuple[str, str], int] = {}
        self.groups: list[list[int]] = []
        for cat, vals in values.items():
            if len(vals) != houses:
                raise ValueError(f"category {cat!r} has {len(vals)} values for {houses} houses")
            group = []
            for v in vals:
                self.var[(cat, v)] = len(self.var)
                group.append(self.var[(cat, v)])
            self.groups.append(group)

    def _setup(self, clues: Sequence[Sequence]) -> tuple[list[int], list]:
        """Initial domains (unary clues applied) and the binary constraints as directed arcs.

        A clue between x and y gives two arcs, (x, y, support of x given y) then (y, x, the
        inverse), so propagation revises x and then y against each other.
        """
        doms = [self.full] * len(self.var)
        binary = []
        for clue in clues:
            x = self.var[tuple(clue[1])]
            if clue[0] in ("at", "not_at"):
                bit = 1 << (int(clue[2]) - 1)
                doms[x] &= bit if clue[0] == "at" else ~bit
            else:
                y = self.var[tuple(clue[2])]
                binary.append((x, y, _SUPPORT[clue[0]]))
                binary.append((y, x, _SUPPORT[_INVERSE[clue[0]]]))
        return doms, binary

    def count(self, clues: Sequence[Sequence], limit: int = 2) -> int:
        """How many solutions the clues allow, counting no further than ``limit``."""
        doms, binary = self._setup(clues)
        return self._search(doms, binary, limit)

    def solutions(self, clues: Sequence[Sequence], limit: int = 2) -> list[dict[tuple[str, str], int]]:
        """Up to ``limit`` solutions as {(category, value): 1-based house}."""
        doms, binary = self._setup(clues)
        found: list[list[int]] = []
        self._search(doms, binary, limit, found)
        names = list(self.var)
        return [{names[i]: d.bit_length() for i, d in enumerate(sol)} for sol in found]

    def _propagate(self, doms: list[int], binary: list) -> bool:
        full = self.full
        changed = True
        while changed:
            changed = False
            for x, y, support in binary:
                nx = doms[x] & support(doms[y], full)
                if nx != doms[x]:
                    if not nx:
                        return False
                    doms[x] = nx
                    changed = True
            for group in self.groups:
                fixed = 0
                for v in group:
                    d = doms[v]
                    if not d:
                        return False
                    if d & (d - 1) == 0:
                        if fixed & d:
                            return False
                        fixed |= d
                for v in group:
                    d = doms[v]
                    if d & (d - 1) and d & fixed:
                        doms[v] = d & ~fixed
                        changed = True
                        if not doms[v]:
                            return False
                # hidden singles: a house only one value of the group can take
                for p in range(self.houses):
                    bit = 1 << p
                    holders = [v for v in group if doms[v] & bit]
                    if not holders:
                        return False
                    if len(holders) == 1 and doms[holders[0]] != bit:
                        doms[holders[0]] = bit
                        changed = True
        return True

    def _search(self, doms: list[int], binary: list, limit: int, found: list | None = None) -> int:
        if not self._propagate(doms, binary):
            return 0
        best, best_size = -1, 99
        for i, d in enumerate(doms):
            size = bin(d).count("1")
            if 1 < size < best_size:
                best, best_size = i, size
        if best < 0:
            if found is not None:
                found.append(list(doms))
            return 1
        total = 0
        d = doms[best]
        while d and total < limit:
            bit = d & -d
            d &= d - 1
            child = list(doms)
            child[best] = bit
            total += self._search(child, binary, limit - total, found)
        return total

