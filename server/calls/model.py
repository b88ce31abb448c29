"""In-memory state of calls, agents and services owned by the call controller."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from server.calls.agent_state import AgentState

Device = Literal["auto", "browser", "phone"]
DeviceKind = Literal["browser", "phone"]
# Suffix of a browser softphone's endpoint name (never part of a user name).
WEB_SUFFIX = "~web"

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
    disposition_codes: list[str] = field(default_factory=list)
    recording: bool = False

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
    display_name: str = ""
    extension: str | None = None
    # May call external numbers through a trunk (agent_profile.can_dial_out).
    can_dial_out: bool = False
    state: AgentState = "offline"
    reason: str | None = None
    since: datetime | None = None
    interaction_id: int | None = None
    wrap_up: asyncio.TimerHandle | None = None
    wrap_up_call: Call | None = None
    wrap_up_until: datetime | None = None
    # The state to return to after a call the agent placed or took outside the queue.
    resume_state: AgentState | None = None
    resume_reason: str | None = None
    # Which device rings: "browser" (the PhoneBar softphone), "phone" (a SIP phone) or
    # "auto" (the browser when it is registered, else the phone).
    device: Device = "auto"
    online: dict[DeviceKind, bool] = field(
        default_factory=lambda: {"browser": False, "phone": False}
    )

    @property
    def web_endpoint(self) -> str:
        """The endpoint name of the agent's PhoneBar softphone."""
        return self.sip_username + WEB_SUFFIX

    @property
    def ringing_device(self) -> DeviceKind:
        """The device an offer goes to now."""
        if self.device == "auto":
            return "browser" if self.online["browser"] else "phone"
        return self.device

    @property
    def endpoint(self) -> str:
        """The endpoint an offer is originated to."""
        return self.web_endpoint if self.ringing_device == "browser" else self.sip_username

    @property
    def reachable(self) -> bool:
        """Whether the device an offer would go to is registered."""
        return self.online[self.ringing_device]

    def device_of(self, endpoint: str) -> DeviceKind | None:
        """Which of this agent's devices an endpoint name is, if any."""
        if endpoint == self.sip_username:
            return "phone"
        if endpoint == self.web_endpoint:
            return "browser"
        return None


@dataclass(frozen=True)
class OutboundRoute:
    """How a tenant's agents reach external numbers: a trunk endpoint and a caller id."""

    endpoint: str
    caller_id: str


LegKind = Literal["agent", "external"]
LegRole = Literal["consult", "party", "callee", "transfer"]
LegState = Literal["ringing", "connected", "held"]


@dataclass
class Leg:
    """A channel of a call besides the customer's and the handling agent's own.

    consult: the target of an attended transfer; party: a conference member; callee: the
    agent called by an internal call; transfer: a number a blind transfer is ringing.
    """

    channel: str
    kind: LegKind
    role: LegRole
    label: str
    agent_id: int | None = None
    state: LegState = "ringing"


@dataclass
class Call:
    """One voice interaction in progress (inbound, outbound or between agents).

    `caller_channel` is the customer's channel (for an outbound call, the number dialled; for
    an internal call, the called agent's). `agent_channel` is the handling agent's own leg.
    """

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
    direction: str = "inbound"
    name: str = ""
    answered_at: datetime | None = None
    held: bool = False
    muted: bool = False
    recording: bool = False
    legs: dict[str, Leg] = field(default_factory=dict)
    consult_bridge: str | None = None
    # Who the handling agent is, as other agents in the call see them.
    agent_label: str = ""
    ringback: str | None = None
    # Whether the router holds this call (queued by it, or offered by it).
    routed: bool = False
    # Internal calls: the agent called, whose leg is `caller_channel`.
    callee_id: int | None = None
    # Placed calls: where the far leg goes, and the caller id it shows.
    target: str = ""

    def leg_of_agent(self, agent_id: int) -> str | None:
        """The channel of another agent taking part in this call, if any."""
        return next((c for c, leg in self.legs.items() if leg.agent_id == agent_id), None)

    def consult_leg(self) -> Leg | None:
        """The attended-transfer target, while one is being consulted."""
        return next((leg for leg in self.legs.values() if leg.role == "consult"), None)


OpeningState = Literal["open", "closed", "holiday"]


def opening_state(hours: Mapping[str, Any] | None, now: datetime) -> OpeningState:
    """Where a weekly schedule {"tz": ..., "mon": [["09:00","18:00"]], ...} stands now.

    The product's one schedule evaluator: services' opening hours and the IVR's business-hours
    node both use it. No schedule means always open. `holidays` (ISO dates in the schedule's
    time zone) are "holiday" all day, whatever the weekly ranges say.
    """
    if not hours:
        return "open"
    zone = ZoneInfo(str(hours.get("tz", "UTC")))
    local = now.astimezone(zone)
    if local.date().isoformat() in hours.get("holidays", []):
        return "holiday"
    for start, end in hours.get(_DAYS[local.weekday()], []):
        if _parse(start) <= local.time() < _parse(end):
            return "open"
    return "closed"


def is_open(hours: Mapping[str, Any] | None, now: datetime) -> bool:
    """Whether a weekly schedule is open now (a holiday is closed); see `opening_state`."""
    return opening_state(hours, now) == "open"


def _parse(text: str) -> time:
    if text == "24:00":
        return time.max
    return time.fromisoformat(text)


def seconds_between(start: datetime, end: datetime) -> float:
    """Non-negative seconds from start to end."""
    return max((end - start) / timedelta(seconds=1), 0.0)
