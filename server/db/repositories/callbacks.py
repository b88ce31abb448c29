"""Call-backs: numbers an agent (or any agent of a service) must call back by a due time.

Who may see a call-back is one rule, applied by `list_callbacks` and `get_callback` alike:
an agent sees those assigned to them, plus the unassigned ones of the services whose
required skills they meet (`agent_service_ids`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AgentProfile, Callback, CallbackState, Interaction, Service, User
from server.db.repositories._crud import get_scoped

# Digits with an optional leading '+', 2 to 32 characters in all (the column's width).
CALLBACK_NUMBER = re.compile(r"^(?=.{2,32}$)\+?[0-9]+$")
MAX_NAME = 200


class CallbackFieldError(ValueError):
    """A call-back field is invalid; `field` names it, so an API answer can say which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CallbackNotPending(Exception):
    """The call-back is already done or cancelled; `state` is the state it is in."""

    def __init__(self, callback_id: int, state: str) -> None:
        super().__init__(f"call-back {callback_id} is already {state}")
        self.state = state


def agent_service_ids(
    agent_skills: Mapping[str, int], requirements: Mapping[int, Mapping[str, int]]
) -> frozenset[int]:
    """The ids of the services (id → required skill levels) whose every level the agent meets.

    A service that requires nothing is every agent's; a skill the agent lacks counts as 0.
    """
    return frozenset(
        service_id
        for service_id, required in requirements.items()
        if all(agent_skills.get(skill, 0) >= level for skill, level in required.items())
    )


async def agent_services(session: AsyncSession, tenant_id: int, agent_id: int) -> frozenset[int]:
    """The tenant's services the user can serve (none of a user without an agent profile)."""
    skills = await session.scalar(
        select(AgentProfile.skills)
        .join(User, User.id == AgentProfile.user_id)
        .where(User.id == agent_id, User.tenant_id == tenant_id)
    )
    rows = await session.execute(
        select(Service.id, Service.skills).where(Service.tenant_id == tenant_id)
    )
    requirements = {service_id: dict(required or {}) for service_id, required in rows.tuples()}
    return agent_service_ids(dict(skills or {}), requirements)


async def create_callback(
    session: AsyncSession,
    tenant_id: int,
    *,
    number: str,
    due_at: datetime,
    name: str = "",
    notes: str = "",
    service_id: int | None = None,
    agent_id: int | None = None,
    created_by: int | None = None,
    interaction_id: int | None = None,
) -> Callback:
    """Insert a pending call-back for an agent, a service, or both.

    Raises CallbackFieldError naming the field for a bad number or name, a naive due time,
    neither service nor agent, or a reference that is not the tenant's own.
    """
    if not CALLBACK_NUMBER.fullmatch(number):
        raise CallbackFieldError(
            "number", f"invalid number {number!r}: 2-32 digits with an optional leading '+'"
        )
    if len(name) > MAX_NAME:
        raise CallbackFieldError("name", f"name longer than {MAX_NAME} characters")
    if due_at.tzinfo is None or due_at.utcoffset() is None:
        raise CallbackFieldError("due_at", "due_at needs a time zone")
    if service_id is None and agent_id is None:
        raise CallbackFieldError("service_id", "a call-back needs a service or an agent")
    if service_id is not None and await get_scoped(session, Service, tenant_id, service_id) is None:
        raise CallbackFieldError("service_id", f"service {service_id} not found in this tenant")
    if agent_id is not None:
        agent = await get_scoped(session, User, tenant_id, agent_id)
        if agent is None or agent.agent_profile is None:
            raise CallbackFieldError("agent_id", f"user {agent_id} is not an agent of this tenant")
    if created_by is not None and await get_scoped(session, User, tenant_id, created_by) is None:
        raise CallbackFieldError("created_by", f"user {created_by} not found in this tenant")
    if (
        interaction_id is not None
        and await get_scoped(session, Interaction, tenant_id, interaction_id) is None
    ):
        raise CallbackFieldError(
            "interaction_id", f"interaction {interaction_id} not found in this tenant"
        )
    callback = Callback(
        tenant_id=tenant_id,
        number=number,
        name=name,
        notes=notes,
        # As every later read returns it, so the creator's reply is the same as theirs.
        due_at=due_at.astimezone(UTC),
        state="pending",
        service_id=service_id,
        agent_id=agent_id,
        created_by=created_by,
        interaction_id=interaction_id,
    )
    session.add(callback)
    await session.flush()
    return callback


async def _visible_to(session: AsyncSession, tenant_id: int, agent_id: int) -> ColumnElement[bool]:
    """The rule as SQL: the agent's own call-backs, or unassigned ones of the agent's services."""
    services = await agent_services(session, tenant_id, agent_id)
    return or_(
        Callback.agent_id == agent_id,
        and_(Callback.agent_id.is_(None), Callback.service_id.in_(services)),
    )


async def list_callbacks(
    session: AsyncSession,
    tenant_id: int,
    *,
    states: Collection[CallbackState] | None = None,
    visible_to: int | None = None,
) -> list[Callback]:
    """The tenant's call-backs, pending ones first, each group by due time.

    `states` None means every state; `visible_to` (a user id) keeps only that agent's
    call-backs by the module's rule.
    """
    stmt = (
        select(Callback)
        .where(Callback.tenant_id == tenant_id)
        .order_by(case((Callback.state == "pending", 0), else_=1), Callback.due_at, Callback.id)
    )
    if states is not None:
        stmt = stmt.where(Callback.state.in_(states))
    if visible_to is not None:
        stmt = stmt.where(await _visible_to(session, tenant_id, visible_to))
    return list(await session.scalars(stmt))


async def get_callback(
    session: AsyncSession, tenant_id: int, callback_id: int, *, visible_to: int | None = None
) -> Callback | None:
    """The tenant's call-back (only if that user may see it, with `visible_to`), else None."""
    stmt = select(Callback).where(Callback.id == callback_id, Callback.tenant_id == tenant_id)
    if visible_to is not None:
        stmt = stmt.where(await _visible_to(session, tenant_id, visible_to))
    return (await session.scalars(stmt)).one_or_none()


async def mark_callback_done(session: AsyncSession, callback: Callback, at: datetime) -> Callback:
    """Set a pending call-back done at `at`; CallbackNotPending if it is done or cancelled.

    A conditional UPDATE, so of two concurrent requests exactly one succeeds.
    """
    stmt = (
        update(Callback)
        .where(Callback.id == callback.id, Callback.state == "pending")
        .values(state="done", done_at=at)
        .returning(Callback)
    )
    result = await session.scalars(stmt, execution_options={"populate_existing": True})
    done = result.one_or_none()
    if done is None:
        await session.refresh(callback, ["state"])
        raise CallbackNotPending(callback.id, callback.state)
    return done
