"""The syntax tree of call-flow expressions; every node keeps its column for error messages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

Value = str | int | float | bool


@dataclass(frozen=True, slots=True)
class Constant:
    """A number, string or boolean written in the expression."""

    value: Value
    column: int


@dataclass(frozen=True, slots=True)
class Name:
    """A variable reference."""

    name: str
    column: int


@dataclass(frozen=True, slots=True)
class Unary:
    """`-x` or `not x`."""

    op: str
    operand: Node
    column: int


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic (+ - * / %), comparison (== != < <= > >=) or logic (and, or)."""

    op: str
    left: Node
    right: Node
    column: int


@dataclass(frozen=True, slots=True)
class InList:
    """`x in [...]` or `x not in [...]`, the list being literals only."""

    operand: Node
    values: tuple[Value, ...]
    negated: bool
    column: int


@dataclass(frozen=True, slots=True)
class Call:
    """One of FUNCTIONS applied to its arguments."""

    function: str
    args: tuple[Node, ...]
    column: int


Node = Constant | Name | Unary | Binary | InList | Call


@dataclass(frozen=True, slots=True)
class Expression:
    """A parsed expression: its source, tree and the variables it reads."""

    source: str
    tree: Node
    variables: frozenset[str]


def names_in(node: Node) -> Iterator[str]:
    """Every variable name the tree reads, in order, repeats included."""
    match node:
        case Name(name=name):
            yield name
        case Unary(operand=operand) | InList(operand=operand):
            yield from names_in(operand)
        case Binary(left=left, right=right):
            yield from names_in(left)
            yield from names_in(right)
        case Call(args=args):
            for arg in args:
                yield from names_in(arg)
        case _:
            pass
