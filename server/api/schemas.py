"""Request and reply models of the REST API (they also generate the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Strict(BaseModel):
    """Unknown fields are errors, so a typo is reported instead of silently ignored."""

    model_config = ConfigDict(extra="forbid")


class LoginRequest(Strict):
    """Credentials for POST /api/v1/auth/login."""

    tenant: str = Field(min_length=1, max_length=32)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class LoginReply(BaseModel):
    """A bearer token and who it belongs to."""

    token: str
    expires_at: datetime
    user_id: int
    role: str
    tenant: str


class StateChange(Strict):
    """An agent's requested state."""

    state: Literal["ready", "not_ready", "offline"]
    reason: str | None = Field(None, max_length=32)


class AgentStateReply(BaseModel):
    """An agent's current state."""

    agent_id: int
    username: str
    state: str
    reason: str | None
    since: datetime | None
    seconds_in_state: float
    reachable: bool
    interaction_id: int | None


class AgentsReply(BaseModel):
    """Every agent of the tenant with their live state."""

    items: list[AgentStateReply]


class QueueReply(BaseModel):
    """Live figures of one service's queue."""

    service_id: int
    service: str
    waiting: int
    longest_wait_s: float
    agents_ready: int


class QueuesReply(BaseModel):
    """Live figures of every service of the tenant."""

    items: list[QueueReply]


class EventReply(BaseModel):
    """One event of an interaction's timeline."""

    type: str
    at: datetime
    agent_id: int | None
    data: dict[str, Any]


class InteractionReply(BaseModel):
    """One interaction with its timeline."""

    id: int
    channel: str
    direction: str
    ani: str
    dnis: str
    service: str | None
    service_id: int | None
    agent_id: int | None
    state: str
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    wait_s: float | None
    disposition: str | None
    events: list[EventReply]


class DispositionIn(Strict):
    """The outcome code of a contact (one of its service's codes) and an optional note."""

    code: str = Field(min_length=1, max_length=64)
    note: str | None = Field(None, max_length=2000)


class InteractionPage(BaseModel):
    """A page of interactions, newest first; pass next_cursor to get the next page."""

    items: list[InteractionReply]
    next_cursor: str | None


class InteractionQuery(Strict):
    """Paging of GET /api/v1/interactions."""

    limit: int = Field(50, ge=1, le=500)
    cursor: str | None = None


class ServiceIn(Strict):
    """A service (queue) to create."""

    name: str = Field(min_length=1, max_length=100)
    skills: dict[str, int] = Field(default_factory=dict)
    priority: int = 0
    offer_timeout_s: int = Field(20, ge=1, le=600)
    wrap_up_s: int = Field(10, ge=0, le=3600)
    max_wait_s: int | None = Field(None, ge=1)
    no_answer_rule: Literal["not_ready", "ready"] = "not_ready"
    not_ready_reason: str = "missed"
    sla_target_s: int = Field(20, ge=1)
    opening_hours: dict[str, Any] | None = None
    fallback_closed: dict[str, Any] | None = None
    fallback_no_agents: dict[str, Any] | None = None
    fallback_max_wait: dict[str, Any] | None = None
    disposition_codes: list[str] = Field(default_factory=list)
    # Record every answered call (WAV, served to staff at /interactions/{id}/recording).
    recording: bool = False


class ServicePatch(Strict):
    """Fields of a service to change."""

    skills: dict[str, int] | None = None
    priority: int | None = None
    offer_timeout_s: int | None = Field(None, ge=1, le=600)
    wrap_up_s: int | None = Field(None, ge=0, le=3600)
    max_wait_s: int | None = Field(None, ge=1)
    no_answer_rule: Literal["not_ready", "ready"] | None = None
    opening_hours: dict[str, Any] | None = None
    fallback_closed: dict[str, Any] | None = None
    fallback_no_agents: dict[str, Any] | None = None
    fallback_max_wait: dict[str, Any] | None = None
    disposition_codes: list[str] | None = None
    recording: bool | None = None


class ServiceOut(ServiceIn):
    """A service as stored."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)
    id: int


class ServiceList(BaseModel):
    """Every service of the tenant."""

    items: list[ServiceOut]


class UserIn(Strict):
    """A user to create; agents get a SIP account with a generated secret."""

    username: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    display_name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "supervisor", "agent"]
    password: str = Field(min_length=8, max_length=1024)
    skills: dict[str, int] = Field(default_factory=dict)
    extension: str | None = Field(None, pattern=r"^[0-9]{2,8}$")
    can_dial_out: bool = Field(
        False, description="agents only: may call external numbers through a trunk"
    )


class UserPatch(Strict):
    """Fields of a user to change; skills, extension and can_dial_out are agents' only."""

    display_name: str | None = Field(None, min_length=1, max_length=200)
    skills: dict[str, int] | None = None
    extension: str | None = Field(None, pattern=r"^[0-9]{2,8}$")
    can_dial_out: bool | None = None


class UserOut(BaseModel):
    """A user as stored (never the password; the SIP secret only for its agent or admins)."""

    id: int
    username: str
    display_name: str
    role: str
    skills: dict[str, int] | None
    sip_username: str | None
    sip_password: str | None
    can_dial_out: bool | None = Field(description="None for users who are not agents")


class UserList(BaseModel):
    """Every user of the tenant."""

    items: list[UserOut]


class TrunkIn(Strict):
    """A SIP trunk to create."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(5060, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    identify_by_ip: bool = True
    registration: bool = Field(False, description="register to the carrier (needs credentials)")
    caller_id: str | None = None


class TrunkOut(TrunkIn):
    """A trunk as stored (never its password)."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)
    id: int
    password: str | None = Field(None, exclude=True)

    @classmethod
    def of(cls, trunk: Any) -> TrunkOut:
        """Build from a Trunk row (its `register` column is `registration` here)."""
        return cls(
            id=trunk.id,
            name=trunk.name,
            host=trunk.host,
            port=trunk.port,
            username=trunk.username,
            identify_by_ip=trunk.identify_by_ip,
            registration=trunk.register,
            caller_id=trunk.caller_id,
        )


class LineIn(Strict):
    """A number (DNIS) pointing at a service."""

    number: str = Field(min_length=2, max_length=32, pattern=r"^\+?[0-9]+$")
    name: str = Field(min_length=1, max_length=100)
    service_id: int
    trunk_id: int | None = None


class LineOut(LineIn):
    """A line as stored."""

    model_config = ConfigDict(extra="ignore", from_attributes=True)
    id: int


class CallbackIn(Strict):
    """A number to call back; an agent's own unless staff give a service or another agent."""

    number: str = Field(min_length=2, max_length=32, pattern=r"^\+?[0-9]+$")
    name: str = Field("", max_length=200)
    notes: str = Field("", max_length=2000)
    due_at: AwareDatetime = Field(description="ISO 8601 with a time zone")
    service_id: int | None = None
    agent_id: int | None = Field(None, description="default: the calling agent")


class CallbackQuery(Strict):
    """Filters of GET /api/v1/callbacks."""

    mine: bool | None = Field(
        None, description="only the caller's call-backs (default: true for agents)"
    )
    state: Literal["pending", "done", "all"] = "pending"


class CallbackReply(BaseModel):
    """A call-back as stored; agent_id None means any agent of the service."""

    id: int
    number: str
    name: str
    due_at: datetime
    notes: str
    service: str | None
    service_id: int | None
    agent_id: int | None
    state: str
    created_at: datetime
    done_at: datetime | None


class CallbackList(BaseModel):
    """Call-backs, pending first, each group by due time."""

    items: list[CallbackReply]


class HealthReply(BaseModel):
    """Status of the engine's dependencies."""

    status: Literal["ok", "degraded"]
    asterisk: Literal["up", "down"]
    database: Literal["up", "down"]
