"""Agent state history and the current-presence table derived from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AgentPresence, AgentState, AgentStateEvent, User
from server.db.repositories._crud import require_scoped


async def append_agent_state(
    session: AsyncSession,
    tenant_id: int,
    agent_id: int,
    state: AgentState,
    reason: str | None,
    at: datetime,
    interaction_id: int | None = None,
) -> AgentStateEvent:
    """Record a state change and make it the agent's current presence.

    Raises LookupError if the agent is not the tenant's user: a wrong pair would put
    the agent on another tenant's wallboard.
    """
    await require_scoped(session, User, tenant_id, agent_id)
    event = AgentStateEvent(
        tenant_id=tenant_id,
        agent_id=agent_id,
        state=state,
        reason=reason,
        at=at,
        interaction_id=interaction_id,
    )
    session.add(event)
    await session.flush()
    await upsert_presence(session, tenant_id, agent_id, state, reason, at)
    return event


async def upsert_presence(
    session: AsyncSession,
    tenant_id: int,
    agent_id: int,
    state: AgentState,
    reason: str | None,
    since: datetime,
) -> AgentPresence:
    """INSERT ... ON CONFLICT DO UPDATE: atomic even if two processes race on the first row.

    Both backends spell it the same but SQLAlchemy has one construct per dialect.
    RETURNING with populate_existing refreshes a presence already in the identity map.
    """
    values = {
        "agent_id": agent_id,
        "tenant_id": tenant_id,
        "state": state,
        "reason": reason,
        "since": since,
    }
    dialect = session.get_bind().dialect.name
    stmt = presence_upsert(dialect, orm=True).values(values).returning(AgentPresence)
    result = await session.scalars(stmt, execution_options={"populate_existing": True})
    presence: AgentPresence = result.one()
    return presence


async def get_presence(
    session: AsyncSession, tenant_id: int, agent_id: int
) -> AgentPresence | None:
    """The agent's current presence if the agent is the tenant's, else None."""
    stmt = select(AgentPresence).where(
        AgentPresence.agent_id == agent_id, AgentPresence.tenant_id == tenant_id
    )
    return (await session.scalars(stmt)).one_or_none()


async def list_presence(session: AsyncSession, tenant_id: int) -> list[AgentPresence]:
    """Every agent's current presence in the tenant, in one query (the wallboard)."""
    stmt = (
        select(AgentPresence)
        .where(AgentPresence.tenant_id == tenant_id)
        .order_by(AgentPresence.agent_id)
    )
    return list(await session.scalars(stmt))


async def list_agent_states(
    session: AsyncSession,
    tenant_id: int,
    agent_id: int,
    *,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[AgentStateEvent]:
    """The agent's state changes in the order they were appended, optionally from `since`."""
    stmt = (
        select(AgentStateEvent)
        .where(AgentStateEvent.tenant_id == tenant_id, AgentStateEvent.agent_id == agent_id)
        .order_by(AgentStateEvent.id)
        .limit(limit)
    )
    if since is not None:
        stmt = stmt.where(AgentStateEvent.at >= since)
    return list(await session.scalars(stmt))


def presence_upsert(dialect: str, orm: bool = False) -> Any:  # a dialect-specific Insert
    """INSERT ... ON CONFLICT DO UPDATE of agent_presence, spelled for the dialect.

    Core (the default) serves executemany of rows {agent_id, tenant_id, state, reason,
    since} in the batch writer; `orm=True` targets the mapped class, so RETURNING can
    refresh objects in a session's identity map.
    """
    target: Any = AgentPresence if orm else AgentPresence.__table__
    insert_ = postgresql.insert(target) if dialect == "postgresql" else sqlite.insert(target)
    return insert_.on_conflict_do_update(
        index_elements=["agent_id"],
        set_={
            "state": insert_.excluded.state,
            "reason": insert_.excluded.reason,
            "since": insert_.excluded.since,
        },
    )
