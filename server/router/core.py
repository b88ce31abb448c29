"""The ACD router: a pure, deterministic state machine from events to offers.

No I/O and no clock: every event that needs the time is given `now` in seconds. After each event
the router is work-conserving: no ready agent is left able to serve a waiting interaction.

Rules:
- An agent that becomes ready takes, among the services it can serve, the waiting interaction
  with the highest effective priority (service priority + bump + ageing * wait), then the
  earliest enqueued_at, then the earliest arrival.
- An interaction that arrives (or comes back after a failed offer) goes to the ready agent its
  service's policy prefers: longest idle, or highest summed skill level then longest idle.
- An offer reserves the agent and takes the interaction out of the queue until the outside world
  reports accepted, failed or removed. The router never makes an agent ready by itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from server.router.index import ServiceQueue
from server.router.model import (
    EXCLUSIVE_MEDIA,
    AgentReserved,
    AgentState,
    CherryPickRefused,
    Dropped,
    DuplicateInteraction,
    Interaction,
    InteractionState,
    Offer,
    PickRefusal,
    Service,
    UnsupportedMedia,
    can_serve,
    effective_priority,
)
from server.router.state import AgentRecord, ItemRecord, RouterState

# Distinct skill profiles are few (agents share templates), but bound the cache anyway.
_ELIGIBLE_CACHE_MAX = 4096


class Router(RouterState):
    """Routes interactions to agents; feed it events, act on the offers it returns."""

    # Configuration.

    def set_service(self, service: Service) -> list[Offer]:
        """Add or replace a service; waiting interactions keep their place in it.

        A replacement may let ready agents serve interactions they could not before; those
        offers are returned, the service's interactions in routing order.
        """
        queue = self._queues.get(service.id)
        if queue is None:
            queue = self._queues[service.id] = ServiceQueue(service)
        # Eligibility below must be computed against the new definition.
        queue.service = service
        self._eligible.clear()
        ready = [a for a in self._agents.values() if a.state is AgentState.READY]
        for agent in ready:
            agent.services = self._services_for(agent.skills)
        queue.reset(
            service,
            (
                (a.id, a.skills, a.idle_since, a.idle_seq, a.epoch)
                for a in ready
                if service.id in a.services
            ),
        )
        offers = []
        while (iid := queue.head()) is not None and (aid := queue.best_ready()) is not None:
            offers.append(self._offer(self._items[iid], self._agents[aid]))
        return offers

    def remove_service(self, service_id: str) -> list[Dropped]:
        """Remove a service and forget its interactions, which the caller must now handle.

        Returns the waiting ones in routing order, then the offered ones by arrival, each with
        the agent it was offered to; those agents become not ready, as with `remove`.
        """
        queue = self._queues.pop(service_id, None)
        if queue is None:
            return []
        dropped = [Dropped(iid, None) for iid in queue.ordered_waiting()]
        for entry in dropped:
            del self._items[entry.interaction_id]
        offered = sorted(
            (i for i in self._items.values() if i.interaction.service_id == service_id),
            key=lambda i: i.seq,
        )
        for item in offered:
            dropped.append(Dropped(item.interaction.id, item.agent_id))
            self._release(item, AgentState.NOT_READY)
            del self._items[item.interaction.id]
        self._eligible.clear()
        for agent in self._agents.values():
            if service_id in agent.services:
                agent.services = agent.services - {service_id}
        return dropped

    # Interaction events.

    def arrive(self, interaction: Interaction) -> list[Offer]:
        """Queue a new interaction, or offer it straight away to its service's best ready agent."""
        if interaction.media not in EXCLUSIVE_MEDIA:
            raise UnsupportedMedia(interaction.media)
        queue = self._queue(interaction.service_id)
        if interaction.id in self._items:
            raise DuplicateInteraction(interaction.id)
        if not (math.isfinite(interaction.enqueued_at) and math.isfinite(interaction.bump)):
            raise ValueError("enqueued_at and bump must be finite")
        item = ItemRecord(interaction, next(self._arrivals))
        self._items[interaction.id] = item
        return self._place(item, queue)

    def offer_accepted(self, interaction_id: str) -> bool:
        """The agent answered: forget the interaction; the agent is busy until `agent_ready`.

        Returns False (and changes nothing) if the interaction is not currently offered, so a
        late report racing an abandon is harmless.
        """
        item = self._items.get(interaction_id)
        if item is None or item.state is not InteractionState.OFFERED:
            return False
        self._release(item, AgentState.BUSY)
        del self._items[interaction_id]
        return True

    def offer_failed(self, interaction_id: str, now: float) -> list[Offer]:
        """The offer was not answered or was rejected: requeue at the original position.

        The agent becomes not ready (the caller applies its no-answer rule and calls
        `agent_ready` when appropriate); the interaction may be offered at once to another ready
        agent, which is returned. No-op if it is not currently offered. `now` completes the event
        contract; the current rules do not depend on it.
        """
        del now
        item = self._items.get(interaction_id)
        if item is None or item.state is not InteractionState.OFFERED:
            return []
        self._release(item, AgentState.NOT_READY)
        item.state = InteractionState.WAITING
        item.agent_id = None
        return self._place(item, self._queues[item.interaction.service_id])

    def remove(self, interaction_id: str) -> str | None:
        """The interaction ended (abandoned, hung up, transferred away) while waiting or offered.

        If it was offered, returns the agent it was offered to: that agent becomes not ready and
        the caller decides whether to call `agent_ready`. Otherwise returns None (also when the
        interaction is unknown).
        """
        item = self._items.pop(interaction_id, None)
        if item is None:
            return None
        if item.state is InteractionState.WAITING:
            self._queues[item.interaction.service_id].drop_waiting(interaction_id)
            return None
        agent_id = item.agent_id
        self._release(item, AgentState.NOT_READY)
        return agent_id

    # Agent events.

    def agent_ready(
        self,
        agent_id: str,
        skills: Mapping[str, int],
        now: float,
        *,
        idle_since: float | None = None,
    ) -> list[Offer]:
        """The agent is ready with these skills: offer it the best interaction it can serve.

        `idle_since` defaults to `now`, except for an agent that was already ready (a skills
        update), which keeps its place among idle agents. Raises AgentReserved if the agent
        holds an outstanding offer.
        """
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = AgentRecord(agent_id)
        elif agent.state is AgentState.RESERVED:
            raise AgentReserved(agent_id)
        if agent.state is AgentState.READY:
            self._leave_ready(agent)
            if idle_since is not None:
                agent.idle_since = idle_since
        else:
            agent.idle_since = now if idle_since is None else idle_since
            agent.idle_seq = next(self._idle_seqs)
        agent.skills = dict(skills)
        agent.epoch = next(self._epochs)
        agent.state = AgentState.READY
        agent.services = self._services_for(agent.skills)
        item = self._best_waiting(agent.services, now)
        if item is not None:
            return [self._offer(item, agent)]
        record = (agent.id, agent.skills, agent.idle_since, agent.idle_seq, agent.epoch)
        for service_id in agent.services:
            self._queues[service_id].add_ready(*record)
        return []

    def agent_not_ready(self, agent_id: str) -> None:
        """The agent is no longer available (pause, wrap-up, no-answer rule).

        An outstanding offer is left alone: the caller must resolve it, normally with
        `offer_failed`. Unknown agents are ignored.
        """
        agent = self._agents.get(agent_id)
        if agent is None or agent.state is AgentState.RESERVED:
            return
        self._leave_ready(agent)
        agent.state = AgentState.NOT_READY

    def agent_logout(self, agent_id: str) -> None:
        """Forget the agent (unknown agents are ignored).

        If it holds an offer, the caller must still resolve that offer (normally with
        `offer_failed`); until then the agent is kept as reserved and `agent_ready` raises.
        """
        agent = self._agents.get(agent_id)
        if agent is None:
            return
        if agent.state is AgentState.RESERVED:
            agent.logged_out = True
            return
        self._leave_ready(agent)
        del self._agents[agent_id]

    def cherry_pick(
        self,
        agent_id: str,
        interaction_id: str,
        now: float,
        *,
        skills: Mapping[str, int] | None = None,
    ) -> Offer:
        """The agent takes one waiting interaction out of order, atomically.

        Any agent without an outstanding offer or a call may pick, ready or not; in practice
        pickers are not ready, since the work-conserving router never leaves a ready agent
        beside an interaction it could serve. The skill check uses `skills` if given, else those
        of the agent's last `agent_ready`; an agent the router does not know needs `skills`.
        Raises CherryPickRefused with the first failing reason among: the interaction is not
        waiting; the agent is unavailable (unknown without `skills`, holding an offer, or busy
        on a call); the agent lacks the service's skills. `now` completes the event contract;
        the current rules do not depend on it.
        """
        del now
        item = self._items.get(interaction_id)
        if item is None or item.state is not InteractionState.WAITING:
            raise CherryPickRefused(PickRefusal.NOT_WAITING, agent_id, interaction_id)
        agent = self._agents.get(agent_id)
        if agent is not None and agent.state in (AgentState.RESERVED, AgentState.BUSY):
            raise CherryPickRefused(PickRefusal.AGENT_UNAVAILABLE, agent_id, interaction_id)
        if skills is None:
            if agent is None:
                raise CherryPickRefused(PickRefusal.AGENT_UNAVAILABLE, agent_id, interaction_id)
            skills = agent.skills
        required = self._queues[item.interaction.service_id].service.required_skills
        if not can_serve(required, skills):
            raise CherryPickRefused(PickRefusal.NOT_SKILLED, agent_id, interaction_id)
        if agent is None:
            agent = self._agents[agent_id] = AgentRecord(agent_id, dict(skills))
        return self._offer(item, agent)

    # Internals.

    def _services_for(self, skills: Mapping[str, int]) -> frozenset[str]:
        key = frozenset(skills.items())
        services = self._eligible.get(key)
        if services is None:
            if len(self._eligible) >= _ELIGIBLE_CACHE_MAX:
                self._eligible.clear()
            services = frozenset(
                sid
                for sid, q in self._queues.items()
                if can_serve(q.service.required_skills, skills)
            )
            self._eligible[key] = services
        return services

    def _best_waiting(self, service_ids: frozenset[str], now: float) -> ItemRecord | None:
        # Only the heads can win: within a service the routing order is time-invariant.
        best: ItemRecord | None = None
        best_key: tuple[float, float, int] | None = None
        for service_id in service_ids:
            queue = self._queues[service_id]
            iid = queue.head()
            if iid is None:
                continue
            item = self._items[iid]
            interaction = item.interaction
            key = (
                -effective_priority(queue.service, interaction, now),
                interaction.enqueued_at,
                item.seq,
            )
            if best_key is None or key < best_key:
                best, best_key = item, key
        return best

    def _place(self, item: ItemRecord, queue: ServiceQueue) -> list[Offer]:
        # The caller keeps the router work-conserving, so a service with a ready agent has no
        # waiting interaction that could come before this one.
        agent_id = queue.best_ready()
        if agent_id is not None:
            return [self._offer(item, self._agents[agent_id])]
        interaction = item.interaction
        queue.add_waiting(interaction.id, interaction.enqueued_at, item.seq, interaction.bump)
        return []

    def _offer(self, item: ItemRecord, agent: AgentRecord) -> Offer:
        interaction_id = item.interaction.id
        if item.state is InteractionState.WAITING:
            self._queues[item.interaction.service_id].drop_waiting(interaction_id)
        item.state = InteractionState.OFFERED
        item.agent_id = agent.id
        self._leave_ready(agent)
        agent.state = AgentState.RESERVED
        agent.offer = interaction_id
        return Offer(interaction_id, agent.id)

    def _leave_ready(self, agent: AgentRecord) -> None:
        for service_id in agent.services:
            self._queues[service_id].drop_ready(agent.id)
        agent.services = frozenset()

    def _release(self, item: ItemRecord, state: AgentState) -> None:
        agent = self._agents.get(item.agent_id) if item.agent_id is not None else None
        if agent is None or agent.offer != item.interaction.id:
            return
        agent.offer = None
        if agent.logged_out:
            del self._agents[agent.id]
        else:
            agent.state = state
