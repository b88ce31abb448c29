"""Per-service indexes of waiting interactions and eligible ready agents.

Both are binary heaps with lazy deletion: removing an entry only forgets it in a dict, and stale
heap entries are skipped when they reach the top, or dropped wholesale once they outnumber the
live ones. That keeps every event O(log n) without searching a heap for the entry to delete.

Within one service every interaction shares the priority and the ageing rate, so comparing two
of them by effective priority at any instant `now`

    priority + bump + ageing * (now - enqueued_at)

is the same as comparing `ageing * enqueued_at - bump` (lower first): the order never changes
with time, and a plain heap keyed on it stays valid. Only the comparison *across* services
depends on `now`, and the router does that on the heads of the heaps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from heapq import heapify, heappop, heappush

from server.router.model import Service, skill_score

# Stale entries tolerated beyond the live ones before a heap is rebuilt; the slack keeps small
# queues from being rebuilt on every removal.
_SLACK = 64

# (enqueued_at, seq, bump, version): seq is the global arrival order, version tells this stay in
# the queue apart from an earlier one of the same interaction (a failed offer requeues it).
_Waiting = tuple[float, int, float, int]
_OrderEntry = tuple[float, float, int, int, str]  # (ageing*enqueued_at - bump, enq, seq, ver, id)
_OldestEntry = tuple[float, int, int, str]  # (enqueued_at, seq, version, id)
# (-score, idle_since, idle_seq, epoch): epoch changes on every agent_ready, so an entry made
# before the agent's skills changed is recognisably stale.
_Ready = tuple[int, float, int, int]
_AgentEntry = tuple[int, float, int, int, str]

# What the router hands over to (re)index a ready agent: (id, skills, idle_since, idle_seq, epoch).
ReadyAgentRecord = tuple[str, Mapping[str, int], float, int, int]


class ServiceQueue:
    """One service's waiting interactions (in routing order) and its eligible ready agents."""

    __slots__ = ("_agents", "_oldest", "_order", "_ready", "_version", "_waiting", "service")

    def __init__(self, service: Service) -> None:
        """Start empty for `service`."""
        self.service = service
        self._waiting: dict[str, _Waiting] = {}
        self._order: list[_OrderEntry] = []
        self._oldest: list[_OldestEntry] = []
        self._ready: dict[str, _Ready] = {}
        self._agents: list[_AgentEntry] = []
        self._version = 0

    @property
    def waiting_count(self) -> int:
        """How many interactions wait in this service."""
        return len(self._waiting)

    @property
    def ready_count(self) -> int:
        """How many ready agents can serve this service."""
        return len(self._ready)

    def reset(self, service: Service, ready_agents: Iterable[ReadyAgentRecord]) -> None:
        """Adopt a new definition: waiting interactions stay, both orders are recomputed."""
        self.service = service
        ageing = service.ageing
        self._order = [
            (ageing * enq - bump, enq, seq, ver, iid)
            for iid, (enq, seq, bump, ver) in self._waiting.items()
        ]
        heapify(self._order)
        self._ready = {}
        self._agents = []
        for agent_id, skills, idle_since, idle_seq, epoch in ready_agents:
            self.add_ready(agent_id, skills, idle_since, idle_seq, epoch)

    # Waiting interactions.

    def add_waiting(self, interaction_id: str, enqueued_at: float, seq: int, bump: float) -> None:
        """Queue an interaction at the place its enqueued_at, bump and arrival order give it."""
        self._version += 1
        version = self._version
        self._waiting[interaction_id] = (enqueued_at, seq, bump, version)
        key = self.service.ageing * enqueued_at - bump
        heappush(self._order, (key, enqueued_at, seq, version, interaction_id))
        heappush(self._oldest, (enqueued_at, seq, version, interaction_id))

    def drop_waiting(self, interaction_id: str) -> None:
        """Forget a waiting interaction (offered, picked or abandoned); no-op if absent."""
        if self._waiting.pop(interaction_id, None) is None:
            return
        limit = 2 * len(self._waiting) + _SLACK
        if len(self._order) > limit:
            self._order = [e for e in self._order if self._is_waiting(e[4], e[3])]
            heapify(self._order)
        if len(self._oldest) > limit:
            self._oldest = [e for e in self._oldest if self._is_waiting(e[3], e[2])]
            heapify(self._oldest)

    def head(self) -> str | None:
        """The interaction this service would route next, if any."""
        order = self._order
        while order:
            entry = order[0]
            if self._is_waiting(entry[4], entry[3]):
                return entry[4]
            heappop(order)
        return None

    def oldest_enqueued_at(self) -> float | None:
        """The earliest enqueued_at among waiting interactions (bumps aside)."""
        oldest = self._oldest
        while oldest:
            entry = oldest[0]
            if self._is_waiting(entry[3], entry[2]):
                return entry[0]
            heappop(oldest)
        return None

    def ordered_waiting(self) -> list[str]:
        """Waiting interaction ids in routing order (a sort: for views, not for events)."""
        ageing = self.service.ageing
        keyed = sorted(
            (ageing * enq - bump, enq, seq, iid)
            for iid, (enq, seq, bump, _) in self._waiting.items()
        )
        return [entry[3] for entry in keyed]

    def _is_waiting(self, interaction_id: str, version: int) -> bool:
        waiting = self._waiting.get(interaction_id)
        return waiting is not None and waiting[3] == version

    # Ready agents.

    def add_ready(
        self,
        agent_id: str,
        skills: Mapping[str, int],
        idle_since: float,
        idle_seq: int,
        epoch: int,
    ) -> None:
        """Index a ready agent under this service's policy."""
        service = self.service
        score = skill_score(service.required_skills, skills) if service.policy == "skills" else 0
        ready = (-score, idle_since, idle_seq, epoch)
        self._ready[agent_id] = ready
        heappush(self._agents, (*ready, agent_id))

    def drop_ready(self, agent_id: str) -> None:
        """Forget a ready agent (offered, not ready, logged out); no-op if absent."""
        if self._ready.pop(agent_id, None) is None:
            return
        if len(self._agents) > 2 * len(self._ready) + _SLACK:
            self._agents = [e for e in self._agents if self._is_ready(e[4], e[3])]
            heapify(self._agents)

    def best_ready(self) -> str | None:
        """The ready agent this service's policy prefers, if any."""
        agents = self._agents
        while agents:
            entry = agents[0]
            if self._is_ready(entry[4], entry[3]):
                return entry[4]
            heappop(agents)
        return None

    def _is_ready(self, agent_id: str, epoch: int) -> bool:
        ready = self._ready.get(agent_id)
        return ready is not None and ready[3] == epoch
