"""Interactions and their append-only event history."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from server.db.models import (
    FINAL_INTERACTION_STATES,
    Direction,
    Interaction,
    InteractionEvent,
    InteractionState,
    Service,
    User,
)
from server.db.repositories._crud import get_scoped

MAX_PAGE_SIZE = 500
_CURSOR_VERSION = "i1"


@dataclass(frozen=True)
class InteractionPage:
    """One page of interactions, newest first; `next_cursor` is None on the last page."""

    items: list[Interaction]
    next_cursor: str | None


async def create_interaction(
    session: AsyncSession,
    tenant_id: int,
    *,
    direction: Direction,
    ani: str,
    dnis: str,
    created_at: datetime,
    channel: str = "voice",
    state: InteractionState = "queued",
    service_id: int | None = None,
    line_id: int | None = None,
    agent_id: int | None = None,
    asterisk_channel_id: str | None = None,
) -> Interaction:
    """Insert an interaction and return it with its id assigned."""
    interaction = Interaction(
        tenant_id=tenant_id,
        channel=channel,
        direction=direction,
        ani=ani,
        dnis=dnis,
        state=state,
        service_id=service_id,
        line_id=line_id,
        agent_id=agent_id,
        asterisk_channel_id=asterisk_channel_id,
        created_at=created_at,
        # A brand-new interaction has no history: mark the collection loaded, so later
        # appends need no query and reading it cannot trip the raise-on-lazy-load guard.
        events=[],
    )
    session.add(interaction)
    await session.flush()
    return interaction


async def get_interaction(
    session: AsyncSession, tenant_id: int, interaction_id: int, *, with_events: bool = False
) -> Interaction | None:
    """The interaction if it belongs to the tenant (optionally with its events), else None."""
    if not with_events:
        return await get_scoped(session, Interaction, tenant_id, interaction_id)
    stmt = (
        select(Interaction)
        .where(Interaction.id == interaction_id, Interaction.tenant_id == tenant_id)
        .options(selectinload(Interaction.events))
    )
    return (await session.scalars(stmt)).one_or_none()


async def find_interaction_by_channel(session: AsyncSession, channel_id: str) -> Interaction | None:
    """The open interaction in which this ARI channel is the caller's or the agent's leg.

    Unscoped: ARI events carry only channel ids, which Asterisk makes globally unique.
    """
    stmt = (
        select(Interaction)
        .where(
            or_(
                Interaction.asterisk_channel_id == channel_id,
                Interaction.agent_channel_id == channel_id,
            ),
            Interaction.state.not_in(FINAL_INTERACTION_STATES),
        )
        .order_by(Interaction.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).one_or_none()


async def caller_history(
    session: AsyncSession, tenant_id: int, ani: str, limit: int = 6
) -> list[dict[str, Any]]:
    """The last interactions with a number (newest first), for an agent's screen pop."""
    rows = await session.execute(
        select(Interaction, Service.name, User.username)
        .outerjoin(Service, Service.id == Interaction.service_id)
        .outerjoin(User, User.id == Interaction.agent_id)
        .where(
            Interaction.tenant_id == tenant_id,
            or_(Interaction.ani == ani, Interaction.dnis == ani),
        )
        .order_by(Interaction.id.desc())
        .limit(limit)
    )
    return [
        {
            "interaction_id": row.id,
            "created_at": row.created_at.isoformat(),
            "service": service,
            "agent": agent,
            "direction": row.direction,
            "end_reason": row.end_reason,
            "disposition": row.disposition,
        }
        for row, service, agent in rows.tuples()
    ]


async def append_interaction_event(
    session: AsyncSession,
    interaction: Interaction,
    type: str,
    at: datetime,
    /,
    agent_id: int | None = None,
    **data: Any,
) -> InteractionEvent:
    """Append an event (`data` must be JSON-serialisable) to the interaction's history."""
    event = InteractionEvent(
        interaction_id=interaction.id,
        tenant_id=interaction.tenant_id,
        type=type,
        at=at,
        agent_id=agent_id,
        data=data,
    )
    # Keep an already loaded history current; an unloaded one is left for the next query.
    if "events" not in inspect(interaction).unloaded:
        interaction.events.append(event)
    session.add(event)
    await session.flush()
    return event


async def list_interactions(
    session: AsyncSession, tenant_id: int, *, limit: int = 50, cursor: str | None = None
) -> InteractionPage:
    """The tenant's interactions newest first, with their events in order.

    Keyset pagination on id: pass the previous page's `next_cursor` to continue. Unlike
    OFFSET, pages neither skip nor repeat rows while new calls keep arriving.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be within 1..{MAX_PAGE_SIZE}")
    # One SELECT with a join, not selectinload's second query: SQLite (WAL, no explicit
    # BEGIN) gives each statement its own snapshot, and a call ending between two queries
    # would pair the old interaction row with its new events.
    stmt = (
        select(Interaction)
        .where(Interaction.tenant_id == tenant_id)
        .options(joinedload(Interaction.events))
        .order_by(Interaction.id.desc())
        .limit(limit + 1)  # one extra row tells whether another page exists
    )
    if cursor is not None:
        stmt = stmt.where(Interaction.id < decode_cursor(cursor))
    rows = list((await session.scalars(stmt)).unique())
    items = rows[:limit]
    next_cursor = encode_cursor(items[-1].id) if len(rows) > limit else None
    return InteractionPage(items=items, next_cursor=next_cursor)


async def open_interactions(session: AsyncSession) -> list[Interaction]:
    """Interactions of every tenant not yet ended or abandoned, oldest first.

    Unscoped: this is what to reconcile against Asterisk's live channels after a restart.
    """
    stmt = (
        select(Interaction)
        .where(Interaction.state.not_in(FINAL_INTERACTION_STATES))
        .order_by(Interaction.id)
    )
    return list(await session.scalars(stmt))


def encode_cursor(last_id: int) -> str:
    """The opaque cursor continuing after the interaction `last_id`."""
    raw = f"{_CURSOR_VERSION}:{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The interaction id inside a cursor; ValueError if it was not made by encode_cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, value = raw.partition(":")
        if version != _CURSOR_VERSION or not value.isdigit():
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError(f"invalid cursor {cursor!r}") from None
