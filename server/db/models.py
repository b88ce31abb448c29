"""The engine's tables as SQLAlchemy 2 declarative models.

JSON columns are not mutation-tracked: assign a new dict/list instead of editing in place,
otherwise the change is silently not flushed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from server.db.types import UTCDateTime, utcnow

Role = Literal["admin", "supervisor", "agent"]
Direction = Literal["inbound", "outbound", "internal"]
InteractionState = Literal["queued", "offered", "connected", "wrap_up", "ended", "abandoned"]
AgentState = Literal["offline", "ready", "not_ready", "ringing", "busy", "wrap_up"]
NoAnswerRule = Literal["not_ready", "ready"]
Transport = Literal["udp", "tcp", "tls"]
CallbackState = Literal["pending", "done", "cancelled"]
# As ivr_messenger.flow.Flow.kind: a line can point to a "main" flow; a "subflow" is only run
# from another flow's sub-flow node.
FlowKind = Literal["main", "subflow"]

ROLES: tuple[Role, ...] = get_args(Role)
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
INTERACTION_STATES: tuple[InteractionState, ...] = get_args(InteractionState)
FINAL_INTERACTION_STATES: tuple[InteractionState, ...] = ("ended", "abandoned")
AGENT_STATES: tuple[AgentState, ...] = get_args(AgentState)
NO_ANSWER_RULES: tuple[NoAnswerRule, ...] = get_args(NoAnswerRule)
TRANSPORTS: tuple[Transport, ...] = get_args(Transport)
CALLBACK_STATES: tuple[CallbackState, ...] = get_args(CallbackState)
FLOW_KINDS: tuple[FlowKind, ...] = get_args(FlowKind)
DEFAULT_NOT_READY_REASONS: tuple[str, ...] = ("break", "lunch", "training", "missed")

# Deterministic constraint names, so later migrations can drop/alter them by name on every
# backend (SQLite batch mode needs names to recreate tables).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Append-only tables grow without bound, so 64-bit ids on PostgreSQL; SQLite only
# auto-increments a column declared exactly INTEGER PRIMARY KEY.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """A named CHECK that `column` holds one of `values` (constants from this module)."""
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime}


class Tenant(Base):
    """A customer organisation; its slug prefixes every Asterisk object it owns."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="en")
    not_ready_reasons: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: list(DEFAULT_NOT_READY_REASONS)
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person who logs in: admin, supervisor or agent."""

    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("tenant_id", "username"), _one_of("role", ROLES))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(default=0)
    # Start of the current run of failed logins; the lockout window is measured from here.
    failed_logins_since: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled: Mapped[bool] = mapped_column(default=False)

    # One row at most, always wanted with the user: load it eagerly so async code never
    # triggers an implicit (and forbidden) lazy load.
    agent_profile: Mapped[AgentProfile | None] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )


class AgentProfile(Base):
    """The telephony side of a user who takes calls: SIP account and skills.

    `sip_password` is stored in clear on purpose: Asterisk must present it in SIP digest
    authentication, so it cannot be hashed. It is a generated random secret, never a
    password a person chose, and it is unrelated to the user's login password.
    """

    __tablename__ = "agent_profile"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    sip_username: Mapped[str] = mapped_column(String(100), unique=True)
    sip_password: Mapped[str] = mapped_column(String(128))
    skills: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    extension: Mapped[str | None] = mapped_column(String(32))
    # Calling external numbers through a trunk; agent-to-agent calls need no permission.
    can_dial_out: Mapped[bool] = mapped_column(default=False, server_default=false())


class Service(Base):
    """A queue with its routing requirements, timers and fallbacks."""

    __tablename__ = "service"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        _one_of("no_answer_rule", NO_ANSWER_RULES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    name: Mapped[str] = mapped_column(String(100))
    skills: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(default=0)
    offer_timeout_s: Mapped[int] = mapped_column(default=20)
    wrap_up_s: Mapped[int] = mapped_column(default=10)
    max_wait_s: Mapped[int | None]
    no_answer_rule: Mapped[NoAnswerRule] = mapped_column(String(16), default="not_ready")
    not_ready_reason: Mapped[str] = mapped_column(String(32), default="missed")
    sla_target_s: Mapped[int] = mapped_column(default=20)
    opening_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # None means the default: announce and hang up.
    fallback_closed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fallback_no_agents: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    fallback_max_wait: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recording: Mapped[bool] = mapped_column(default=False)
    disposition_codes: Mapped[list[str]] = mapped_column(JSON, default=list)


class Trunk(Base):
    """A SIP trunk to a carrier; its password is a clear SIP secret for the same reason."""

    __tablename__ = "trunk"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), _one_of("transport", TRANSPORTS))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    name: Mapped[str] = mapped_column(String(100))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(default=5060)
    transport: Mapped[Transport] = mapped_column(String(8), default="udp")
    username: Mapped[str | None] = mapped_column(String(100))
    password: Mapped[str | None] = mapped_column(String(128))
    identify_by_ip: Mapped[bool] = mapped_column(default=True)
    register: Mapped[bool] = mapped_column(default=False)
    caller_id: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=True)


class Line(Base):
    """A dialled number (DNIS) and where calls to it go."""

    __tablename__ = "line"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # None: a demo/internal number reached without a carrier.
    trunk_id: Mapped[int | None] = mapped_column(ForeignKey("trunk.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    # Set: calls follow this flow's published version; None: they go straight to service_id.
    call_flow_id: Mapped[int | None] = mapped_column(ForeignKey("call_flow.id"))
    name: Mapped[str] = mapped_column(String(100))


class Interaction(Base):
    """One customer contact (a call) from arrival to its end."""

    __tablename__ = "interaction"
    __table_args__ = (
        # Keyset pagination per tenant walks this index backwards.
        Index("ix_interaction_tenant_id_id", "tenant_id", "id"),
        _one_of("direction", DIRECTIONS),
        _one_of("state", INTERACTION_STATES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    # Not constrained: new channels (chat, social) must not need a schema change.
    channel: Mapped[str] = mapped_column(String(16), default="voice")
    direction: Mapped[Direction] = mapped_column(String(16))
    ani: Mapped[str] = mapped_column(String(64))
    dnis: Mapped[str] = mapped_column(String(64))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("line.id"))
    state: Mapped[InteractionState] = mapped_column(String(16), default="queued", index=True)
    asterisk_channel_id: Mapped[str | None] = mapped_column(String(64), index=True)
    agent_channel_id: Mapped[str | None] = mapped_column(String(64))
    bridge_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    wait_s: Mapped[float | None] = mapped_column(Float)
    disposition: Mapped[str | None] = mapped_column(String(64))

    # Potentially long: never loaded implicitly, ask for it with selectinload().
    events: Mapped[list[InteractionEvent]] = relationship(
        order_by="InteractionEvent.id", lazy="raise"
    )


class InteractionEvent(Base):
    """An append-only fact in an interaction's history (queued, offered, answered...)."""

    __tablename__ = "interaction_event"

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    interaction_id: Mapped[int] = mapped_column(ForeignKey("interaction.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AgentStateEvent(Base):
    """An append-only agent state change, the source of truth for agent reporting."""

    __tablename__ = "agent_state_event"
    __table_args__ = (
        Index("ix_agent_state_event_agent_id_id", "agent_id", "id"),
        Index("ix_agent_state_event_tenant_id_at", "tenant_id", "at"),
        _one_of("state", AGENT_STATES),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    state: Mapped[AgentState] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interaction.id"))


class AgentPresence(Base):
    """Each agent's current state: derivable from agent_state_event, kept for fast reads.

    `tenant_id` is denormalised from the user so a tenant's wallboard is one indexed query.
    """

    __tablename__ = "agent_presence"
    __table_args__ = (_one_of("state", AGENT_STATES),)

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    state: Mapped[AgentState] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime]


class AuditLog(Base):
    """Who changed what, for administrators; tenant_id is None for platform-level actions."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_id_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    """An API bearer token; only its SHA-256 is stored, so a database leak reveals none."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(default=False)


class Callback(Base):
    """A number to call back by a due time: one agent's own, or any agent's of a service.

    `agent_id` None means any agent who can serve `service_id` (see
    repositories.callbacks.agent_service_ids); `interaction_id` is the contact that asked
    for it, when there is one.
    """

    __tablename__ = "callback"
    __table_args__ = (_one_of("state", CALLBACK_STATES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    due_at: Mapped[datetime] = mapped_column(index=True)
    state: Mapped[CallbackState] = mapped_column(String(16), default="pending")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    interaction_id: Mapped[int | None] = mapped_column(ForeignKey("interaction.id"))


class CallFlow(Base):
    """An IVR call flow of a tenant: its editable draft and the number of its live version.

    `draft` is a document that parses (ivr_messenger.parse_flow) but may have problems;
    `kind` is the draft's. `current_version` is the newest published version's number (None:
    never published), the one new calls on the flow's lines start on.
    """

    __tablename__ = "call_flow"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), _one_of("kind", FLOW_KINDS))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[FlowKind] = mapped_column(String(16))
    draft: Mapped[dict[str, Any]] = mapped_column(JSON)
    draft_updated_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    current_version: Mapped[int | None]


class CallFlowVersion(Base):
    """A published version of a call flow: numbered 1, 2, 3... per flow and never changed.

    Calls in progress keep the version they started on, so a version's document must stay as
    it was published (an ORM update is refused, see _refuse_version_update).
    """

    __tablename__ = "call_flow_version"
    __table_args__ = (
        UniqueConstraint("flow_id", "number"),
        CheckConstraint("number >= 1", name="number"),
        _one_of("kind", FLOW_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("call_flow.id"))
    number: Mapped[int]
    kind: Mapped[FlowKind] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime]
    published_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(Text, default="")


@event.listens_for(CallFlowVersion, "before_update")
def _refuse_version_update(_mapper: Any, _connection: Any, target: CallFlowVersion) -> None:
    """Published versions are immutable: changing one is a bug, never a silent write."""
    raise TypeError(f"call flow version {target.number} of flow {target.flow_id} is immutable")
