"""The validator: one breakage per problem code, each reported exactly where it is.

Each case damages the (valid) documented example in one way and expects exactly the listed
problems, so removing a check, or making it report elsewhere, fails its case. A last test
makes sure every code the validator knows has a case here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ivr_messenger import CODES, parse_flow, validate
from tests.unit.ivr_flows import CONTEXT, EXAMPLE, example, say

DOCS = Path(__file__).parents[2] / "docs" / "ivr.md"
Document = dict[str, Any]
Expected = list[tuple[str | None, str, str]]


def nodes(document: Document) -> dict[str, Any]:
    result: dict[str, Any] = document["nodes"]
    return result


def add(node_id: str, node: dict[str, Any]) -> Callable[[Document], None]:
    """Add a node, reached from the menu's invalid branch (so it is not unreachable)."""

    def change(document: Document) -> None:
        nodes(document)[node_id] = node
        nodes(document)["main_menu"]["invalid"] = node_id

    return change


def setting(path: list[Any], value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def removal(path: list[Any]) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        target: Any = document
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


COLLECT = {
    "type": "collect",
    "prompt": say("Codice cliente?", "Customer code?"),
    "into": "code",
    "next": "sorry",
}
CALLBACK = {
    "type": "callback",
    "service_id": 1,
    "confirm_prompt": say("Premi 1 per confermare", "Press 1 to confirm"),
    "number_prompt": say("Digita il numero", "Type the number"),
    "done_prompt": say("Grazie", "Thank you"),
}
HTTP = {
    "type": "http_lookup",
    "url": "https://crm.example/lookup",
    "send": ["caller"],
    "fields": {"customer": "customer.name"},
    "next": "sorry",
    "failure": "sorry",
}

CASES: list[tuple[str, Callable[[Document], None], Expected]] = [
    ("missing_start", setting(["start"], "begin"), [(None, "start", "missing_start")]),
    (
        "bad_start",
        setting(["start"], "welcome"),
        [(None, "start", "bad_start"), ("start", "", "unreachable")],
    ),
    (
        "bad_languages",
        setting(["languages"], ["it", "en", "it"]),
        [(None, "languages[2]", "bad_languages")],
    ),
    (
        "unreachable",
        setting(["nodes", "orphan"], {"type": "hangup"}),
        [("orphan", "", "unreachable")],
    ),
    (
        "dangling_edge",
        setting(["nodes", "sales", "overflow"], "mesage"),
        [("sales", "overflow", "dangling_edge")],
    ),
    (
        "dangling_edge: the fallback",
        setting(["fallback"], "nowhere"),
        [(None, "fallback", "dangling_edge")],
    ),
    (
        "missing_edge",
        setting(["nodes", "hours", "closed"], None),
        [("hours", "closed", "missing_edge")],
    ),
    (
        "missing_edge: overflow is required with a max wait",
        setting(["nodes", "support", "overflow"], None),
        [("support", "overflow", "missing_edge")],
    ),
    (
        "missing_prompt",
        removal(["nodes", "main_menu", "prompt", "en"]),
        [("main_menu", "prompt.en", "missing_prompt")],
    ),
    (
        "missing_prompt: empty text",
        setting(["nodes", "sorry", "prompt", "it", "tts"], "  "),
        [("sorry", "prompt.it", "missing_prompt")],
    ),
    (
        "missing_prompt: slots need a prompt",
        add("cb", {**CALLBACK, "slots": [{"key": "1", "after_minutes": 60}]}),
        [("cb", "slot_prompt", "missing_prompt")],
    ),
    (
        "unknown_language",
        setting(["nodes", "sorry", "prompt", "fr"], {"tts": "Désolé"}),
        [("sorry", "prompt.fr", "unknown_language")],
    ),
    (
        "unknown_language: a language choice",
        add(
            "lang",
            {
                "type": "language",
                "prompt": say("1 italiano, 2 deutsch", "1 Italian, 2 German"),
                "options": [{"key": "1", "language": "it"}, {"key": "2", "language": "de"}],
                "next": "sorry",
            },
        ),
        [("lang", "options[1].language", "unknown_language")],
    ),
    (
        "unknown_prompt",
        setting(["nodes", "welcome", "prompt", "it", "recording"], "benvenuti"),
        [("welcome", "prompt.it", "unknown_prompt")],
    ),
    (
        "duplicate_dtmf",
        setting(["nodes", "main_menu", "options", 1, "key"], "1"),
        [("main_menu", "options[1].key", "duplicate_dtmf")],
    ),
    (
        "duplicate_dtmf: confirm and change keys",
        add("cb", {**CALLBACK, "change_key": "1"}),
        [("cb", "change_key", "duplicate_dtmf")],
    ),
    (
        "invalid_dtmf",
        setting(["nodes", "main_menu", "options", 0, "key"], "A"),
        [("main_menu", "options[0].key", "invalid_dtmf")],
    ),
    (
        "invalid_dtmf: two keys",
        setting(["nodes", "main_menu", "options", 0, "key"], "12"),
        [("main_menu", "options[0].key", "invalid_dtmf")],
    ),
    (
        "invalid_dtmf: a terminator",
        add("code", {**COLLECT, "terminator": "5"}),
        [("code", "terminator", "invalid_dtmf")],
    ),
    (
        "invalid_dtmf: the queue's call-back key",
        setting(
            ["nodes", "sales", "callback_offer"],
            {"key": "x", "prompt": say("Premi x", "Press x")},
        ),
        [("sales", "callback", "missing_edge"), ("sales", "callback_offer.key", "invalid_dtmf")],
    ),
    (
        "no_options",
        setting(["nodes", "main_menu", "options"], []),
        [("main_menu", "options", "no_options"), ("support", "", "unreachable")],
    ),
    (
        "loop_without_input",
        lambda d: nodes(d).update(
            hours={**nodes(d)["hours"], "closed": "closed1"},
            closed1={"type": "play", "prompt": say("Chiuso", "Closed"), "next": "closed2"},
            closed2={"type": "play", "prompt": say("Chiuso!", "Closed!"), "next": "closed1"},
        ),
        [("closed1", "", "loop_without_input")],
    ),
    (
        "loop_without_input: a way out that never changes",
        lambda d: nodes(d).update(
            hours={**nodes(d)["hours"], "closed": "again"},
            again={
                "type": "business_hours",
                "schedule": nodes(d)["hours"]["schedule"],
                "open": "main_menu",
                "closed": "wait",
            },
            wait={"type": "play", "prompt": say("Attendere", "Please wait"), "next": "again"},
        ),
        [("again", "", "loop_without_input")],
    ),
    (
        "unknown_service",
        setting(["nodes", "sales", "service_id"], 99),
        [("sales", "service_id", "unknown_service")],
    ),
    (
        "unknown_agent",
        add("xfer", {"type": "transfer", "target": {"agent_id": 8}}),
        [("xfer", "target.agent_id", "unknown_agent")],
    ),
    (
        "unknown_line",
        add("xfer", {"type": "transfer", "target": {"line": "5559999"}}),
        [("xfer", "target.line", "unknown_line")],
    ),
    (
        "unknown_subflow",
        add("sub", {"type": "subflow", "flow_id": 41, "next": "sorry"}),
        [("sub", "flow_id", "unknown_subflow")],
    ),
    (
        "bad_schedule: time zone",
        setting(["nodes", "hours", "schedule", "tz"], "Mars/Olympus"),
        [("hours", "schedule.tz", "bad_schedule")],
    ),
    (
        "bad_schedule: time of day",
        setting(["nodes", "hours", "schedule", "tue"], [["09:00", "25:00"]]),
        [("hours", "schedule.tue[0]", "bad_schedule")],
    ),
    (
        "bad_schedule: a range ending before it starts",
        setting(["nodes", "hours", "schedule", "wed"], [["18:00", "09:00"]]),
        [("hours", "schedule.wed[0]", "bad_schedule")],
    ),
    (
        "bad_schedule: holiday",
        setting(["nodes", "hours", "schedule", "holidays"], ["2026-12-25", "25/12/2026"]),
        [("hours", "schedule.holidays[1]", "bad_schedule")],
    ),
    (
        "bad_schedule: call-back slot",
        add(
            "cb",
            {
                **CALLBACK,
                "time_zone": "Europe/Atlantis",
                "slot_prompt": say("1 alle 9", "1 at 9"),
                "slots": [{"key": "1", "at": "9:00"}],
            },
        ),
        [("cb", "slots[0].at", "bad_schedule"), ("cb", "time_zone", "bad_schedule")],
    ),
    (
        "bad_pattern",
        add("code", {**COLLECT, "pattern": "([0-9]"}),
        [("code", "pattern", "bad_pattern")],
    ),
    (
        "bad_pattern: too long",
        add("code", {**COLLECT, "pattern": "[0-9]" * 41}),
        [("code", "pattern", "bad_pattern")],
    ),
    (
        "bad_expression",
        add(
            "check",
            {
                "type": "condition",
                "branches": [{"when": "caller ==", "next": "sales"}],
                "else": "sorry",
            },
        ),
        [("check", "branches[0].when", "bad_expression")],
    ),
    (
        "unknown_variable",
        add(
            "check",
            {
                "type": "condition",
                "branches": [{"when": "vip == true", "next": "sales"}],
                "else": "sorry",
            },
        ),
        [("check", "branches[0].when", "unknown_variable")],
    ),
    (
        "unknown_variable: sent by a lookup",
        add("crm", {**HTTP, "send": ["caller", "account"]}),
        [("crm", "send[1]", "unknown_variable")],
    ),
    (
        "bad_variable_name",
        setting(["variables"], {"caller": "x", "or": 1, "fine": True}),
        [
            (None, "variables.caller", "bad_variable_name"),
            (None, "variables.or", "bad_variable_name"),
        ],
    ),
    (
        "bad_variable_name: collecting into a built-in",
        add("code", {**COLLECT, "into": "language"}),
        [("code", "into", "bad_variable_name")],
    ),
    (
        "bad_length",
        add("code", {**COLLECT, "min_length": 6, "max_length": 4}),
        [("code", "min_length", "bad_length")],
    ),
    ("bad_url", add("crm", {**HTTP, "url": "ftp://crm.example/x"}), [("crm", "url", "bad_url")]),
    (
        "bad_field_path",
        add("crm", {**HTTP, "fields": {"customer": "customer..name"}}),
        [("crm", "fields.customer", "bad_field_path")],
    ),
    (
        "return_outside_subflow",
        add("back", {"type": "return"}),
        [("back", "type", "return_outside_subflow")],
    ),
]


def damaged(change: Callable[[Document], None]) -> Any:
    document = copy.deepcopy(EXAMPLE)
    change(document)
    return parse_flow(document)


def test_the_example_is_valid() -> None:
    assert validate(example(), CONTEXT) == []


@pytest.mark.parametrize(("name", "change", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_problem_is_reported_where_it_is(
    name: str, change: Callable[[Document], None], expected: Expected
) -> None:
    problems = validate(damaged(change), CONTEXT)
    assert [(p.node_id, p.field, p.code) for p in problems] == expected
    for problem in problems:
        assert problem.message.endswith(".") and problem.message[0].isupper(), problem.message


def test_every_code_has_a_case_and_is_documented() -> None:
    tested = {code for _, _, expected in CASES for _, _, code in expected}
    assert tested == set(CODES)
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOCS.read_text(), re.MULTILINE))
    assert set(CODES) <= documented


def test_messages_are_plain_sentences_naming_the_culprit() -> None:
    flow = damaged(setting(["nodes", "sales", "overflow"], "mesage"))
    [problem] = validate(flow, CONTEXT)
    assert problem.message == "This edge leads to 'mesage', which does not exist."
    flow = damaged(
        add(
            "check",
            {"type": "condition", "branches": [{"when": "1 <", "next": "x"}], "else": "sorry"},
        )
    )
    messages = [p.message for p in validate(flow, CONTEXT)]
    assert "Expected a value, found the end at column 4." in messages


def test_all_problems_are_reported_at_once_in_a_stable_order() -> None:
    """Several independent breakages give the union of their problems, sorted."""
    chosen = [CASES[i] for i in (2, 4, 8, 14, 23, 28, 33)]

    def everything(document: Document) -> None:
        for _, change, _ in chosen:
            change(document)

    problems = validate(damaged(everything), CONTEXT)
    expected = sorted(
        {item for _, _, found in chosen for item in found},
        key=lambda p: (p[0] is not None, p[0] or "", p[1], p[2]),
    )
    assert [(p.node_id, p.field, p.code) for p in problems] == expected
    assert validate(damaged(everything), CONTEXT) == problems


def test_a_counting_loop_with_a_way_out_is_fine() -> None:
    def retry_loop(document: Document) -> None:
        document["variables"] = {"tries": 0}
        nodes(document)["main_menu"]["invalid"] = "count"
        nodes(document)["count"] = {
            "type": "set_variable",
            "variable": "tries",
            "value": "tries + 1",
            "next": "enough",
        }
        nodes(document)["enough"] = {
            "type": "condition",
            "branches": [{"when": "tries >= 3", "next": "sorry"}],
            "else": "count",
        }

    assert validate(damaged(retry_loop), CONTEXT) == []


def test_a_loop_through_a_menu_waits_for_the_caller() -> None:
    flow = damaged(setting(["nodes", "main_menu", "invalid"], "welcome"))
    assert validate(flow, CONTEXT) == []


def test_a_sub_flow_may_return() -> None:
    document = copy.deepcopy(EXAMPLE)
    document["kind"] = "subflow"
    nodes(document)["sorry"] = {"type": "return"}
    assert validate(parse_flow(document), CONTEXT) == []
