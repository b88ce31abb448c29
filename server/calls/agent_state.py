"""Agent states and which changes an agent may ask for (pure).

The engine moves agents through ringing, busy and wrap-up itself; an agent (through the API)
may only choose ready, not-ready (with a reason of the tenant's list) or offline, and only
when not in the middle of a contact. Ending wrap-up early is asking for ready or not-ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

AgentState = Literal["offline", "ready", "not_ready", "ringing", "busy", "wrap_up"]
REQUESTABLE: tuple[AgentState, ...] = ("ready", "not_ready", "offline")


class StateChangeRefused(ValueError):
    """The requested change is not allowed now; the message says why."""


@dataclass(frozen=True)
class StateRequest:
    """What the agent asked for."""

    state: str
    reason: str | None = None


def check_request(
    current: AgentState, request: StateRequest, reasons: list[str]
) -> tuple[AgentState, str | None]:
    """Validate an agent's request against the current state; return (state, reason)."""
    if request.state not in REQUESTABLE:
        raise ValueError(f"state must be one of {', '.join(REQUESTABLE)}, not {request.state!r}")
    if request.state == "not_ready":
        if not request.reason:
            raise ValueError("not_ready needs a reason")
        if request.reason not in reasons:
            raise ValueError(f"unknown reason {request.reason!r}; allowed: {', '.join(reasons)}")
    elif request.reason is not None:
        raise ValueError(f"a reason only goes with not_ready, not with {request.state}")
    if current in ("ringing", "busy"):
        raise StateChangeRefused(f"cannot change state while {current}: finish the contact first")
    state: AgentState = request.state
    return state, request.reason
