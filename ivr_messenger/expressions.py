"""The call-flow expression language: a tokenizer and recursive-descent parser to an AST.

Conditions and set-variable nodes hold expressions written by tenants' administrators, so
the language is deliberately small and closed: literals, variable names, arithmetic,
comparisons, boolean logic, membership in a literal list and a fixed set of functions. There
is no attribute access, indexing, import or call of anything but the listed functions, and
nothing here ever reaches Python's `eval`.

Grammar, loosest binding first:
    expr       := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum | ["not"] "in" list]
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/" | "%") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | "true" | "false" | NAME | NAME "(" [expr ("," expr)*] ")"
                | "(" expr ")"
    list       := "[" [literal ("," literal)*] "]"
The tree is `expression_tree.py`'s; evaluation lives in `expression_eval.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

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
    names_in,
)

# Bounds that keep parsing and evaluation cheap whatever an administrator types.
MAX_LENGTH = 1000
MAX_DEPTH = 64
MAX_NUMBER_LENGTH = 24
MAX_REGEX_LENGTH = 200

KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})
# name -> number of arguments.
FUNCTIONS: dict[str, int] = {
    "len": 1,
    "lower": 1,
    "upper": 1,
    "number": 1,
    "startswith": 2,
    "matches": 2,
}
COMPARISONS = frozenset({"==", "!=", "<", "<=", ">", ">="})
_SYMBOLS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


class ExpressionError(ValueError):
    """A parse or evaluation error; `column` (1-based) points into the expression's text."""

    def __init__(self, message: str, column: int) -> None:
        """Keep the bare message and the column for the validator's report."""
        super().__init__(f"{message} (column {column})")
        self.message = message
        self.column = column


class PatternError(ValueError):
    """A regular expression that is too long or does not compile."""


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a tenant's regular expression, refusing long ones (a cheap bound on backtracking)."""
    if len(pattern) > MAX_REGEX_LENGTH:
        raise PatternError(f"is longer than {MAX_REGEX_LENGTH} characters")
    try:
        return re.compile(pattern)
    # re reports some malformed repeats as OverflowError or RecursionError, not re.error.
    except (re.error, OverflowError, RecursionError) as exc:
        raise PatternError(f"is not a valid regular expression: {exc}") from None


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "string", "name", "keyword", "symbol" or "end"
    text: str
    value: Value | None
    column: int


def _tokens(text: str) -> Iterator[_Token]:
    i = 0
    while i < len(text):
        char = text[i]
        column = i + 1
        if char in " \t":
            i += 1
        elif char.isascii() and char.isdigit():
            match = _NUMBER.match(text, i)
            assert match is not None  # a digit always starts a number
            raw = match.group()
            if len(raw) > MAX_NUMBER_LENGTH:
                raise ExpressionError(f"number longer than {MAX_NUMBER_LENGTH} characters", column)
            end = match.end()
            if end < len(text) and (text[end].isalnum() or text[end] == "_"):
                raise ExpressionError("a number must not run into letters", end + 1)
            yield _Token("number", raw, float(raw) if "." in raw else int(raw), column)
            i = match.end()
        elif char == "'":
            value, i = _string(text, i)
            yield _Token("string", text[column - 1 : i], value, column)
        elif (match := _NAME.match(text, i)) is not None:
            word = match.group()
            yield _Token("keyword" if word in KEYWORDS else "name", word, None, column)
            i = match.end()
        else:
            symbol = next((s for s in _SYMBOLS if text.startswith(s, i)), None)
            if symbol is None:
                hint = "; compare with ==" if char == "=" else ""
                raise ExpressionError(f"unexpected character {char!r}{hint}", column)
            yield _Token("symbol", symbol, None, column)
            i += len(symbol)
    yield _Token("end", "", None, len(text) + 1)


def _string(text: str, start: int) -> tuple[str, int]:
    """A single-quoted string from `start`; backslash escapes only a quote or a backslash."""
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "'":
            return "".join(chars), i + 1
        if char == "\\":
            if i + 1 < len(text) and text[i + 1] in "'\\":
                chars.append(text[i + 1])
                i += 2
                continue
            raise ExpressionError("a backslash may only escape ' or \\", i + 1)
        chars.append(char)
        i += 1
    raise ExpressionError("string is not closed", start + 1)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = list(_tokens(text))
        self.at = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def accept(self, text: str) -> _Token | None:
        if self.token.kind in ("symbol", "keyword") and self.token.text == text:
            return self.take()
        return None

    def expect(self, text: str, what: str) -> _Token:
        token = self.accept(text)
        if token is None:
            raise ExpressionError(f"expected {what}, found {_describe(self.token)}", self.column)
        return token

    @property
    def column(self) -> int:
        return self.token.column

    def nested(self, levels: int = 1) -> None:
        # Counted for every level the tree grows (brackets, not, minus, each operator of a
        # chain), so neither the parser nor the evaluator can exhaust Python's stack.
        self.depth += levels
        if self.depth > MAX_DEPTH:
            raise ExpressionError("expression is nested too deeply", self.column)

    def chain(self, operators: tuple[str, ...], operand: Callable[[], Node]) -> Node:
        left = operand()
        levels = 0
        while (token := next(filter(None, map(self.accept, operators)), None)) is not None:
            self.nested()
            levels += 1
            left = Binary(token.text, left, operand(), token.column)
        self.depth -= levels
        return left

    def expression(self) -> Node:
        self.nested()
        node = self.chain(("or",), self.conjunction)
        self.depth -= 1
        return node

    def conjunction(self) -> Node:
        return self.chain(("and",), self.negation)

    def negation(self) -> Node:
        token = self.accept("not")
        if token is None:
            return self.comparison()
        self.nested()
        operand = self.negation()
        self.depth -= 1
        return Unary("not", operand, token.column)

    def comparison(self) -> Node:
        left = self.sum()
        token = self.token
        if token.kind == "symbol" and token.text in COMPARISONS:
            self.take()
            node: Node = Binary(token.text, left, self.sum(), token.column)
        elif token.kind == "keyword" and token.text in ("in", "not"):
            negated = self.accept("not") is not None
            self.expect("in", "'in' after 'not'")
            node = InList(left, self.literal_list(), negated, token.column)
        else:
            return left
        after = self.token
        chained = after.text in COMPARISONS or after.text == "in"
        if chained and after.kind in ("symbol", "keyword"):
            raise ExpressionError("comparisons cannot be chained; join with 'and'", self.column)
        return node

    def sum(self) -> Node:
        return self.chain(("+", "-"), self.product)

    def product(self) -> Node:
        return self.chain(("*", "/", "%"), self.unary)

    def unary(self) -> Node:
        token = self.accept("-")
        if token is None:
            return self.primary()
        self.nested()
        operand = self.unary()
        self.depth -= 1
        return Unary("-", operand, token.column)

    def primary(self) -> Node:
        token = self.token
        if token.kind in ("number", "string"):
            self.take()
            assert token.value is not None
            return Constant(token.value, token.column)
        if token.kind == "keyword" and token.text in ("true", "false"):
            self.take()
            return Constant(token.text == "true", token.column)
        if token.kind == "name":
            self.take()
            if self.token.text == "(" and self.token.kind == "symbol":
                return self.call(token)
            return Name(token.text, token.column)
        if self.accept("(") is not None:
            inner = self.expression()
            self.expect(")", "')'")
            return inner
        raise ExpressionError(f"expected a value, found {_describe(token)}", token.column)

    def call(self, name: _Token) -> Node:
        arity = FUNCTIONS.get(name.text)
        if arity is None:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"unknown function {name.text!r} (known: {known})", name.column)
        self.expect("(", "'('")
        args: list[Node] = []
        if self.accept(")") is None:
            args.append(self.expression())
            while self.accept(",") is not None:
                args.append(self.expression())
            self.expect(")", "')' or ','")
        if len(args) != arity:
            plural = "s" if arity > 1 else ""
            raise ExpressionError(f"{name.text}() takes {arity} argument{plural}", name.column)
        if name.text == "matches":
            pattern = args[1]
            # A literal pattern is checked here, once, instead of on every call.
            if not (isinstance(pattern, Constant) and isinstance(pattern.value, str)):
                raise ExpressionError(
                    "the pattern of matches() must be a 'quoted' string", _column(pattern)
                )
            try:
                compile_pattern(pattern.value)
            except PatternError as exc:
                raise ExpressionError(f"the pattern {exc}", pattern.column) from None
        return Call(name.text, tuple(args), name.column)

    def literal_list(self) -> tuple[Value, ...]:
        self.expect("[", "'[' starting a list of values")
        values: list[Value] = []
        if self.accept("]") is not None:
            return ()
        while True:
            values.append(self.list_item())
            if self.accept("]") is not None:
                return tuple(values)
            self.expect(",", "',' or ']'")

    def list_item(self) -> Value:
        negative = self.accept("-") is not None
        token = self.take()
        if token.kind == "number" and isinstance(token.value, int | float):
            return -token.value if negative else token.value
        if negative:
            raise ExpressionError("expected a number after '-'", token.column)
        if token.kind == "string" and token.value is not None:
            return token.value
        if token.kind == "keyword" and token.text in ("true", "false"):
            return token.text == "true"
        raise ExpressionError(
            f"lists may hold only literal values, found {_describe(token)}", token.column
        )


def _describe(token: _Token) -> str:
    return "the end" if token.kind == "end" else repr(token.text)


def _column(node: Node) -> int:
    if isinstance(node, Binary | InList):
        return _column(node.left if isinstance(node, Binary) else node.operand)
    return node.column


def parse(text: str) -> Expression:
    """Parse an expression, or raise ExpressionError saying what is wrong and at which column."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters", MAX_LENGTH)
    parser = _Parser(text)
    if parser.token.kind == "end":
        raise ExpressionError("expression is empty", 1)
    tree = parser.expression()
    if parser.token.kind != "end":
        raise ExpressionError(f"unexpected {_describe(parser.token)}", parser.column)
    return Expression(text, tree, frozenset(names_in(tree)))
