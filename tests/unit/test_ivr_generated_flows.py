"""Generated flows: valid by construction they validate clean, any script ends, and breaking
a reference is always reported.

Construction: nodes n0..nk where the last is terminal; a node that never waits for the caller
only links forward (to a higher index), a waiting one anywhere. Every cycle then passes through
a waiting node, so none is an endless loop; unreachable nodes are dropped afterwards. "Wild"
flows drop every rule (backward links everywhere, dangling and unwired edges) to check that the
validator and the walker cope with anything.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr_messenger import Script, parse_flow, validate, walk
from ivr_messenger.graph import reachable
from ivr_messenger.session import FlowError, HttpResponse
from ivr_messenger.walker import StepLimitReached
from tests.unit.ivr_flows import CLOSED, CONTEXT, HOLIDAY, OPEN, SUB, say

WAITING = ["menu", "collect", "language", "queue", "callback", "subflow"]
FORWARD = ["play", "business_hours", "condition", "set_variable", "http_lookup", "transfer"]
TERMINAL = ["hangup", "voicemail"]
CONDITIONS = [
    "tries > 2",
    "code == '123'",
    "len(code) >= 3 and not startswith(code, '0')",
    "startswith(caller, '+39')",
    "customer != ''",
    "language in ['en']",
]
SCHEDULE = {"tz": "Europe/Rome", "mon": [["09:00", "18:00"]], "holidays": ["2026-12-25"]}
VARIABLES = {"tries": 0, "code": "", "customer": ""}

Draw = Callable[[st.SearchStrategy[Any]], Any]
Pick = Callable[[], Any]


def build(kind: str, draw: Draw, target: Pick, optional: Pick) -> dict[str, Any]:
    """One node of `kind` with valid properties; edges from `target` / `optional`."""
    prompt = say(f"{kind} it", f"{kind} en")
    if kind == "play":
        return {"type": "play", "prompt": prompt, "next": target()}
    if kind == "business_hours":
        return {
            "type": "business_hours",
            "schedule": SCHEDULE,
            "open": target(),
            "closed": target(),
            "holiday": optional(),
        }
    if kind == "condition":
        whens = draw(st.lists(st.sampled_from(CONDITIONS), max_size=2))
        return {
            "type": "condition",
            "branches": [{"when": when, "next": target()} for when in whens],
            "else": target(),
        }
    if kind == "set_variable":
        return {"type": "set_variable", "variable": "tries", "value": "tries + 1", "next": target()}
    if kind == "http_lookup":
        return {
            "type": "http_lookup",
            "url": "https://crm.example/lookup",
            "send": ["caller"],
            "fields": {"customer": "customer.name"},
            "next": target(),
            "failure": target(),
        }
    if kind == "transfer":
        chosen = draw(
            st.sampled_from([{"number": "+390612345"}, {"agent_id": 7}, {"line": "5551002"}])
        )
        return {"type": "transfer", "target": chosen, "failure": optional()}
    if kind == "menu":
        keys = draw(st.lists(st.sampled_from("0123456789*#"), min_size=1, max_size=4, unique=True))
        return {
            "type": "menu",
            "prompt": prompt,
            "options": [{"key": key, "next": target()} for key in keys],
            "max_retries": draw(st.integers(0, 2)),
            "invalid": optional(),
            "timeout": optional(),
        }
    if kind == "collect":
        return {
            "type": "collect",
            "prompt": prompt,
            "into": "code",
            "max_length": 4,
            "pattern": draw(st.sampled_from([None, "[0-9]+", "1.*"])),
            "next": target(),
            "invalid": optional(),
            "timeout": optional(),
        }
    if kind == "language":
        return {
            "type": "language",
            "prompt": prompt,
            "options": [{"key": "1", "language": "it"}, {"key": "2", "language": "en"}],
            "next": target(),
        }
    if kind == "queue":
        node: dict[str, Any] = {"type": "queue", "service_id": draw(st.sampled_from([1, 2]))}
        if draw(st.booleans()):
            node.update(max_wait_s=60, overflow=target())
        if draw(st.booleans()):
            node.update(callback_offer={"key": "9", "prompt": prompt}, callback=target())
        return node
    if kind == "callback":
        slots = draw(
            st.sampled_from([[], [{"key": "1", "after_minutes": 30}, {"key": "2", "at": "17:00"}]])
        )
        node = {
            "type": "callback",
            "service_id": 2,
            "confirm_prompt": prompt,
            "number_prompt": prompt,
            "done_prompt": prompt,
            "slots": slots,
            "time_zone": "Europe/Rome",
            "failure": optional(),
        }
        if slots:
            node["slot_prompt"] = prompt
        return node
    if kind == "subflow":
        return {"type": "subflow", "flow_id": 40, "next": target()}
    if kind == "voicemail":
        return {"type": "voicemail", "service_id": 2, "prompt": prompt}
    return {"type": "hangup", "prompt": draw(st.sampled_from([None, prompt]))}


@st.composite
def documents(draw: Draw, wild: bool = False) -> dict[str, Any]:
    """A flow document: valid by construction, or (wild) wired at random."""
    # Terminal nodes only at the end: in the middle they would cut most paths short.
    kinds = draw(st.lists(st.sampled_from(WAITING + FORWARD), min_size=1, max_size=12))
    kinds.append(draw(st.sampled_from(TERMINAL)))
    ids = [f"n{i}" for i in range(len(kinds))]
    nodes: dict[str, Any] = {"start": {"type": "start", "next": "n0"}}
    for i, kind in enumerate(kinds):
        # Favouring the next node keeps most of the generated nodes reachable.
        following = st.just(ids[min(i + 1, len(ids) - 1)])
        if wild:
            pool = st.sampled_from(["start", *ids, "ghost"]) | st.none()
        elif kind in WAITING:
            pool = following | st.sampled_from(["start", *ids])
        else:
            pool = following | st.sampled_from(ids[i + 1 :] or ids[-1:])

        def target(pool: Any = pool) -> Any:
            return draw(pool)

        def optional(pool: Any = pool) -> Any:
            return draw(st.none() | pool)

        nodes[ids[i]] = build(kind, draw, target, optional)
    document = {
        "languages": ["it", "en"],
        "start": "start",
        "variables": dict(VARIABLES),
        "nodes": nodes,
    }
    if draw(st.booleans()):
        document["fallback"] = ids[-1]
    if not wild:
        keep = reachable(parse_flow(document), ["start", document.get("fallback", "start")])
        document["nodes"] = {k: v for k, v in nodes.items() if k in keep}
    return document


INPUTS = ["1", "2", "9", "0", "123#", "1234", "0612345678#", "timeout", "answer", "hangup"]
scripts = st.builds(
    Script,
    clock=st.sampled_from([OPEN, CLOSED, HOLIDAY]),
    inputs=st.lists(st.sampled_from(INPUTS), max_size=15),
    http=st.sampled_from(
        [
            {},
            {
                n: HttpResponse(200, {"customer": {"name": "Ada"}})
                for n in (f"n{i}" for i in range(12))
            },
        ]
    ),
    failed_transfers=st.frozensets(st.sampled_from([f"n{i}" for i in range(12)])),
    caller=st.sampled_from(["", "+390612345678", "0612345678"]),
    language=st.sampled_from([None, "en"]),
)


@settings(max_examples=150, deadline=None)
@given(documents())
def test_flows_valid_by_construction_validate_clean(document: dict[str, Any]) -> None:
    assert validate(parse_flow(document), CONTEXT) == []


@settings(max_examples=150, deadline=None)
@given(documents(), scripts)
def test_the_walker_ends_on_a_valid_flow_with_any_script(
    document: dict[str, Any], script: Script
) -> None:
    flow = parse_flow(document)
    result = walk(flow, script, subflows={40: SUB})
    assert not isinstance(result.outcome, StepLimitReached)
    assert result.steps <= (len(script.inputs) + 1) * (len(flow.nodes) + 2)
    assert not [a for a in result.actions if isinstance(a, FlowError)]
    for visit in result.path:
        assert visit.node in (flow if visit.flow_id is None else SUB).nodes


@settings(max_examples=150, deadline=None)
@given(documents(wild=True), scripts)
def test_validator_and_walker_cope_with_any_wiring(
    document: dict[str, Any], script: Script
) -> None:
    flow = parse_flow(document)
    validate(flow, CONTEXT)
    result = walk(flow, script, subflows={40: SUB}, max_steps=200)
    assert result.steps <= 200


def parent_of(node: dict[str, Any], path: str) -> tuple[Any, Any]:
    """The container of the field at a path such as "options[1].next", and its key there."""
    parts = [int(i) if i else name for name, i in re.findall(r"(\w+)|\[(\d+)\]", path)]
    target: Any = node
    for part in parts[:-1]:
        target = target[part]
    return target, parts[-1]


@settings(max_examples=150, deadline=None)
@given(documents(), st.data())
def test_breaking_a_reference_is_always_reported(
    document: dict[str, Any], data: st.DataObject
) -> None:
    flow = parse_flow(document)
    breakable: list[tuple[str, str, Callable[[dict[str, Any]], None], str]] = []
    for node_id, node in flow.nodes.items():
        for edge in node.edges():
            if edge.target is not None:

                def dangle(n: dict[str, Any], field: str = edge.field) -> None:
                    parent, key = parent_of(n, field)
                    parent[key] = "ghost"

                breakable.append((node_id, edge.field, dangle, "dangling_edge"))
        for field, _ in node.prompts():

            def unsay(n: dict[str, Any], field: str = field) -> None:
                parent, key = parent_of(n, f"{field}.en")
                del parent[key]

            breakable.append((node_id, f"{field}.en", unsay, "missing_prompt"))
        if node.type in ("queue", "voicemail", "callback"):
            breakable.append(
                (node_id, "service_id", lambda n: n.update(service_id=99), "unknown_service")
            )
        if node.type == "menu" and len(document["nodes"][node_id]["options"]) > 1:

            def duplicate(n: dict[str, Any]) -> None:
                n["options"][1]["key"] = n["options"][0]["key"]

            breakable.append((node_id, "options[1].key", duplicate, "duplicate_dtmf"))
        if node.type == "play":
            breakable.append(
                (node_id, "", lambda n, me=node_id: n.update(next=me), "loop_without_input")
            )
    if not breakable:
        return
    node_id, field, breaking, code = data.draw(st.sampled_from(breakable))
    damaged = copy.deepcopy(document)
    breaking(damaged["nodes"][node_id])
    problems = validate(parse_flow(damaged), CONTEXT)
    assert (node_id, field, code) in [(p.node_id, p.field, p.code) for p in problems]
