"""Writes what happens to calls and agents into the two append-only logs.

The call controller talks to the database only through this class. Everything written while
handling one ARI event (or one timer, or one API command) goes into one transaction: the
controller opens a `unit()` around each, so a call costs a handful of commits, not one per
fact, and a crash loses no fact of an event that was fully handled.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.calls.agent_state import AgentState
from server.calls.model import AgentRuntime, Call
from server.db import repositories as repo
from server.db.models import FINAL_INTERACTION_STATES, Interaction, Line


@dataclass(frozen=True)
class LineTarget:
    """Where a dialled number goes."""

    id: int
    tenant_id: int
    service_id: int | None


class History:
    """Persists interactions, their events and agent state changes."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._unit: AsyncSession | None = None

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[None]:
        """One transaction for every write until the block ends (nested units join it)."""
        if self._unit is not None:
            yield
            return
        session = self.sessions()
        self._unit = session
        try:
            async with session.begin():
                yield
        finally:
            self._unit = None
            await session.close()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        # Inside a unit, join its transaction; outside one (tests, tools), commit on our own.
        if self._unit is not None:
            yield self._unit
            return
        async with self._write() as session:
            yield session

    async def find_line(self, number: str) -> LineTarget | None:
        """The line with this DNIS, if any."""
        async with self.sessions() as session:
            line = await repo.find_line_by_number(session, number)
            if line is None:
                return None
            return LineTarget(line.id, line.tenant_id, line.service_id)

    async def create_interaction(
        self,
        *,
        tenant_id: int,
        ani: str,
        dnis: str,
        line_id: int,
        service_id: int,
        channel_id: str,
        at: datetime,
    ) -> int:
        """Create an inbound voice interaction with its `created` event; return its id."""
        async with self._write() as session:
            interaction = await repo.create_interaction(
                session,
                tenant_id,
                direction="inbound",
                ani=ani,
                dnis=dnis,
                created_at=at,
                service_id=service_id,
                line_id=line_id,
                asterisk_channel_id=channel_id,
            )
            await repo.append_interaction_event(session, interaction, "created", at)
            return interaction.id

    async def event(
        self, call: Call, type_: str, at: datetime, agent_id: int | None = None, **data: Any
    ) -> None:
        """Append one event and mirror the call's state onto the interaction row."""
        async with self._write() as session:
            interaction = await session.get_one(Interaction, call.interaction_id)
            if interaction.state not in FINAL_INTERACTION_STATES:
                interaction.state = _row_state(call.state)
            interaction.service_id = call.service_id
            interaction.agent_id = call.agent_id or interaction.agent_id
            interaction.agent_channel_id = call.agent_channel or interaction.agent_channel_id
            await repo.append_interaction_event(
                session, interaction, type_, at, agent_id=agent_id, **data
            )

    async def answered(self, call: Call, at: datetime, wait_s: float) -> None:
        """The agent answered: the call is connected."""
        async with self._write() as session:
            interaction = await session.get_one(Interaction, call.interaction_id)
            interaction.state = "connected"
            interaction.agent_id = call.agent_id
            interaction.agent_channel_id = call.agent_channel
            interaction.bridge_id = call.bridge_id
            interaction.answered_at = at
            interaction.wait_s = wait_s
            await repo.append_interaction_event(
                session, interaction, "answered", at, agent_id=call.agent_id, wait_s=wait_s
            )

    async def abandoned(self, call: Call, at: datetime, wait_s: float) -> None:
        """The caller hung up before an agent answered."""
        async with self._write() as session:
            interaction = await session.get_one(Interaction, call.interaction_id)
            interaction.state = "abandoned"
            interaction.ended_at = at
            interaction.end_reason = "abandoned"
            interaction.wait_s = wait_s
            await repo.append_interaction_event(
                session, interaction, "abandoned", at, wait_s=round(wait_s, 3)
            )

    async def ended(self, call: Call, at: datetime, reason: str, side: str, cause: int) -> None:
        """The interaction ended (after being connected, or by a fallback)."""
        await self.close(call.interaction_id, at, reason, side=side, cause=cause)

    async def close(self, interaction_id: int, at: datetime, reason: str, **data: Any) -> None:
        """Mark an interaction ended with a reason (also used by reconciliation)."""
        async with self._write() as session:
            interaction = await session.get_one(Interaction, interaction_id)
            interaction.state = "ended"
            interaction.ended_at = at
            interaction.end_reason = reason
            await repo.append_interaction_event(
                session,
                interaction,
                "ended",
                at,
                agent_id=interaction.agent_id,
                reason=reason,
                **data,
            )

    async def agent_state(
        self,
        agent: AgentRuntime,
        state: AgentState,
        reason: str | None,
        at: datetime,
        interaction_id: int | None,
    ) -> None:
        """Append an agent state event (and update the agent's presence row)."""
        async with self._write() as session:
            await repo.append_agent_state(
                session,
                agent.tenant_id,
                agent.user_id,
                state,
                reason,
                at,
                interaction_id=interaction_id,
            )

    async def open_interactions(self) -> list[Interaction]:
        """Interactions not ended yet, for reconciliation after a restart."""
        async with self.sessions() as session:
            return list(await repo.open_interactions(session))

    async def lines(self) -> list[Line]:
        """Every line (for the demo and provisioning)."""
        async with self.sessions() as session:
            return list((await session.scalars(select(Line))).all())


def _row_state(state: str) -> Any:
    return "queued" if state == "closing" else state
