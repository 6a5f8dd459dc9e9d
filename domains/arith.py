"""A tiny, safe parser and exact evaluator for integer arithmetic (the countdown answers).

Model text never reaches ``eval``, ``ast`` or SymPy: a hand-written tokenizer accepts only
ASCII digits, ``+ - * / ( )``, the ``×`` and ``÷`` signs and whitespace, and a
recursive-descent parser builds a small tree over that grammar::

    expr   := term (("+" | "-") term)*
    term   := factor (("*" | "/") factor)*
    factor := INTEGER | "(" expr ")"

Design decisions (kept consistent by the countdown verifier):

* **No unary minus or plus.** The classic countdown game combines the given numbers with
  binary operations only; a leading ``-`` would let an answer negate a number, which the
  game does not allow. ``-3 + 5`` is rejected; write ``5 - 3``.
* **No exponent, decimals, names, calls, implicit multiplication.** ``**``, ``^``,
  ``1.5``, ``1e9``, ``2(3)`` and anything else outside the grammar raise
  :class:`ArithError` with a reason.
* **Bounded work.** Input length, parenthesis depth and the length of one integer literal
  are capped, so evaluation is a few hundred exact :class:`fractions.Fraction` operations
  on small integers at most; nothing can grow without bound.
"""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Callable, Union

MAX_LENGTH = 500  # characters of one expression
MAX_DEPTH = 50  # nested parentheses
MAX_DIGITS = 18  # digits in one integer literal: puzzles use small numbers; bounds big-int work

# The multiplication and division signs a model may copy from a textbook.
_OPERATOR_ALIASES = {"×": "*", "÷": "/"}
_OPERATORS = frozenset("+-*/")
_DIGITS = frozenset("0123456789")  # ASCII only: str.isdigit() accepts "²" and other scripts' digits
_SPACE = frozenset(" \t\r\n")


class ArithError(ValueError):
    """The text is not an expression of the accepted grammar; the message says why."""


@dataclasses.dataclass(frozen=True)
class Num:
    """An integer literal as written."""

    value: int


@dataclasses.dataclass(frozen=True)
class BinOp:
    """A binary operation; ``op`` is one of ``+ - * /`` (aliases already mapped)."""

    op: str
    left: "Node"
    right: "Node"


Node = Union[Num, BinOp]


def tokenize(text: str, max_length: int = MAX_LENGTH) -> list[str]:
    """Tokens of ``text``: integer literals, operators and parentheses.

    Raises :class:`ArithError` on anything else (letters, dots, ``**``, ``^``, non-ASCII
    digits, ...), naming the offending character.
    """
    if not isinstance(text, str):
        raise ArithError("expression is not a string")
    if len(text) > max_length:
        raise ArithError(f"expression longer than {max_length} characters")
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
            continue
        if ch in _DIGITS:
            j = i
            while j < n and text[j] in _DIGITS:
                j += 1
            if j - i > MAX_DIGITS:
                raise ArithError(f"number with more than {MAX_DIGITS} digits")
            if j < n and text[j] in ".eE_":
                raise ArithError(f"only integers are allowed, found {text[i:j + 1]!r}")
            tokens.append(text[i:j])
            i = j
            continue
        ch = _OPERATOR_ALIASES.get(ch, ch)
        if ch in _OPERATORS or ch in "()":
            # "**" is exponentiation in Python; reject it by name rather than as "missing operand".
            if ch == "*" and i + 1 < n and _OPERATOR_ALIASES.get(text[i + 1], text[i + 1]) == "*":
                raise ArithError("exponentiation ('**') is not allowed")
            tokens.append(ch)
            i += 1
            continue
        if ch == "^":
            raise ArithError("exponentiation ('^') is not allowed")
        raise ArithError(f"character {ch!r} is not allowed")
    if not tokens:
        raise ArithError("empty expression")
    return tokens


class _Parser:
    """Recursive descent over a token list; depth is bounded by MAX_DEPTH parentheses."""

    def __init__(self, tokens: list[str], max_depth: int) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.max_depth = max_depth

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node:
        node = self.expr()
        if self.pos != len(self.tokens):
            tok = self.tokens[self.pos]
            if tok == ")":
                raise ArithError("unbalanced ')'")
            raise ArithError(f"unexpected {tok!r} after a complete expression (implicit multiplication is not allowed)")
        return node

    def expr(self) -> Node:
        return self._chain(("+", "-"), self.term)

    def term(self) -> Node:
        return self._chain(("*", "/"), self.factor)

    def _chain(self, ops: tuple[str, str], operand: Callable[[], Node]) -> Node:
        """``operand (op operand)*`` for one precedence level, left-associative."""
        node = operand()
        while self.peek() in ops:
            op = self.take()
            node = BinOp(op, node, operand())
        return node

    def factor(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise ArithError("expression ends where a number was expected")
        if tok == "(":
            self.take()
            self.depth += 1
            if self.depth > self.max_depth:
                raise ArithError(f"parentheses nested deeper than {self.max_depth}")
            node = self.expr()
            if self.peek() != ")":
                raise ArithError("unbalanced '('")
            self.take()
            self.depth -= 1
            return node
        if tok in ("+", "-"):
            raise ArithError(f"unary {tok!r} is not allowed (every number must be combined with a binary operation)")
        if tok in ("*", "/", ")"):
            raise ArithError(f"unexpected {tok!r} where a number was expected")
        self.take()
        return Num(int(tok))


def parse(text: str, max_length: int = MAX_LENGTH, max_depth: int = MAX_DEPTH) -> Node:
    """The expression tree of ``text``; raises :class:`ArithError` with a reason when invalid."""
    return _Parser(tokenize(text, max_length), max_depth).parse()


def evaluate(node: Node) -> Fraction:
    """The exact value of ``node``; raises :class:`ZeroDivisionError` on division by zero.

    Recursion depth is bounded: parentheses are capped and same-precedence chains are at
    most MAX_LENGTH / 2 operations long.
    """
    if isinstance(node, Num):
        return Fraction(node.value)
    left, right = evaluate(node.left), evaluate(node.right)
    if node.op == "+":
        return left + right
    if node.op == "-":
        return left - right
    if node.op == "*":
        return left * right
    if right == 0:
        raise ZeroDivisionError("division by zero")
    return left / right


def numbers(node: Node) -> list[int]:
    """The integer literals of ``node`` in reading order."""
    out: list[int] = []
    stack: list[Node] = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, Num):
            out.append(cur.value)
        else:
            stack.append(cur.right)
            stack.append(cur.left)
    return out


def to_text(node: Node) -> str:
    """A fully parenthesised rendering of ``node`` (canonical form for logs and tests)."""
    if isinstance(node, Num):
        return str(node.value)
    return f"({to_text(node.left)} {node.op} {to_text(node.right)})"
