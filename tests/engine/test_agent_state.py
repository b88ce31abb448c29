"""Which state changes an agent may ask for."""

from __future__ import annotations

import pytest

from server.calls.agent_state import StateChangeRefused, StateRequest, check_request

REASONS = ["break", "lunch", "missed"]


def test_ready_from_not_ready() -> None:
    assert check_request("not_ready", StateRequest("ready"), REASONS) == ("ready", None)


def test_not_ready_needs_a_known_reason() -> None:
    assert check_request("ready", StateRequest("not_ready", "lunch"), REASONS) == (
        "not_ready",
        "lunch",
    )
    with pytest.raises(ValueError, match="needs a reason"):
        check_request("ready", StateRequest("not_ready"), REASONS)
    with pytest.raises(ValueError, match="unknown reason 'nap'"):
        check_request("ready", StateRequest("not_ready", "nap"), REASONS)


@pytest.mark.parametrize("current", ["busy", "ringing"])
def test_refused_while_in_a_contact(current: str) -> None:
    with pytest.raises(StateChangeRefused, match=current):
        check_request(current, StateRequest("offline"), REASONS)  # type: ignore[arg-type]


def test_wrap_up_can_be_ended_early() -> None:
    assert check_request("wrap_up", StateRequest("ready"), REASONS) == ("ready", None)


def test_engine_states_cannot_be_requested() -> None:
    with pytest.raises(ValueError, match="state must be one of"):
        check_request("ready", StateRequest("busy"), REASONS)
