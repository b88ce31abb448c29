"""Writes what happens to calls and agents into the two append-only logs.

The call controller talks to the database only through this class. Creating an interaction
is written at once (its id names channels and bridges); every later fact is queued in
memory and written by one writer task in batches — one transaction, bulk inserts — a few
milliseconds later, so the controller never waits for the database on the call path.
`flush()` waits until everything queued so far is committed; reads that must see the
latest facts (reconciliation) flush first. A crash can lose at most the last batch window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from server.calls.agent_state import AgentState
from server.calls.model import AgentRuntime, Call
from server.db import repositories as repo
from server.db.models import AgentStateEvent, Direction, Interaction, InteractionEvent

log = logging.getLogger(__name__)
EVENTS: Table = InteractionEvent.__table__  # type: ignore[assignment]
INTERACTIONS: Table = Interaction.__table__  # type: ignore[assignment]
AGENT_STATES: Table = AgentStateEvent.__table__  # type: ignore[assignment]
# States of a Call that are also states of its interaction row.
ROW_STATES = frozenset({"queued", "offered", "connected", "wrap_up", "ended", "abandoned"})


@dataclass(frozen=True)
class LineTarget:
    """Where a dialled number goes."""

    id: int
    number: str
    tenant_id: int
    service_id: int | None


@dataclass
class _Batch:
    events: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[int, dict[str, Any]] = field(default_factory=dict)
    agent_states: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.events or self.changes or self.agent_states)


class History:
    """Persists interactions, their events and agent state changes (write-behind)."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], batch_window_s: float = 0.005
    ) -> None:
        self.sessions = sessions
        self.batch_window_s = batch_window_s
        self._batch = _Batch()
        self._wakeup = asyncio.Event()
        self._written = asyncio.Condition()
        self._queued = 0
        self._committed = 0
        self._writer: asyncio.Task[None] | None = None
        # The batch writer uses the engine directly (no ORM session on the hot path) and
        # reuses its statements, so SQLAlchemy does not rebuild them for every batch.
        self._engine: AsyncEngine = sessions.kw["bind"]
        self._updates: dict[tuple[str, ...], Any] = {}
        self._presence: Any = None

    # -- lifecycle --
    def start(self) -> None:
        """Start the writer task."""
        if self._writer is None:
            self._writer = asyncio.create_task(self._run(), name="history-writer")

    async def stop(self) -> None:
        """Write everything queued, then stop the writer."""
        await self.flush()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None

    async def flush(self) -> None:
        """Wait until every fact queued so far is committed."""
        target = self._queued
        if self._writer is None:
            await self._write(self._take())
            return
        self._wakeup.set()
        async with self._written:
            await self._written.wait_for(lambda: self._committed >= target)

    def _take(self) -> _Batch:
        batch, self._batch = self._batch, _Batch()
        return batch

    def _queue(self) -> None:
        self._queued += 1
        self._wakeup.set()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            # A short window lets the facts of several events share one transaction.
            await asyncio.sleep(self.batch_window_s)
            self._wakeup.clear()
            upto = self._queued
            batch = self._take()
            try:
                await self._write(batch)
            except Exception:
                log.exception("writing history failed; retrying the batch")
                self._requeue(batch)
                await asyncio.sleep(0.5)
                self._wakeup.set()
                continue
            async with self._written:
                self._committed = upto
                self._written.notify_all()

    def _requeue(self, batch: _Batch) -> None:
        newer = self._batch
        self._batch = batch
        self._batch.events += newer.events
        self._batch.agent_states += newer.agent_states
        for interaction_id, fields in newer.changes.items():
            self._batch.changes.setdefault(interaction_id, {}).update(fields)

    async def _write(self, batch: _Batch) -> None:
        if not batch:
            return
        # Core statements on the tables, not the ORM: this is the hot path, and the ORM's
        # bulk machinery cost more CPU than the database itself (bench/routed_calls.py).
        async with self._engine.begin() as conn:
            if batch.events:
                await conn.execute(EVENTS.insert(), batch.events)
            # One executemany per set of changed columns: statements are built once and reused.
            by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for interaction_id, fields in batch.changes.items():
                by_columns.setdefault(tuple(sorted(fields)), []).append(
                    {**fields, "_id": interaction_id}
                )
            for columns, rows in by_columns.items():
                await conn.execute(self._update_statement(columns), rows)
            if batch.agent_states:
                await conn.execute(AGENT_STATES.insert(), batch.agent_states)
                latest = {row["agent_id"]: row for row in batch.agent_states}
                presence = [
                    {
                        "agent_id": r["agent_id"],
                        "tenant_id": r["tenant_id"],
                        "state": r["state"],
                        "reason": r["reason"],
                        "since": r["at"],
                    }
                    for r in latest.values()
                ]
                if self._presence is None:
                    self._presence = repo.presence_upsert(conn.dialect.name)
                await conn.execute(self._presence, presence)

    def _update_statement(self, columns: tuple[str, ...]) -> Any:
        statement = self._updates.get(columns)
        if statement is None:
            statement = INTERACTIONS.update().where(INTERACTIONS.c.id == bindparam("_id"))
            self._updates[columns] = statement
        return statement

    # -- reads --
    async def open_interactions(self) -> list[Interaction]:
        """Interactions not ended yet (after flushing), for reconciliation."""
        await self.flush()
        async with self.sessions() as session:
            return list(await repo.open_interactions(session))

    # -- writes --
    async def create_interaction(
        self,
        *,
        tenant_id: int,
        ani: str,
        dnis: str,
        line_id: int | None,
        service_id: int | None,
        channel_id: str,
        at: datetime,
        direction: Direction = "inbound",
        agent_id: int | None = None,
    ) -> int:
        """Create a voice interaction with its `created` event; return its id."""
        async with self.sessions() as session, session.begin():
            interaction = await repo.create_interaction(
                session,
                tenant_id,
                direction=direction,
                ani=ani,
                dnis=dnis,
                created_at=at,
                service_id=service_id,
                line_id=line_id,
                agent_id=agent_id,
                asterisk_channel_id=channel_id,
                state="offered" if direction != "inbound" else "queued",
            )
            await repo.append_interaction_event(session, interaction, "created", at)
            return interaction.id

    def _fact(
        self,
        interaction_id: int,
        tenant_id: int,
        type_: str,
        at: datetime,
        actor: int | None,
        data: dict[str, Any],
        **changes: Any,
    ) -> None:
        # `actor` is the event's agent; `changes` are columns of the interaction row.
        self._batch.events.append(
            {
                "interaction_id": interaction_id,
                "tenant_id": tenant_id,
                "type": type_,
                "at": at,
                "agent_id": actor,
                "data": data,
            }
        )
        if changes:
            self._batch.changes.setdefault(interaction_id, {}).update(changes)
        self._queue()

    async def event(
        self, call: Call, type_: str, at: datetime, agent_id: int | None = None, **data: Any
    ) -> None:
        """Append one event and mirror the call's state onto the interaction row."""
        changes: dict[str, Any] = {"service_id": call.service_id}
        if call.state in ROW_STATES:
            changes["state"] = call.state
        if call.agent_id is not None:
            changes["agent_id"] = call.agent_id
        if call.agent_channel is not None:
            changes["agent_channel_id"] = call.agent_channel
        self._fact(call.interaction_id, call.tenant_id, type_, at, agent_id, data, **changes)

    async def answered(self, call: Call, at: datetime, wait_s: float) -> None:
        """The agent answered: the call is connected."""
        self._fact(
            call.interaction_id,
            call.tenant_id,
            "answered",
            at,
            call.agent_id,
            {"wait_s": round(wait_s, 3)},
            state="connected",
            agent_id=call.agent_id,
            agent_channel_id=call.agent_channel,
            bridge_id=call.bridge_id,
            answered_at=at,
            wait_s=wait_s,
        )

    async def abandoned(self, call: Call, at: datetime, wait_s: float) -> None:
        """The caller hung up before an agent answered."""
        self._fact(
            call.interaction_id,
            call.tenant_id,
            "abandoned",
            at,
            None,
            {"wait_s": round(wait_s, 3)},
            state="abandoned",
            ended_at=at,
            end_reason="abandoned",
            wait_s=wait_s,
        )

    async def ended(self, call: Call, at: datetime, reason: str, side: str, cause: int) -> None:
        """The interaction ended (after being connected, or by a fallback)."""
        await self.close_interaction(
            call.interaction_id,
            call.tenant_id,
            call.agent_id,
            at,
            reason,
            side=side,
            cause=cause,
        )

    async def close_interaction(
        self,
        interaction_id: int,
        tenant_id: int,
        agent_id: int | None,
        at: datetime,
        reason: str,
        **data: Any,
    ) -> None:
        """Mark an interaction ended with a reason (also used by reconciliation)."""
        self._fact(
            interaction_id,
            tenant_id,
            "ended",
            at,
            agent_id,
            {"reason": reason, **data},
            state="ended",
            ended_at=at,
            end_reason=reason,
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
        self._batch.agent_states.append(
            {
                "tenant_id": agent.tenant_id,
                "agent_id": agent.user_id,
                "state": state,
                "reason": reason,
                "at": at,
                "interaction_id": interaction_id,
            }
        )
        self._queue()
