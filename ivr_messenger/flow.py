"""The call-flow document: languages, variables, nodes by id; parsing with errors that say where.

A flow is stored per tenant as JSON. `parse_flow` turns JSON (text or already decoded) into a
`Flow`, or raises FlowShapeError listing every shape error with its JSON path. Semantic checks
(wiring, references, prompts, expressions...) are `validate.validate`'s.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError

from ivr_messenger.expression_tree import Value
from ivr_messenger.node_parts import LanguageCode, Model, NodeId, VariableName
from ivr_messenger.nodes import Node

# Variables the engine sets on every call; flows read them but never declare or assign them.
BUILTIN_VARIABLES: frozenset[str] = frozenset({"caller", "dialled", "language"})


class Flow(Model):
    """A call flow: a directed graph of typed nodes with named edges.

    `languages` lists the prompt languages, the first being the default. `start` is the entry
    node (a "start" node). `fallback` is where a call goes when it cannot continue where it
    was: after an engine restart lost what it waited for, or on a runtime error. `variables`
    are declared with their initial values. A "subflow" flow is only run from a sub-flow node
    of another flow and ends in "return" nodes.
    """

    kind: Literal["main", "subflow"] = "main"
    languages: Annotated[list[LanguageCode], Field(min_length=1, max_length=20)]
    start: NodeId
    fallback: NodeId | None = None
    variables: dict[VariableName, Value] = {}
    nodes: Annotated[dict[NodeId, Node], Field(max_length=2000)]

    @property
    def default_language(self) -> str:
        """The language prompts fall back to."""
        return self.languages[0]

    def to_json(self) -> str:
        """The document as stored (compact JSON, field names as documented)."""
        return self.model_dump_json(by_alias=True)

    def to_data(self) -> dict[str, Any]:
        """The document as plain JSON-compatible data."""
        return self.model_dump(mode="json", by_alias=True)


@dataclass(frozen=True, slots=True)
class ShapeError:
    """One shape error: where in the document (a JSON path) and what is wrong."""

    path: str
    message: str


class FlowShapeError(ValueError):
    """The document is not a flow: malformed JSON, wrong types, missing or unknown fields."""

    def __init__(self, errors: list[ShapeError]) -> None:
        """Keep every error; the message shows them all."""
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))
        self.errors = errors


def parse_flow(data: str | bytes | Mapping[str, Any]) -> Flow:
    """Read a flow document (JSON text or decoded JSON), or raise FlowShapeError."""
    try:
        if isinstance(data, str | bytes):
            return Flow.model_validate_json(data)
        # Decoded JSON goes through JSON mode too, so both inputs follow the same rules
        # (e.g. arrays where the model keeps tuples).
        return Flow.model_validate_json(json.dumps(data, allow_nan=False))
    except ValidationError as exc:
        errors = [_shape_error(e) for e in exc.errors()]
        raise FlowShapeError(list(dict.fromkeys(errors))) from None
    except (TypeError, ValueError) as exc:  # not JSON-encodable input
        raise FlowShapeError([ShapeError("$", f"not JSON data: {exc}")]) from None


def _shape_error(error: Any) -> ShapeError:
    loc = list(error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    # A node's errors carry the discriminator's tag after the node id ("nodes", id, "menu",
    # ...), which is not part of the document's path.
    if len(loc) >= 3 and loc[0] == "nodes":
        del loc[2]
    # A variable's value fails once per member of the value union; say it once.
    if len(loc) == 3 and loc[0] == "variables":
        del loc[2]
        message = "a variable's value must be text, a number, true or false"
    return ShapeError(json_path(loc), message)


def json_path(loc: list[int | str]) -> str:
    """A pydantic location as a readable JSON path: nodes.menu.options[0].key."""
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "a").isalnum() and part.isascii():
            path += f".{part}"
        else:
            path += f"[{json.dumps(str(part))}]"
    return path
