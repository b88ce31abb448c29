"""The step function's contract with the executor: persisted state, resuming, ignored events."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ivr_messenger import CallState, new_call, step
from ivr_messenger.session import (
    AgentAnswered,
    AwaitDigits,
    CallerHungUp,
    Digits,
    Enqueue,
    Event,
    FlowError,
    HttpRequest,
    HttpResponse,
    HungUp,
    Queued,
    Resume,
    Start,
    Timeout,
    TransferResult,
)
from tests.unit.ivr_flows import CLOSED, OPEN, example, flow, say

BYE = {"type": "hangup", "prompt": say("Arrivederci", "Goodbye")}


def at_menu() -> CallState:
    result = step(example(), new_call(example()), Start(), now=OPEN)
    assert result.state.awaiting == "digits" and result.state.node == "main_menu"
    return result.state


def test_a_new_call_has_every_variable_it_can_read() -> None:
    f = flow(
        {
            "start": {"type": "start", "next": "c"},
            "c": {"type": "collect", "prompt": say("?", "?"), "into": "code", "next": None},
        },
        variables={"tries": 0},
    )
    state = new_call(f, caller="+3906", dialled="5551001", language="en", variables={"tries": 2})
    assert state.variables == {
        "caller": "+3906",
        "dialled": "5551001",
        "language": "en",
        "code": "",
        "tries": 2,
    }
    assert new_call(f, language="fr").language == "it"  # not a language of the flow


events = st.lists(
    st.one_of(
        st.sampled_from(["1", "2", "9", ""]).map(Digits),
        st.just(Timeout()),
        st.just(AgentAnswered()),
        st.just(Resume()),
        st.just(TransferResult(answered=False)),
    ),
    max_size=8,
)


@given(events, st.sampled_from([OPEN, CLOSED]))
def test_a_state_reloaded_from_json_at_every_step_behaves_the_same(
    script: list[Event], now: Any
) -> None:
    """The executor persists the state after each step; a reload must change nothing."""
    f = example()
    kept = reloaded = new_call(f, caller="+3906")
    for event in [Start(), *script]:
        direct = step(f, kept, event, now=now)
        via_json = step(
            f, CallState.model_validate_json(reloaded.model_dump_json()), event, now=now
        )
        assert direct == via_json
        kept, reloaded = direct.state, via_json.state


def test_resume_at_a_menu_asks_again() -> None:
    result = step(example(), at_menu().model_copy(update={"retries": 1}), Resume(), now=OPEN)
    [ask] = result.actions
    assert isinstance(ask, AwaitDigits) and ask.node == "main_menu"
    assert result.state.retries == 1  # the caller's tries so far still count


def test_resume_in_a_queue_queues_again() -> None:
    queued = step(example(), at_menu(), Digits("1"), now=OPEN).state
    assert queued.awaiting == "queue"
    [enqueue] = step(example(), queued, Resume(), now=OPEN).actions
    assert isinstance(enqueue, Enqueue) and enqueue.service_id == 1


def test_a_transfer_in_progress_cannot_resume_and_goes_to_the_fallback() -> None:
    f = flow(
        {
            "start": {"type": "start", "next": "t"},
            "t": {"type": "transfer", "target": {"number": "+3906123"}},
            "sorry": BYE,
        },
        fallback="sorry",
    )
    ringing = step(f, new_call(f), Start(), now=OPEN).state
    assert ringing.awaiting == "transfer"
    result = step(f, ringing, Resume(), now=OPEN)
    assert isinstance(result.actions[0], FlowError)
    assert result.state.outcome == HungUp(reason="flow")
    assert [v.node for v in result.visits] == ["t", "sorry"]


def lookup_flow(method: str) -> Any:
    lookup = {
        "type": "http_lookup",
        "method": method,
        "url": "https://crm.example/x",
        "fields": {},
        "next": "bye",
        "failure": "bye",
    }
    return flow({"start": {"type": "start", "next": "l"}, "l": lookup, "bye": BYE})


def test_only_a_get_lookup_is_repeated_on_resume() -> None:
    get = lookup_flow("GET")
    waiting = step(get, new_call(get), Start(), now=OPEN).state
    assert isinstance(step(get, waiting, Resume(), now=OPEN).actions[0], HttpRequest)
    post = lookup_flow("POST")
    waiting = step(post, new_call(post), Start(), now=OPEN).state
    result = step(post, waiting, Resume(), now=OPEN)
    assert result.state.outcome == HungUp(reason="error")  # no fallback in this flow


def test_events_the_call_does_not_wait_for_change_nothing() -> None:
    f = lookup_flow("GET")
    waiting = step(f, new_call(f), Start(), now=OPEN).state
    for event in (Digits("1"), AgentAnswered(), Start(), TransferResult(answered=True)):
        assert step(f, waiting, event, now=OPEN).state == waiting
    # A queued call ignores keys that are not the call-back key.
    queued = step(example(), at_menu(), Digits("1"), now=OPEN)
    again = step(example(), queued.state, Digits("5"), now=OPEN)
    assert again.state == queued.state and again.actions == ()


def test_a_new_call_only_starts() -> None:
    state = new_call(example())
    assert step(example(), state, Digits("1"), now=OPEN).state == state


def test_an_ended_call_ignores_everything() -> None:
    queued = step(example(), at_menu(), Digits("1"), now=OPEN).state
    answered = step(example(), queued, AgentAnswered(), now=OPEN)
    assert answered.state.outcome == Queued(service_id=1, priority=5)
    assert answered.state.awaiting is None
    for event in (Start(), Resume(), Digits("1"), CallerHungUp()):
        assert step(example(), answered.state, event, now=OPEN).state == answered.state


def test_the_caller_hanging_up_ends_the_call_without_a_hangup_action() -> None:
    result = step(example(), at_menu(), CallerHungUp(), now=OPEN)
    assert result.state.outcome == HungUp(reason="caller")
    assert result.actions == ()


def test_a_state_in_a_sub_flow_that_is_not_given_falls_back() -> None:
    f = flow({"start": {"type": "start", "next": "bye"}, "bye": BYE}, fallback="bye")
    lost = CallState(flow_id=40, node="ask", language="it", variables={}, awaiting="digits")
    result = step(f, lost, Digits("1"), now=OPEN)
    assert result.state.flow_id is None
    assert result.state.outcome == HungUp(reason="flow")
    assert "not available" in str(result.actions[0])


def test_a_state_at_a_node_the_flow_does_not_have_falls_back() -> None:
    other = flow({"start": {"type": "start", "next": "bye"}, "bye": BYE}, fallback="bye")
    result = step(other, at_menu(), Digits("1"), now=OPEN)
    assert "does not have" in str(result.actions[0])
    assert result.state.outcome == HungUp(reason="flow")


def test_an_ignored_event_leaves_no_trace() -> None:
    queued = step(example(), at_menu(), Digits("1"), now=OPEN).state
    assert step(example(), queued, Digits("5"), now=OPEN).visits == ()


def test_http_answers_are_decoded_json() -> None:
    f = lookup_flow("GET")
    waiting = step(f, new_call(f), Start(), now=OPEN).state
    result = step(f, waiting, HttpResponse(204, None), now=OPEN)
    assert result.visits[0].branch == "next"  # no fields asked, so any 2xx will do
