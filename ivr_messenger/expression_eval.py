"""Evaluating parsed call-flow expressions against a call's variables.

Values are strings, numbers (int or float) and booleans, and the rules are strict so that a
flow behaves the same whatever the caller types: no truthiness (`and`, `or`, `not` want
booleans), no mixing of kinds in arithmetic or ordering (`'3' < 4` is an error; convert with
`number()`), `==` between different kinds is simply false. Every failure is an
ExpressionError with the column of the sub-expression at fault.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping

from ivr_messenger.expression_tree import (
    Binary,
    Call,
    Constant,
    Expression,
    InList,
    Name,
    Node,
    Unary,
    Value,
)
from ivr_messenger.expressions import ExpressionError, compile_pattern

# matches() on longer text is refused: with Python's backtracking `re`, the text length is
# the other half (with the 200-character pattern limit) of keeping a match cheap.
MAX_MATCH_INPUT = 1000
_DECIMAL = re.compile(r"-?[0-9]{1,18}(?:\.[0-9]{1,18})?")


def evaluate(expression: Expression, variables: Mapping[str, Value]) -> Value:
    """The value of `expression` with these variables, or ExpressionError."""
    return _eval(expression.tree, variables)


def kind_of(value: Value) -> str:
    """ "boolean", "number" or "string": the kinds the language distinguishes."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


def equal(left: Value, right: Value) -> bool:
    """Equality as the language defines it: same kind and same value (so 1 == 1.0, 1 != true)."""
    return kind_of(left) == kind_of(right) and left == right


def _eval(node: Node, variables: Mapping[str, Value]) -> Value:
    match node:
        case Constant(value=value):
            return value
        case Name(name=name, column=column):
            if name not in variables:
                raise ExpressionError(f"unknown variable {name!r}", column)
            return variables[name]
        case Unary(op="not", operand=operand, column=column):
            return not _boolean(_eval(operand, variables), "not", column)
        case Unary(operand=operand, column=column):
            return -_number(_eval(operand, variables), "-", column)
        case Binary(op=("and" | "or") as op, left=left, right=right, column=column):
            # Short-circuit like every language users know; the right side may be skipped.
            first = _boolean(_eval(left, variables), op, column)
            if first == (op == "or"):
                return first
            return _boolean(_eval(right, variables), op, column)
        case Binary(op=op, left=left, right=right, column=column):
            return _binary(op, _eval(left, variables), _eval(right, variables), column)
        case InList(operand=operand, values=values, negated=negated):
            value = _eval(operand, variables)
            return any(equal(value, item) for item in values) != negated
        case Call(function=function, args=args, column=column):
            return _call(function, [_eval(arg, variables) for arg in args], column)
    raise AssertionError(f"unhandled node {node!r}")  # pragma: no cover


def _boolean(value: Value, op: str, column: int) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(f"'{op}' needs true or false, got {_show(value)}", column)
    return value


def _number(value: Value, op: str, column: int) -> int | float:
    if kind_of(value) != "number":
        raise ExpressionError(f"'{op}' needs numbers, got {_show(value)}", column)
    assert isinstance(value, int | float)
    return value


def _string(value: Value, function: str, column: int) -> str:
    if not isinstance(value, str):
        raise ExpressionError(f"{function}() needs text, got {_show(value)}", column)
    return value


def _show(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


_ARITHMETIC: dict[str, Callable[[int | float, int | float], int | float]] = {
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _binary(op: str, left: Value, right: Value, column: int) -> Value:
    if op == "==":
        return equal(left, right)
    if op == "!=":
        return not equal(left, right)
    if op in _ORDER:
        kinds = {kind_of(left), kind_of(right)}
        if kinds not in ({"number"}, {"string"}):
            raise ExpressionError(
                f"'{op}' compares two numbers or two texts, got {_show(left)} and {_show(right)}",
                column,
            )
        assert not isinstance(left, bool) and not isinstance(right, bool)
        return bool(_ORDER[op](left, right))
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    a, b = _number(left, op, column), _number(right, op, column)
    if op == "+":
        return a + b
    if op in ("/", "%") and b == 0:
        raise ExpressionError("division by zero", column)
    try:
        return _ARITHMETIC[op](a, b)
    # Huge integers may not fit a float (int / int, int * float).
    except ArithmeticError as exc:
        raise ExpressionError(f"arithmetic error: {exc}", column) from None


def _call(function: str, args: list[Value], column: int) -> Value:
    if function == "len":
        return len(_string(args[0], function, column))
    if function == "lower":
        return _string(args[0], function, column).lower()
    if function == "upper":
        return _string(args[0], function, column).upper()
    if function == "startswith":
        text = _string(args[0], function, column)
        return text.startswith(_string(args[1], function, column))
    if function == "number":
        return _to_number(args[0], column)
    if function == "matches":
        text = _string(args[0], function, column)
        if len(text) > MAX_MATCH_INPUT:
            raise ExpressionError(
                f"matches() refuses text longer than {MAX_MATCH_INPUT} characters", column
            )
        return compile_pattern(_string(args[1], function, column)).fullmatch(text) is not None
    raise AssertionError(f"unhandled function {function}")  # pragma: no cover


def _to_number(value: Value, column: int) -> int | float:
    if kind_of(value) == "number":
        assert isinstance(value, int | float)
        return value
    # Only plain decimal digits: no exponents, spaces, underscores, "nan" or "inf".
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return float(value) if "." in value else int(value)
    raise ExpressionError(f"number() cannot read {_show(value)} as a number", column)
