"""Unit tests of the harness modules' pure parts: the wire format and the test side's choices."""

from __future__ import annotations

import ast
import collections
import fractions
import json

import pytest
from mdrl.domains.code_tests import _update_in_place, choose_targets
from mdrl.domains.code_wire import Decoder, Encoder, WireError, dumps, loads


class ListNode:
    def __init__(self, val=0, next=None):
        self.val, self.next = val, next


class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val, self.left, self.right = val, left, right


def roundtrip(value, **decoder):
    return Decoder(**decoder).decode(loads(dumps(Encoder().encode(value))))


@pytest.mark.parametrize(
    "value",
    [None, True, False, 0, -7, 10 ** 400, 1.5, float("inf"), "", "ünï\n", [1, [2, [3]]], (1, "a"), {1: "x", "k": (2,)},
     {1, 2}, frozenset({3}), b"\x00\xff", bytearray(b"ab"), 2 + 3j, range(1, 9, 2), collections.deque([1, 2]),
     fractions.Fraction(1, 3), int, str, type(None)],
)
def test_values_survive_the_round_trip_with_their_types(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


def test_subclasses_arrive_as_their_base_type():
    class Liar(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    back = roundtrip([Liar(5), collections.OrderedDict(a=1), collections.Counter("aab")])
    assert back == [5, {"a": 1}, {"a": 2, "b": 1}]
    assert [type(x) for x in back] == [int, dict, dict] and back[0] != 6


def test_iterators_arrive_as_iterators_not_lists():
    back = roundtrip(x * 2 for x in range(3))
    assert back != [0, 2, 4] and list(back) == [0, 2, 4]


def test_linked_lists_and_trees_are_rebuilt_with_the_receivers_classes():
    head = ListNode(1, ListNode(2, ListNode(3)))
    head.next.next.next = head.next  # a cycle back to the second node
    back = roundtrip(head, list_node=ListNode)
    assert type(back) is ListNode and [back.val, back.next.val, back.next.next.val] == [1, 2, 3]
    assert back.next.next.next is back.next
    tree = TreeNode(1, None, TreeNode(2, TreeNode(3)))
    assert Encoder().encode(tree) == {"tn": [1, None, 2, 3]}
    t = roundtrip(tree, tree_node=TreeNode)
    assert type(t) is TreeNode and t.left is None and t.right.left.val == 3


def test_unknown_objects_become_handles_or_are_refused():
    kept = []
    enc = Encoder(lambda obj: kept.append(obj) or {"h": len(kept)})
    assert enc.encode([object()]) == [{"h": 1}]
    with pytest.raises(WireError):
        Encoder().encode(object())
    with pytest.raises(WireError):
        Encoder().encode(lambda: 1)


@pytest.mark.parametrize(
    "data", [{"x": 1}, {"t": 5}, {"d": [[1]]}, {"ty": "os"}, {"r": ["a", 1, 1]}, {"h": 1}, {"b": 3}, {"t": [], "s": []}]
)
def test_malformed_data_is_refused(data):
    with pytest.raises((WireError, ValueError, TypeError)):
        Decoder().decode(data)


def test_size_is_bounded():
    enc = Encoder()
    enc.budget = 100
    with pytest.raises(WireError):
        enc.encode(list(range(1000)))


def test_dumps_is_one_line():
    assert "\n" not in dumps(Encoder().encode({"a": "x\ny", "b": [float("nan")]}))
    assert json.loads(dumps([1]))[0] == 1


def test_targets_are_names_the_tests_use_and_do_not_have():
    trees = [ast.parse("def check(candidate):\n    assert abs(candidate(1)) == f(2)\n\ncheck(Solution().go)")]
    names = {"Solution": "class", "abs": "function", "f": "function", "check": "function", "helper": "function"}
    own = {"abs", "len"}
    assert choose_targets(trees, names, own, []) == {"Solution": "class", "f": "function"}
    # an entry point (HumanEval's, an MBPP function named like a builtin) is always the solution's
    assert choose_targets(trees, names, own, ["abs"]) == {"Solution": "class", "abs": "function", "f": "function"}


def test_in_place_updates_keep_the_tests_objects():
    a, d, s = [3, 1], {"k": 1}, {1}
    for target, new in ((a, [1, 3]), (d, {"k": 2}), (s, {2})):
        before = id(target)
        _update_in_place(target, new)
        assert id(target) == before and target == new
    node = ListNode(1)
    _update_in_place(node, ListNode(5, ListNode(6)))
    assert node.val == 5 and node.next.val == 6
