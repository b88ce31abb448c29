"""The router's mutable state and its read-only views, kept apart from the event logic."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from server.router.index import ServiceQueue
from server.router.model import (
    AgentState,
    Interaction,
    InteractionState,
    Offer,
    QueueStats,
    ReadyAgent,
    Service,
    UnknownService,
    WaitingInteraction,
    effective_priority,
)


@dataclass(slots=True)
class ItemRecord:
    """An interaction the router holds, waiting or offered; `seq` is its arrival order."""

    interaction: Interaction
    seq: int
    state: InteractionState = InteractionState.WAITING
    agent_id: str | None = None


@dataclass(slots=True)
class AgentRecord:
    """An agent the router knows; idle_seq breaks idle_since ties, epoch dates its index entries."""

    id: str
    skills: dict[str, int] = field(default_factory=dict)
    state: AgentState = AgentState.NOT_READY
    idle_since: float = 0.0
    idle_seq: int = 0
    epoch: int = 0
    services: frozenset[str] = frozenset()  # meaningful only while READY
    offer: str | None = None
    logged_out: bool = False  # logged out while holding an offer: forget once it is resolved


class RouterState:
    """Services, interactions and agents as the router sees them, with read-only views."""

    def __init__(self) -> None:
        """Start with no services, interactions or agents."""
        self._queues: dict[str, ServiceQueue] = {}
        self._items: dict[str, ItemRecord] = {}
        self._agents: dict[str, AgentRecord] = {}
        self._arrivals = itertools.count(1)
        self._idle_seqs = itertools.count(1)
        self._epochs = itertools.count(1)
        self._eligible: dict[frozenset[tuple[str, int]], frozenset[str]] = {}

    # Read-only views.

    def services(self) -> list[Service]:
        """The configured services, by id."""
        return [self._queues[sid].service for sid in sorted(self._queues)]

    def waiting(self, service_id: str, now: float) -> list[WaitingInteraction]:
        """A service's waiting interactions in routing order, with their waits at `now`."""
        queue = self._queue(service_id)
        views = []
        for iid in queue.ordered_waiting():
            interaction = self._items[iid].interaction
            views.append(
                WaitingInteraction(
                    interaction_id=iid,
                    service_id=service_id,
                    media=interaction.media,
                    enqueued_at=interaction.enqueued_at,
                    wait=max(0.0, now - interaction.enqueued_at),
                    effective_priority=effective_priority(queue.service, interaction, now),
                )
            )
        return views

    def queue_stats(self, now: float) -> dict[str, QueueStats]:
        """Per service: how many wait, the longest wait at `now`, how many agents are ready."""
        stats = {}
        for service_id in sorted(self._queues):
            queue = self._queues[service_id]
            oldest = queue.oldest_enqueued_at()
            longest = 0.0 if oldest is None else max(0.0, now - oldest)
            stats[service_id] = QueueStats(
                service_id, queue.waiting_count, longest, queue.ready_count
            )
        return stats

    def ready_agents(self) -> list[ReadyAgent]:
        """Ready agents, longest idle first."""
        ready = sorted(
            (a for a in self._agents.values() if a.state is AgentState.READY),
            key=lambda a: (a.idle_since, a.idle_seq),
        )
        return [ReadyAgent(a.id, a.idle_since, tuple(sorted(a.services))) for a in ready]

    def offers(self) -> list[Offer]:
        """Outstanding offers, by interaction arrival."""
        offered = sorted(
            (i for i in self._items.values() if i.state is InteractionState.OFFERED),
            key=lambda i: i.seq,
        )
        return [Offer(i.interaction.id, i.agent_id) for i in offered if i.agent_id is not None]

    def agent_state(self, agent_id: str) -> AgentState | None:
        """The agent's state, or None if the router does not know it."""
        agent = self._agents.get(agent_id)
        return None if agent is None else agent.state

    def interaction_state(self, interaction_id: str) -> InteractionState | None:
        """The interaction's state, or None once accepted, removed or never seen."""
        item = self._items.get(interaction_id)
        return None if item is None else item.state

    def _queue(self, service_id: str) -> ServiceQueue:
        queue = self._queues.get(service_id)
        if queue is None:
            raise UnknownService(service_id)
        return queue
