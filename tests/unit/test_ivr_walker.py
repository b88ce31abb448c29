"""The dry run, node kind by node kind: the path taken, the actions, the outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ivr_messenger import Script, validate, walk
from ivr_messenger.session import (
    AwaitDigits,
    CallbackRequested,
    CreateCallback,
    CreateVoicemail,
    Enqueue,
    FlowError,
    Hangup,
    HttpFailed,
    HttpRequest,
    HttpResponse,
    HungUp,
    LeaveQueue,
    Play,
    Queued,
    Say,
    SetLanguage,
    Transfer,
    Transferred,
    VoicemailLeft,
)
from ivr_messenger.walker import StepLimitReached, WaitingForInput
from tests.unit.ivr_flows import CLOSED, CONTEXT, HOLIDAY, OPEN, SUB, example, flow, say

BYE = {"type": "hangup", "prompt": say("Arrivederci", "Goodbye")}


def start(next_node: str) -> dict[str, Any]:
    return {"type": "start", "next": next_node}


def branches(result: Any) -> list[tuple[str, str | None, str | None]]:
    """(node, branch, target) of every visit that left by an edge."""
    return [(v.node, v.branch, v.target) for v in result.path if v.branch is not None]


# ---- The documented example. ----


def test_open_hours_menu_one_queues_to_sales() -> None:
    result = walk(example(), Script(clock=OPEN, inputs=["1"]))
    assert result.nodes == ["start", "welcome", "hours", "main_menu", "main_menu", "sales"]
    assert result.outcome == Queued(service_id=1, priority=5)
    assert (
        result.lines(CONTEXT.services)[-1] == "Outcome: queued to service 1 (Sales) with priority 5"
    )
    plays = [a for a in result.actions if isinstance(a, Play)]
    assert plays[0].prompts == (Say("recording", "welcome-it", "it"),)  # Italian by default


def test_closed_hours_and_holidays_go_to_voicemail() -> None:
    for clock in (CLOSED, HOLIDAY):
        result = walk(example(), Script(clock=clock, caller="+390612345"))
        assert result.outcome == VoicemailLeft(service_id=2, recording_id="dry-run-recording")
        [create] = [a for a in result.actions if isinstance(a, CreateVoicemail)]
        assert (create.service_id, create.caller, create.language) == (2, "+390612345", "it")
        assert result.actions[-1] == Hangup("done")


def test_english_prompts_when_the_call_is_in_english() -> None:
    result = walk(example(), Script(clock=OPEN, language="en"))
    ask = result.actions[-1]
    assert isinstance(ask, AwaitDigits)
    assert ask.prompts == (Say("tts", "For sales press 1, for support press 2.", "en"),)
    assert result.outcome == WaitingForInput("main_menu", None, "digits")
    assert result.lines()[-1] == "Outcome: waiting for input at main_menu (digits)"


# ---- Menu. ----


def test_menu_retries_then_takes_the_invalid_branch() -> None:
    result = walk(example(), Script(clock=OPEN, inputs=["9", "9", "9"]))
    assert branches(result)[-1] == ("main_menu", "invalid", "sorry")
    assert result.outcome == HungUp(reason="flow")
    asks = [a for a in result.actions if isinstance(a, AwaitDigits)]
    assert len(asks) == 3  # the first prompt and two retries
    assert asks[1].prompts[0] == Say("tts", "Scelta non valida.", "it")


def test_menu_timeouts_take_the_timeout_branch() -> None:
    result = walk(example(), Script(clock=OPEN, inputs=["timeout"] * 3 + ["answer"]))
    assert ("main_menu", "timeout", "sales") in branches(result)
    assert result.outcome == Queued(service_id=1, priority=5)


def test_a_right_key_after_a_wrong_one() -> None:
    result = walk(example(), Script(clock=OPEN, inputs=["7", "2"]))
    assert branches(result)[-1] == ("main_menu", "options[1]", "support")


def test_an_unwired_optional_branch_hangs_up() -> None:
    menu = {"type": "menu", "prompt": say("1?", "1?"), "options": [{"key": "1", "next": "bye"}]}
    result = walk(
        flow({"start": start("m"), "m": {**menu, "max_retries": 0}, "bye": BYE}),
        Script(clock=OPEN, inputs=["5"]),
    )
    assert result.outcome == HungUp(reason="flow")
    assert branches(result)[-1] == ("m", "invalid", None)


# ---- Collect digits. ----

COLLECT = {
    "type": "collect",
    "prompt": say("Codice?", "Code?"),
    "into": "code",
    "min_length": 4,
    "max_length": 6,
    "pattern": "[0-9]+",
    "max_retries": 1,
    "next": "bye",
    "invalid": "wrong",
}
WRONG = {"type": "hangup", "prompt": say("Codice errato", "Wrong code")}


def test_collected_digits_land_in_the_variable_without_the_terminator() -> None:
    f = flow({"start": start("c"), "c": COLLECT, "bye": BYE, "wrong": WRONG})
    result = walk(f, Script(clock=OPEN, inputs=["1234#"]))
    assert result.variables["code"] == "1234"
    assert branches(result)[-1] == ("c", "next", "bye")
    ask = next(a for a in result.actions if isinstance(a, AwaitDigits))
    assert (ask.max_digits, ask.terminator) == (6, "#")


@pytest.mark.parametrize("bad", ["12", "1234567", "12*4"])
def test_digits_of_the_wrong_length_or_pattern_are_refused(bad: str) -> None:
    f = flow({"start": start("c"), "c": COLLECT, "bye": BYE, "wrong": WRONG})
    result = walk(f, Script(clock=OPEN, inputs=[bad, bad]))
    assert branches(result)[-1] == ("c", "invalid", "wrong")
    assert result.variables["code"] == ""


def test_collect_timeout_without_branch_hangs_up() -> None:
    f = flow({"start": start("c"), "c": COLLECT, "bye": BYE, "wrong": WRONG})
    result = walk(f, Script(clock=OPEN, inputs=["timeout", "timeout"]))
    assert branches(result)[-1] == ("c", "timeout", None)
    assert result.outcome == HungUp(reason="flow")


# ---- Business hours. ----


def hours_flow(**holiday: str) -> Any:
    hours = {
        "type": "business_hours",
        "schedule": {"tz": "Europe/Rome", "mon": [["09:00", "18:00"]], "holidays": ["2026-11-23"]},
        "open": "o",
        "closed": "c",
        **holiday,
    }
    leaf = {"type": "hangup"}
    return flow({"start": start("h"), "h": hours, "o": leaf, "c": leaf, "x": leaf})


def test_a_holiday_takes_the_holiday_branch_or_else_closed() -> None:
    assert branches(walk(hours_flow(holiday="x"), Script(clock=OPEN)))[-1] == ("h", "holiday", "x")
    assert branches(walk(hours_flow(), Script(clock=OPEN)))[-1] == ("h", "closed", "c")
    tuesday = OPEN + timedelta(days=1)
    assert branches(walk(hours_flow(holiday="x"), Script(clock=tuesday)))[-1] == (
        "h",
        "closed",
        "c",
    )


# ---- Condition, set variable. ----


def test_conditions_take_the_first_true_branch_else_else() -> None:
    condition = {
        "type": "condition",
        "branches": [
            {"when": "startswith(caller, '+39')", "next": "it"},
            {"when": "true", "next": "other"},
        ],
        "else": "never",
    }
    leaf = {"type": "hangup"}
    f = flow({"start": start("c"), "c": condition, "it": leaf, "other": leaf, "never": leaf})
    assert branches(walk(f, Script(clock=OPEN, caller="+390612")))[-1] == ("c", "branches[0]", "it")
    assert branches(walk(f, Script(clock=OPEN, caller="+441234")))[-1] == (
        "c",
        "branches[1]",
        "other",
    )


def test_a_counter_loop_runs_until_its_condition() -> None:
    nodes = {
        "start": start("count"),
        "count": {"type": "set_variable", "variable": "n", "value": "n + 1", "next": "check"},
        "check": {
            "type": "condition",
            "branches": [{"when": "n >= 3", "next": "bye"}],
            "else": "count",
        },
        "bye": BYE,
    }
    result = walk(flow(nodes, variables={"n": 0}), Script(clock=OPEN))
    assert result.variables["n"] == 3
    assert result.nodes.count("count") == 3


def test_a_run_time_error_goes_to_the_fallback_or_hangs_up() -> None:
    condition = {"type": "condition", "branches": [{"when": "n + 1", "next": "bye"}], "else": "bye"}
    nodes = {"start": start("c"), "c": condition, "bye": BYE, "sorry": BYE}
    result = walk(flow(nodes, variables={"n": 0}, fallback="sorry"), Script(clock=OPEN))
    assert (
        isinstance(result.actions[0], FlowError)
        and "not true or false" in result.actions[0].message
    )
    assert branches(result)[-1] == ("c", "fallback", "sorry")
    result = walk(flow(nodes, variables={"n": 0}), Script(clock=OPEN))
    assert result.outcome == HungUp(reason="error")


# ---- HTTP lookup. ----

LOOKUP = {
    "type": "http_lookup",
    "method": "POST",
    "url": "https://crm.example/lookup",
    "send": ["caller"],
    "fields": {"customer": "customer.name", "first_order": "orders.0.id"},
    "next": "bye",
    "failure": "sorry",
}


@pytest.mark.parametrize(
    ("answer", "branch"),
    [
        (HttpResponse(200, {"customer": {"name": "Ada"}, "orders": [{"id": 7}]}), "next"),
        (HttpResponse(200, {"customer": {"name": "Ada"}, "orders": []}), "failure"),
        (HttpResponse(200, {"customer": {"name": None}, "orders": [{"id": 7}]}), "failure"),
        (HttpResponse(503, {}), "failure"),
        (HttpFailed("connection refused"), "failure"),
        (None, "failure"),  # not in the script
    ],
)
def test_http_lookup_maps_fields_or_fails(answer: Any, branch: str) -> None:
    f = flow({"start": start("l"), "l": LOOKUP, "bye": BYE, "sorry": BYE})
    script = Script(clock=OPEN, caller="+3906", http={"l": answer} if answer else {})
    result = walk(f, script)
    [request] = [a for a in result.actions if isinstance(a, HttpRequest)]
    assert request == HttpRequest("l", "POST", "https://crm.example/lookup", {"caller": "+3906"}, 3)
    assert branches(result)[-1][1] == branch
    if branch == "next":
        assert (result.variables["customer"], result.variables["first_order"]) == ("Ada", 7)
    else:
        assert result.variables["customer"] == ""


# ---- Queue. ----

QUEUE = {
    "type": "queue",
    "service_id": 1,
    "priority": 3,
    "prompt": say("Attendere", "Please hold"),
    "max_wait_s": 120,
    "overflow": "vm",
    "callback_offer": {"key": "9", "prompt": say("Premi 9", "Press 9")},
    "callback": "bye",
}
VOICEMAIL = {"type": "voicemail", "service_id": 2, "prompt": say("Messaggio", "Message")}


def queue_flow() -> Any:
    return flow({"start": start("q"), "q": QUEUE, "vm": VOICEMAIL, "bye": BYE})


def test_queue_announces_then_waits_for_an_agent() -> None:
    result = walk(queue_flow(), Script(clock=OPEN, inputs=["5", "answer"]))
    assert result.outcome == Queued(service_id=1, priority=3)
    [enqueue] = [a for a in result.actions if isinstance(a, Enqueue)]
    assert (enqueue.service_id, enqueue.max_wait_s, enqueue.callback_key) == (1, 120, "9")
    assert enqueue.callback_prompts == (Say("tts", "Premi 9", "it"),)
    assert not any(isinstance(a, Hangup) for a in result.actions)  # the agent has the call


def test_queue_max_wait_overflows_after_leaving_the_queue() -> None:
    result = walk(queue_flow(), Script(clock=OPEN, inputs=["timeout"]))
    assert branches(result)[-1] == ("q", "overflow", "vm")
    assert LeaveQueue("q") in result.actions
    assert result.outcome == VoicemailLeft(service_id=2, recording_id="dry-run-recording")


def test_queue_callback_key_leaves_for_the_callback_branch() -> None:
    result = walk(queue_flow(), Script(clock=OPEN, inputs=["9"]))
    assert branches(result)[-1] == ("q", "callback", "bye")


def test_caller_hanging_up_in_queue_leaves_it() -> None:
    result = walk(queue_flow(), Script(clock=OPEN, inputs=["hangup"]))
    assert result.outcome == HungUp(reason="caller")
    assert result.actions[-1] == LeaveQueue("q")


# ---- Call-back request. ----

CALLBACK = {
    "type": "callback",
    "service_id": 2,
    "confirm_prompt": say("Ti richiamiamo al", "We will call you on"),
    "number_prompt": say("Digita il numero", "Type the number"),
    "slot_prompt": say("1 tra un'ora, 2 alle 17", "1 in an hour, 2 at 5 pm"),
    "slots": [{"key": "1", "after_minutes": 60}, {"key": "2", "at": "17:00"}],
    "time_zone": "Europe/Rome",
    "done_prompt": say("Grazie", "Thank you"),
    "max_retries": 1,
    "failure": "bye",
}


def callback_flow() -> Any:
    return flow({"start": start("cb"), "cb": CALLBACK, "bye": BYE})


def test_callback_on_the_callers_number_in_an_hour() -> None:
    result = walk(callback_flow(), Script(clock=OPEN, caller="0612345678", inputs=["1", "1"]))
    assert result.outcome == CallbackRequested(
        service_id=2, number="0612345678", due_at=OPEN + timedelta(hours=1)
    )
    confirm = next(a for a in result.actions if isinstance(a, AwaitDigits))
    assert confirm.prompts[-1] == Say("digits", "0612345678", "it")
    assert isinstance(result.actions[-3], CreateCallback)


def test_callback_on_another_number_at_five_in_rome() -> None:
    inputs = ["2", "0298765432#", "1", "2"]
    result = walk(callback_flow(), Script(clock=OPEN, caller="0612345678", inputs=inputs))
    assert result.outcome == CallbackRequested(
        service_id=2, number="0298765432", due_at=datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    )


def test_an_anonymous_caller_types_a_number_first() -> None:
    result = walk(callback_flow(), Script(clock=OPEN, inputs=["0298765432", "1", "1"]))
    assert isinstance(result.outcome, CallbackRequested)
    assert result.outcome.number == "0298765432"


def test_callback_retries_run_out_into_the_failure_branch() -> None:
    result = walk(callback_flow(), Script(clock=OPEN, caller="0612345678", inputs=["7", "timeout"]))
    assert branches(result)[-1] == ("cb", "failure", "bye")


def test_a_callback_without_slots_is_due_at_once() -> None:
    f = flow(
        {"start": start("cb"), "cb": {**CALLBACK, "slots": [], "slot_prompt": None}, "bye": BYE}
    )
    result = walk(f, Script(clock=OPEN, caller="0612345678", inputs=["1"]))
    assert isinstance(result.outcome, CallbackRequested) and result.outcome.due_at == OPEN


# ---- Transfer. ----


@pytest.mark.parametrize(
    ("target", "text"),
    [
        ({"number": "+390612345"}, "number +390612345"),
        ({"agent_id": 7}, "agent 7"),
        ({"line": "5551002"}, "line 5551002"),
    ],
)
def test_transfer_to_a_number_an_agent_or_a_line(target: dict[str, Any], text: str) -> None:
    f = flow(
        {
            "start": start("t"),
            "t": {"type": "transfer", "target": target, "failure": "bye"},
            "bye": BYE,
        }
    )
    result = walk(f, Script(clock=OPEN))
    assert isinstance(result.outcome, Transferred)
    assert result.outcome.target.describe() == text
    assert isinstance(result.actions[-1], Transfer)
    failed = walk(f, Script(clock=OPEN, failed_transfers=frozenset({"t"})))
    assert branches(failed)[-1] == ("t", "failure", "bye")


# ---- Language choice. ----


def language_flow() -> Any:
    choice = {
        "type": "language",
        "prompt": say("1 italiano, 2 English", "1 italiano, 2 English"),
        "options": [{"key": "1", "language": "it"}, {"key": "2", "language": "en"}],
        "next": "bye",
    }
    return flow({"start": start("l"), "l": choice, "bye": BYE})


def test_choosing_english_switches_the_prompts() -> None:
    result = walk(language_flow(), Script(clock=OPEN, inputs=["2"]))
    assert SetLanguage("en") in result.actions
    assert result.state.language == "en" and result.variables["language"] == "en"
    assert result.path[-1].prompts == (Say("tts", "Goodbye", "en"),)


def test_no_valid_choice_keeps_the_default_language() -> None:
    result = walk(language_flow(), Script(clock=OPEN, inputs=["5", "timeout"]))
    assert branches(result)[-1] == ("l", "keep it", "bye")
    assert result.path[-1].prompts == (Say("tts", "Arrivederci", "it"),)


# ---- Sub-flows. ----


def test_a_sub_flow_runs_and_returns() -> None:
    main = flow(
        {"start": start("s"), "s": {"type": "subflow", "flow_id": 40, "next": "bye"}, "bye": BYE}
    )
    assert validate(main, CONTEXT) == [] and validate(SUB, CONTEXT) == []
    result = walk(main, Script(clock=OPEN, inputs=["55#"]), subflows={40: SUB})
    assert [(v.flow_id, v.node) for v in result.path] == [
        (None, "start"),
        (None, "s"),
        (40, "start"),
        (40, "ask"),
        (40, "ask"),
        (40, "back"),
        (None, "bye"),
    ]
    assert result.variables["order"] == "55"
    assert result.outcome == HungUp(reason="flow")


def test_a_missing_sub_flow_goes_to_the_fallback() -> None:
    nodes = {
        "start": start("s"),
        "s": {"type": "subflow", "flow_id": 40, "next": "bye"},
        "bye": BYE,
    }
    result = walk(flow(nodes, fallback="bye"), Script(clock=OPEN))
    assert branches(result)[-1] == ("s", "fallback", "bye")


def test_a_sub_flow_calling_itself_is_stopped() -> None:
    recursive = flow(
        {"start": start("again"), "again": {"type": "subflow", "flow_id": 40, "next": None}},
        kind="subflow",
    )
    result = walk(recursive, Script(clock=OPEN), subflows={40: recursive})
    assert result.outcome == HungUp(reason="error")
    assert any(isinstance(a, FlowError) and "nested" in a.message for a in result.actions)


# ---- Bounds. ----


def test_a_loop_without_input_is_cut_by_the_hop_limit() -> None:
    nodes = {
        "start": start("a"),
        "a": {"type": "play", "prompt": say("a", "a"), "next": "b"},
        "b": {"type": "play", "prompt": say("b", "b"), "next": "a"},
    }
    result = walk(flow(nodes), Script(clock=OPEN))
    assert result.outcome == HungUp(reason="loop")
    assert result.steps == 1


def test_a_lookup_loop_is_cut_by_the_step_limit() -> None:
    lookup = {**LOOKUP, "next": "l", "failure": "l"}
    result = walk(flow({"start": start("l"), "l": lookup}), Script(clock=OPEN), max_steps=50)
    assert result.outcome == StepLimitReached(50)
    assert result.lines()[-1] == "Outcome: stopped after 50 steps"


def test_the_clock_must_be_aware() -> None:
    with pytest.raises(ValueError, match="time zone"):
        walk(example(), Script(clock=datetime(2026, 11, 23, 10, 0)))
