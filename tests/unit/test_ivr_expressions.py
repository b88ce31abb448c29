"""The call-flow expression language: examples, errors with columns, and random programs.

The property tests print random syntax trees as text and parse them back: the result must
evaluate exactly like a reference evaluation of the tree done with Python's own operators,
whether the text is fully bracketed or uses only the brackets precedence requires.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ivr_messenger import ExpressionError, evaluate, parse
from ivr_messenger.expression_tree import Value
from ivr_messenger.expressions import MAX_DEPTH, MAX_REGEX_LENGTH

VARIABLES: dict[str, Value] = {
    "digits": "12345",
    "name": "Maria",
    "count": 3,
    "ratio": 0.5,
    "vip": True,
}


def value(text: str) -> Value:
    return evaluate(parse(text), VARIABLES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 / 2", 3.5),
        ("-7 % 3", 2),
        ("10 - 2 - 3", 5),  # left-associative
        ("2 * -count", -6),
        ("'ab' + 'cd'", "abcd"),
        ("'it''s'", None),  # two strings side by side: an error, see below
        ("count >= 3 and vip", True),
        ("count > 3 or not vip", False),
        ("not count == 3", False),
        ("digits == '12345'", True),
        ("count == 3.0", True),
        ("count == '3'", False),  # different kinds are never equal
        ("1 == true", False),
        ("count in [1, 2, 3]", True),
        ("name not in ['Maria', 'Anna']", False),
        ("-1 in [-1]", True),
        ("len(digits) == 5", True),
        ("lower(name) == 'maria' and upper(name) == 'MARIA'", True),
        ("startswith(digits, '123')", True),
        ("matches(digits, '[0-9]{5}')", True),
        ("matches(digits, '[0-9]{4}')", False),  # a full match, not a search
        ("number(digits) > 12000", True),
        ("number('-1.5') + 1", -0.5),
        ("'it\\'s'", "it's"),
        ("ratio * 4", 2.0),
    ],
)
def test_examples(text: str, expected: Value | None) -> None:
    if expected is None:
        with pytest.raises(ExpressionError):
            value(text)
    else:
        result = value(text)
        assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("count = 3", 7, "compare with =="),
        ("(count", 7, "expected ')'"),
        ("count +", 8, "expected a value"),
        ("1 < count < 5", 11, "cannot be chained"),
        ("foo(1)", 1, "unknown function"),
        ("len(1, 2)", 1, "takes 1 argument"),
        ("matches(digits, name)", 17, "must be a 'quoted' string"),
        ("matches(digits, '([0-9]')", 17, "not a valid regular expression"),
        (f"matches(digits, '{'a' * (MAX_REGEX_LENGTH + 1)}')", 17, "longer than"),
        ("'open", 1, "not closed"),
        ("count in [name]", 11, "only literal values"),
        ("count in 3", 10, "'['"),
        ("", 1, "empty"),
        ("count 3", 7, "unexpected '3'"),
        ("12ab", 3, "run into letters"),
        ("name.upper", 5, "unexpected character '.'"),
        ("__import__('os')", 1, "unknown function"),
        ("'a' \\ 'b'", 5, "unexpected character"),
        ("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1), MAX_DEPTH + 1, "nested too deeply"),
        (" + ".join(["1"] * (MAX_DEPTH + 2)), None, "nested too deeply"),
    ],
)
def test_parse_errors_say_what_and_where(text: str, column: int | None, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert words in caught.value.message
    if column is not None:
        assert caught.value.column == column


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("missing + 1", 1, "unknown variable 'missing'"),
        ("count + 'x'", 7, "needs numbers"),
        ("name < 3", 6, "two numbers or two texts"),
        ("count and vip", 7, "needs true or false"),
        ("not count", 1, "needs true or false"),
        ("count / 0", 7, "division by zero"),
        ("count % 0", 7, "division by zero"),
        ("len(count)", 1, "needs text"),
        ("number(name)", 1, "cannot read 'Maria'"),
        ("number('1e5')", 1, "cannot read"),
        ("-name", 1, "needs numbers"),
    ],
)
def test_evaluation_errors_name_the_culprit(text: str, column: int, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        value(text)
    assert words in caught.value.message
    assert caught.value.column == column


def test_and_or_short_circuit_so_a_guard_protects_the_right_side() -> None:
    assert value("count == 0 and 10 / count > 1") is False
    assert value("count == 3 or missing") is True


def test_the_variables_an_expression_reads() -> None:
    assert parse("len(digits) > count and lower(name) in ['a']").variables == {
        "digits",
        "count",
        "name",
    }
    assert parse("'name' + 'count'").variables == frozenset()


def test_huge_numbers_give_an_error_not_an_overflow() -> None:
    with pytest.raises(ExpressionError, match="arithmetic error"):
        value(" * ".join(["999999999999999999999999"] * 20) + " / 3")


# ---- Random programs. ----

Tree = Any  # ("num", int) | (op, Tree, Tree) | ("neg", Tree)

ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}
# Binding strength of the printed syntax, restated for the printer.
STRENGTH = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2}

arithmetic_trees: st.SearchStrategy[Tree] = st.recursive(
    st.tuples(st.just("num"), st.integers(0, 10**6)),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(sorted(ARITHMETIC)), inner, inner),
        st.tuples(st.just("neg"), inner),
    ),
    max_leaves=12,
)


def reference(tree: Tree) -> Any:
    """The tree's value by Python's operators (ZeroDivisionError included)."""
    if tree[0] == "num":
        return tree[1]
    if tree[0] == "neg":
        return -reference(tree[1])
    return ARITHMETIC[tree[0]](reference(tree[1]), reference(tree[2]))


def bracketed(tree: Tree) -> str:
    """Every operation in brackets."""
    if tree[0] == "num":
        return str(tree[1])
    if tree[0] == "neg":
        return f"(-{bracketed(tree[1])})"
    return f"({bracketed(tree[1])} {tree[0]} {bracketed(tree[2])})"


def minimal(tree: Tree) -> str:
    """Only the brackets precedence and left-associativity need."""
    if tree[0] == "num":
        return str(tree[1])
    if tree[0] == "neg":
        operand = minimal(tree[1])
        return f"-{operand}" if tree[1][0] in ("num", "neg") else f"-({operand})"
    op, left, right = tree
    left_text, right_text = minimal(left), minimal(right)
    if left[0] in STRENGTH and STRENGTH[left[0]] < STRENGTH[op]:
        left_text = f"({left_text})"
    if right[0] in STRENGTH and STRENGTH[right[0]] <= STRENGTH[op]:
        right_text = f"({right_text})"
    return f"{left_text} {op} {right_text}"


def agrees(tree: Tree, text: str) -> None:
    try:
        expected = reference(tree)
    except ZeroDivisionError:
        with pytest.raises(ExpressionError, match="division by zero"):
            evaluate(parse(text), {})
        return
    except OverflowError:  # pragma: no cover - integers this small never overflow a float
        assume(False)
    assert evaluate(parse(text), {}) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@given(arithmetic_trees)
def test_bracketed_arithmetic_evaluates_like_python(tree: Tree) -> None:
    agrees(tree, bracketed(tree))


@given(arithmetic_trees)
def test_precedence_and_associativity_match_python(tree: Tree) -> None:
    agrees(tree, minimal(tree))


comparisons = st.tuples(
    st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), arithmetic_trees, arithmetic_trees
)
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
logic_trees: st.SearchStrategy[Tree] = st.recursive(
    st.tuples(st.just("cmp"), comparisons),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), inner, inner),
        st.tuples(st.just("not"), inner),
    ),
    max_leaves=6,
)


def logic_reference(tree: Tree) -> bool:
    if tree[0] == "cmp":
        op, left, right = tree[1]
        return COMPARE[op](reference(left), reference(right))
    if tree[0] == "not":
        return not logic_reference(tree[1])
    if tree[0] == "and":
        return logic_reference(tree[1]) and logic_reference(tree[2])
    return logic_reference(tree[1]) or logic_reference(tree[2])


def logic_text(tree: Tree) -> str:
    if tree[0] == "cmp":
        op, left, right = tree[1]
        return f"{minimal(left)} {op} {minimal(right)}"
    if tree[0] == "not":
        return f"not ({logic_text(tree[1])})"
    return f"({logic_text(tree[1])}) {tree[0]} ({logic_text(tree[2])})"


@given(logic_trees)
def test_comparisons_and_logic_evaluate_like_python(tree: Tree) -> None:
    try:
        expected = logic_reference(tree)
    except ZeroDivisionError:
        # Short-circuiting may skip the division Python's reference evaluated first or not
        # at all; either way only our own error type may come out.
        with contextlib.suppress(ExpressionError):
            evaluate(parse(logic_text(tree)), {})
        return
    assert evaluate(parse(logic_text(tree)), {}) is expected


TOKENS = [
    "1", "2.5", "'a'", "'", "count", "name", "vip", "digits", "true", "false", "and", "or", "not",
    "in", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",",
    "len", "lower", "number", "matches", "startswith", "'[0-9]+'", "'(('", " ", "=", ".", "\\",
]  # fmt: skip


@settings(max_examples=300)
@given(
    st.one_of(st.text(max_size=60), st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
)
def test_any_text_gives_a_value_or_our_own_error(text: str) -> None:
    try:
        expression = parse(text)
    except ExpressionError as exc:
        assert 1 <= exc.column <= len(text) + 1
        return
    try:
        result = evaluate(expression, VARIABLES)
    except ExpressionError as exc:
        assert 1 <= exc.column <= len(text)
        return
    assert isinstance(result, str | int | float | bool)
