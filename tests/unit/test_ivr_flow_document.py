"""The flow document: what parses, what does not and where it says the error is."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr_messenger import FlowShapeError, parse_flow
from tests.unit.ivr_flows import EXAMPLE, example

DOCS = Path(__file__).parents[2] / "docs" / "ivr.md"


def errors_of(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(FlowShapeError) as caught:
        parse_flow(document)
    return [(e.path, e.message) for e in caught.value.errors]


def test_the_example_round_trips_through_json() -> None:
    flow = example()
    assert parse_flow(flow.to_json()) == flow
    assert parse_flow(flow.to_data()) == flow


def test_a_condition_keeps_else_as_its_stored_name() -> None:
    document = copy.deepcopy(EXAMPLE)
    document["nodes"]["sorry"] = {"type": "condition", "branches": [], "else": "message"}
    flow = parse_flow(document)
    stored = flow.to_data()["nodes"]["sorry"]
    assert stored["else"] == "message" and "otherwise" not in stored
    assert parse_flow(flow.to_json()) == flow


def test_the_docs_example_is_the_tested_example() -> None:
    text = DOCS.read_text()
    match = re.search(r"<!-- example -->\s*```json\n(.*?)```", text, re.DOTALL)
    assert match is not None, "docs/ivr.md must keep its example under <!-- example -->"
    assert json.loads(match.group(1)) == EXAMPLE


def test_malformed_json_says_where() -> None:
    [(path, message)] = errors_of('{"languages": ["it"], "start": ')
    assert path == "$"
    assert "line 1 column" in message


def test_every_shape_error_is_reported_with_its_json_path() -> None:
    document = copy.deepcopy(EXAMPLE)
    nodes = document["nodes"]
    nodes["main_menu"]["options"][0]["key"] = 1  # a number, not a string
    nodes["main_menu"]["colour"] = "red"  # unknown field
    nodes["welcome"]["prompt"]["it"] = {"tts": "Ciao", "recording": "welcome-it"}
    nodes["sales"]["priority"] = "high"
    nodes["bogus"] = {"type": "teleport"}
    nodes["bad id"] = {"type": "hangup"}
    document["variables"] = {"x": None}
    found = errors_of(document)
    paths = [path for path, _ in found]
    assert paths == [
        "$.variables.x",
        "$.nodes.welcome.prompt.it",
        "$.nodes.main_menu.options[0].key",
        "$.nodes.main_menu.colour",
        "$.nodes.sales.priority",
        "$.nodes.bogus",
        '$.nodes["bad id"]',
    ]
    messages = dict(found)
    assert "exactly one of 'tts'" in messages["$.nodes.welcome.prompt.it"]
    assert "teleport" in messages["$.nodes.bogus"]
    assert "text, a number, true or false" in messages["$.variables.x"]


def test_strict_types_are_not_coerced() -> None:
    document = copy.deepcopy(EXAMPLE)
    document["nodes"]["sales"]["service_id"] = "1"
    assert errors_of(document) == [("$.nodes.sales.service_id", "Input should be a valid integer")]


def test_required_edges_may_be_null_in_a_draft_but_must_be_present() -> None:
    document = copy.deepcopy(EXAMPLE)
    document["nodes"]["welcome"]["next"] = None
    parse_flow(document)  # a draft's unwired edge: the validator reports it
    del document["nodes"]["welcome"]["next"]
    assert errors_of(document) == [("$.nodes.welcome.next", "Field required")]


def test_a_transfer_needs_exactly_one_target() -> None:
    document = copy.deepcopy(EXAMPLE)
    document["nodes"]["sorry"] = {"type": "transfer", "target": {"number": "+3906", "agent_id": 7}}
    [(path, message)] = errors_of(document)
    assert path == "$.nodes.sorry.target"
    assert "exactly one of 'number', 'agent_id' or 'line'" in message


def test_not_json_data() -> None:
    assert errors_of({"languages": {1, 2}})[0][0] == "$"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200)
@given(st.one_of(st.text(max_size=80), json_values.map(json.dumps)))
def test_any_input_parses_or_lists_errors_never_a_traceback(text: str) -> None:
    try:
        parse_flow(text)
    except FlowShapeError as exc:
        assert exc.errors and all(e.path.startswith("$") for e in exc.errors)


@settings(max_examples=200)
@given(st.data())
def test_a_damaged_example_parses_or_lists_errors(data: st.DataObject) -> None:
    document = copy.deepcopy(EXAMPLE)
    node_id = data.draw(st.sampled_from(sorted(document["nodes"])))
    node = document["nodes"][node_id]
    field = data.draw(st.sampled_from(sorted(node)))
    node[field] = data.draw(json_values)
    try:
        parse_flow(document)
    except FlowShapeError as exc:
        assert all(e.path.startswith("$") for e in exc.errors)
