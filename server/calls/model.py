"""In-memory state of calls, agents and services owned by the call controller."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.calls.agent_state import AgentState

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class ServiceRuntime:
    """A service's routing settings as the controller uses them."""

    id: int
    tenant_id: int
    name: str
    skills: dict[str, int]
    priority: int
    offer_timeout_s: int
    wrap_up_s: int
    max_wait_s: int | None
    no_answer_rule: str
    not_ready_reason: str
    opening_hours: dict[str, Any] | None
    fallback_closed: dict[str, Any] | None
    fallback_no_agents: dict[str, Any] | None
    fallback_max_wait: dict[str, Any] | None

    def can_serve(self, skills: dict[str, int]) -> bool:
        """True when an agent with these skills meets every required level."""
        return all(skills.get(name, 0) >= level for name, level in self.skills.items())


@dataclass
class AgentRuntime:
    """An agent as the controller tracks it."""

    user_id: int
    tenant_id: int
    username: str
    sip_username: str
    skills: dict[str, int]
    state: AgentState = "offline"
    reason: str | None = None
    since: datetime | None = None
    reachable: bool = False
    interaction_id: int | None = None
    wrap_up: asyncio.TimerHandle | None = None
    wrap_up_call: Call | None = None


@dataclass
class Call:
    """One inbound voice interaction in progress."""

    interaction_id: int
    tenant_id: int
    service_id: int | None
    caller_channel: str
    ani: str
    dnis: str
    created_at: datetime
    enqueued_mono: float
    state: str = "queued"
    agent_id: int | None = None
    agent_channel: str | None = None
    bridge_id: str | None = None
    offer_timer: asyncio.TimerHandle | None = None
    max_wait_timer: asyncio.TimerHandle | None = None
    closing_playback: str | None = None
    end_reason: str | None = None
    offered_agents: list[int] = field(default_factory=list)


def is_open(hours: dict[str, Any] | None, now: datetime) -> bool:
    """Whether a weekly schedule {"tz": ..., "mon": [["09:00","18:00"]], ...} is open now.

    No schedule means always open. `holidays` (ISO dates) are closed all day.
    """
    if not hours:
        return True
    zone = ZoneInfo(str(hours.get("tz", "UTC")))
    local = now.astimezone(zone)
    if local.date().isoformat() in hours.get("holidays", []):
        return False
    for start, end in hours.get(_DAYS[local.weekday()], []):
        if _parse(start) <= local.time() < _parse(end):
            return True
    return False


def _parse(text: str) -> time:
    if text == "24:00":
        return time.max
    return time.fromisoformat(text)


def seconds_between(start: datetime, end: datetime) -> float:
    """Non-negative seconds from start to end."""
    return max((end - start) / timedelta(seconds=1), 0.0)
