"""Random event sequences: the router's invariants, and agreement with a slow reference.

The reference rescans everything after each event ("while some ready agent can serve some
waiting interaction, offer the highest-priority such interaction to its service's preferred
agent"), which is the routing rule stated once; the fast router must make exactly the same
offers. Times, bumps and ageing rates are integers or halves so float arithmetic is exact and
near-ties cannot make the two disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from server.router import (
    EXCLUSIVE_MEDIA,
    AgentReserved,
    AgentState,
    CherryPickRefused,
    Dropped,
    DuplicateInteraction,
    Interaction,
    Offer,
    PickRefusal,
    Router,
    Service,
    UnknownService,
    UnsupportedMedia,
    index,
)

SERVICES = ("s0", "s1", "s2")
AGENTS = ("a0", "a1", "a2", "a3", "a4", "a5")
SKILLS = ("x", "y", "z")

Op = tuple[Any, ...]


def serves(required: Mapping[str, int], skills: Mapping[str, int]) -> bool:
    """Eligibility, restated independently of the router's code."""
    return all(skills.get(skill, 0) >= level for skill, level in required.items())


@dataclass
class RefItem:
    """An interaction in the reference model."""

    interaction: Interaction
    seq: int
    agent: str | None = None  # None while waiting


@dataclass
class RefAgent:
    """An agent in the reference model."""

    skills: dict[str, int]
    state: AgentState
    idle_since: float = 0.0
    idle_seq: int = 0
    offer: str | None = None
    logged_out: bool = False


class Reference:
    """The routing rules by brute force: correct by inspection, slow by design."""

    def __init__(self) -> None:
        """Start empty."""
        self.services: dict[str, Service] = {}
        self.items: dict[str, RefItem] = {}
        self.agents: dict[str, RefAgent] = {}
        self.seq = 0
        self.idle_seq = 0

    def item_key(self, item: RefItem, now: float) -> tuple[float, float, int]:
        """Higher effective priority first, then earlier enqueued, then earlier arrival."""
        i = item.interaction
        service = self.services[i.service_id]
        eff = service.priority + i.bump + service.ageing * (now - i.enqueued_at)
        return (-eff, i.enqueued_at, item.seq)

    def agent_key(self, service: Service, agent: RefAgent) -> tuple[int, float, int]:
        """The service's policy: best summed level for "skills", then longest idle."""
        score = sum(agent.skills.get(s, 0) for s in service.required_skills)
        return (-score if service.policy == "skills" else 0, agent.idle_since, agent.idle_seq)

    def ready(self) -> dict[str, RefAgent]:
        """Ready agents by id."""
        return {aid: a for aid, a in self.agents.items() if a.state is AgentState.READY}

    def settle(self, now: float) -> list[Offer]:
        """Offer until no ready agent can serve any waiting interaction."""
        offers: list[Offer] = []
        while True:
            pairs = [
                (item, aid)
                for item in self.items.values()
                if item.agent is None
                for aid, agent in self.ready().items()
                if serves(self.services[item.interaction.service_id].required_skills, agent.skills)
            ]
            if not pairs:
                return offers
            item = min((p[0] for p in pairs), key=lambda it: self.item_key(it, now))
            service = self.services[item.interaction.service_id]
            aid = min(
                (p[1] for p in pairs if p[0] is item),
                key=lambda a: self.agent_key(service, self.agents[a]),
            )
            offers.append(self.offer(item, aid))

    def offer(self, item: RefItem, aid: str) -> Offer:
        """Reserve the agent for the item."""
        item.agent = aid
        self.agents[aid].state = AgentState.RESERVED
        self.agents[aid].offer = item.interaction.id
        return Offer(item.interaction.id, aid)

    def release(self, item: RefItem, state: AgentState) -> None:
        """Free the agent an item was offered to."""
        agent = self.agents.get(item.agent or "")
        if agent is None or agent.offer != item.interaction.id:
            return
        agent.offer = None
        if agent.logged_out:
            del self.agents[item.agent or ""]
        else:
            agent.state = state

    def set_service(self, service: Service, now: float) -> list[Offer]:
        """Add or replace."""
        self.services[service.id] = service
        return self.settle(now)

    def remove_service(self, sid: str, now: float) -> list[Dropped]:
        """Forget the service and its interactions."""
        if sid not in self.services:
            return []
        mine = [it for it in self.items.values() if it.interaction.service_id == sid]
        waiting = sorted(
            (it for it in mine if it.agent is None), key=lambda it: self.item_key(it, now)
        )
        offered = sorted((it for it in mine if it.agent is not None), key=lambda it: it.seq)
        dropped = [Dropped(it.interaction.id, it.agent) for it in waiting + offered]
        for it in offered:
            self.release(it, AgentState.NOT_READY)
        for it in mine:
            del self.items[it.interaction.id]
        del self.services[sid]
        return dropped

    def arrive(self, interaction: Interaction, now: float) -> list[Offer]:
        """Validate, queue, settle."""
        if interaction.media not in EXCLUSIVE_MEDIA:
            raise UnsupportedMedia(interaction.media)
        if interaction.service_id not in self.services:
            raise UnknownService(interaction.service_id)
        if interaction.id in self.items:
            raise DuplicateInteraction(interaction.id)
        assert math.isfinite(interaction.enqueued_at)
        self.seq += 1
        self.items[interaction.id] = RefItem(interaction, self.seq)
        return self.settle(now)

    def offer_accepted(self, iid: str) -> bool:
        """Forget the item; its agent is busy."""
        item = self.items.get(iid)
        if item is None or item.agent is None:
            return False
        self.release(item, AgentState.BUSY)
        del self.items[iid]
        return True

    def offer_failed(self, iid: str, now: float) -> list[Offer]:
        """Requeue with the same key; the agent is not ready."""
        item = self.items.get(iid)
        if item is None or item.agent is None:
            return []
        self.release(item, AgentState.NOT_READY)
        item.agent = None
        return self.settle(now)

    def remove(self, iid: str) -> str | None:
        """Forget the item; report the agent it was offered to."""
        item = self.items.pop(iid, None)
        if item is None or item.agent is None:
            return None
        self.release(item, AgentState.NOT_READY)
        return item.agent

    def agent_ready(
        self, aid: str, skills: Mapping[str, int], now: float, idle_since: float | None
    ) -> list[Offer]:
        """Ready with these skills; an already-ready agent keeps its idle place."""
        agent = self.agents.setdefault(aid, RefAgent({}, AgentState.NOT_READY))
        if agent.state is AgentState.RESERVED:
            raise AgentReserved(aid)
        if agent.state is AgentState.READY:
            agent.idle_since = agent.idle_since if idle_since is None else idle_since
        else:
            agent.idle_since = now if idle_since is None else idle_since
            self.idle_seq += 1
            agent.idle_seq = self.idle_seq
        agent.skills = dict(skills)
        agent.state = AgentState.READY
        return self.settle(now)

    def agent_not_ready(self, aid: str) -> None:
        """Not ready unless holding an offer."""
        agent = self.agents.get(aid)
        if agent is not None and agent.state is not AgentState.RESERVED:
            agent.state = AgentState.NOT_READY

    def agent_logout(self, aid: str) -> None:
        """Forget, or mark for forgetting once the offer resolves."""
        agent = self.agents.get(aid)
        if agent is not None and agent.state is AgentState.RESERVED:
            agent.logged_out = True
        elif agent is not None:
            del self.agents[aid]

    def cherry_pick(self, aid: str, iid: str, skills: Mapping[str, int] | None) -> Offer:
        """Take one waiting item if waiting, agent available, and skilled."""
        item = self.items.get(iid)
        if item is None or item.agent is not None:
            raise CherryPickRefused(PickRefusal.NOT_WAITING, aid, iid)
        agent = self.agents.get(aid)
        busy = (AgentState.RESERVED, AgentState.BUSY)
        if (agent is not None and agent.state in busy) or (agent is None and skills is None):
            raise CherryPickRefused(PickRefusal.AGENT_UNAVAILABLE, aid, iid)
        use = skills if skills is not None else agent.skills if agent is not None else {}
        if not serves(self.services[item.interaction.service_id].required_skills, use):
            raise CherryPickRefused(PickRefusal.NOT_SKILLED, aid, iid)
        if agent is None:
            self.agents[aid] = RefAgent(dict(use), AgentState.NOT_READY)
        return self.offer(item, aid)

    def waiting_ids(self, sid: str, now: float) -> list[str]:
        """A service's waiting ids in routing order."""
        mine = [
            it
            for it in self.items.values()
            if it.interaction.service_id == sid and it.agent is None
        ]
        return [it.interaction.id for it in sorted(mine, key=lambda it: self.item_key(it, now))]

    def ready_ids(self) -> list[str]:
        """Ready agents, longest idle first."""
        ready = self.ready()
        return sorted(ready, key=lambda a: (ready[a].idle_since, ready[a].idle_seq))

    def offers(self) -> list[Offer]:
        """Outstanding offers by arrival."""
        offered = sorted((it for it in self.items.values() if it.agent), key=lambda it: it.seq)
        return [Offer(it.interaction.id, it.agent or "") for it in offered]


def service_st(sid: str) -> st.SearchStrategy[Service]:
    """A random definition of service `sid`."""
    return st.builds(
        Service,
        id=st.just(sid),
        required_skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=2),
        priority=st.integers(0, 3),
        ageing=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
        policy=st.sampled_from(["longest_idle", "skills"]),
    )


agent_skills = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 4), min_size=2, max_size=3)
agent_ids = st.sampled_from(AGENTS)
pick = st.integers(0, 50)
arrive_op = st.tuples(
    st.just("arrive"), st.sampled_from(SERVICES), st.integers(0, 5), st.sampled_from([0, 0, 1, 3])
)
ready_op = st.tuples(st.just("ready"), agent_ids, agent_skills, st.none() | st.integers(0, 9))
OP_BY_KIND: dict[str, st.SearchStrategy[Op]] = {
    "arrive": arrive_op,
    "ready": ready_op,
    "tick": st.tuples(st.just("tick"), st.integers(1, 15)),
    "not_ready": st.tuples(st.just("not_ready"), agent_ids),
    "logout": st.tuples(st.just("logout"), agent_ids),
    "accept": st.tuples(st.just("accept"), pick),
    "fail": st.tuples(st.just("fail"), pick),
    "remove": st.tuples(st.just("remove"), pick),
    "pick": st.tuples(st.just("pick"), agent_ids, pick, st.none() | agent_skills),
    "set_service": st.tuples(st.just("set_service"), st.sampled_from(SERVICES).flatmap(service_st)),
    "remove_service": st.tuples(st.just("remove_service"), st.sampled_from(SERVICES)),
}
# Two mixes: queues building up (agents compare many heads) and agents idling (arrivals compare
# many agents). Service removals stay rare: arrivals for a removed service are only refused.
MIXES = (
    {"arrive": 12, "ready": 6, "tick": 4, "not_ready": 2, "logout": 1, "accept": 5, "fail": 4},
    {"arrive": 6, "ready": 10, "tick": 4, "not_ready": 2, "logout": 1, "accept": 6, "fail": 3},
)
COMMON = {"remove": 2, "pick": 3, "set_service": 2, "remove_service": 1}


def script_st(mix: dict[str, int]) -> st.SearchStrategy[list[Op]]:
    """Event sequences drawn with the given weight per kind."""
    kinds = [kind for kind, weight in (mix | COMMON).items() for _ in range(weight)]
    return st.lists(
        st.sampled_from(kinds).flatmap(OP_BY_KIND.__getitem__), min_size=20, max_size=60
    )


scripts = st.sampled_from(MIXES).flatmap(script_st)


def outcome(call: Callable[..., object], *args: Any, **kwargs: Any) -> object:
    """The result, or the error's type and reason, so both models can be compared."""
    try:
        return call(*args, **kwargs)
    except CherryPickRefused as refused:
        return ("refused", refused.reason)
    except (AgentReserved, UnknownService) as error:
        return type(error).__name__


@settings(max_examples=200, deadline=None)
@given(
    initial=st.tuples(*(service_st(s) for s in SERVICES)),
    script=scripts,
    slack=st.sampled_from([0, 64]),
)
def test_router_matches_reference_and_keeps_invariants(
    initial: tuple[Service, ...], script: list[Op], slack: int
) -> None:
    # Without slack the indexes rebuild their heaps at almost every removal: small scripts then
    # exercise the lazy-deletion bookkeeping as hard as long production runs do.
    with mock.patch.object(index, "_SLACK", slack):
        run_script(initial, script)


def run_script(initial: tuple[Service, ...], script: list[Op]) -> None:
    """Play the script on both models, comparing them and checking invariants at each step."""
    router, ref = Router(), Reference()
    defs: dict[str, Service] = {}
    skills_of: dict[str, dict[str, int]] = {}
    facts: dict[str, tuple[str, float, float, int]] = {}  # id -> (service, enq, bump, order)
    for service in initial:
        defs[service.id] = service
        assert router.set_service(service) == ref.set_service(service, 0.0) == []
    now = 0.0
    for n, op in enumerate(script):
        ready_before = {a.agent_id for a in router.ready_agents()}
        offered_before = {o.agent_id for o in router.offers()}
        kind = op[0]
        offered_ids = [o.interaction_id for o in router.offers()] or ["none"]
        known_ids = list(facts) or ["none"]
        fast: object
        slow: object
        if kind == "tick":
            now += op[1]
            continue
        if kind == "arrive":
            iid = f"i{n}"
            interaction = Interaction(iid, op[1], now - op[2], bump=float(op[3]))
            facts[iid] = (op[1], now - op[2], float(op[3]), n)
            fast = outcome(router.arrive, interaction)
            slow = outcome(ref.arrive, interaction, now)
        elif kind == "ready":
            _, aid, skills, back = op
            idle = None if back is None else now - back
            fast = outcome(router.agent_ready, aid, skills, now, idle_since=idle)
            slow = outcome(ref.agent_ready, aid, skills, now, idle)
            if isinstance(fast, list):
                skills_of[aid] = skills
                ready_before.add(aid)
        elif kind in ("not_ready", "logout"):
            fast = getattr(router, f"agent_{kind}")(op[1])
            slow = getattr(ref, f"agent_{kind}")(op[1])
        elif kind == "accept":
            iid = offered_ids[op[1] % len(offered_ids)]
            fast, slow = router.offer_accepted(iid), ref.offer_accepted(iid)
        elif kind == "fail":
            iid = offered_ids[op[1] % len(offered_ids)]
            fast, slow = router.offer_failed(iid, now), ref.offer_failed(iid, now)
        elif kind == "remove":
            iid = known_ids[op[1] % len(known_ids)]
            fast, slow = router.remove(iid), ref.remove(iid)
        elif kind == "pick":
            _, aid, k, skills = op
            iid = known_ids[k % len(known_ids)]
            state = router.agent_state(aid)
            fast = outcome(router.cherry_pick, aid, iid, now, skills=skills)
            slow = outcome(ref.cherry_pick, aid, iid, skills)
            if isinstance(fast, Offer):
                assert state not in (AgentState.RESERVED, AgentState.BUSY)
                ready_before.add(aid)  # a pick is the agent's own request
                fast = [fast]
            if isinstance(slow, Offer):
                slow = [slow]
        elif kind == "set_service":
            defs[op[1].id] = op[1]
            fast, slow = router.set_service(op[1]), ref.set_service(op[1], now)
        else:
            defs.pop(op[1], None)
            fast, slow = router.remove_service(op[1]), ref.remove_service(op[1], now)
        assert fast == slow, (kind, fast, slow)
        if isinstance(fast, list):
            check_event_offers(router, fast, kind, ready_before, offered_before, facts)
        check_state(router, ref, now, defs, skills_of, facts)


def check_event_offers(
    router: Router,
    offers: list[Any],
    kind: str,
    ready_before: set[str],
    offered_before: set[str],
    facts: dict[str, tuple[str, float, float, int]],
) -> None:
    """Offers go to ready agents only, one each, and respect FIFO within a service."""
    new = [o for o in offers if isinstance(o, Offer)]
    assert len({o.agent_id for o in new}) == len(new)
    assert len({o.interaction_id for o in new}) == len(new)
    for offer in new:
        assert offer.agent_id in ready_before
        assert offer.agent_id not in offered_before
        if kind == "pick":
            continue
        sid, enq, bump, order = facts[offer.interaction_id]
        for other in router.waiting(sid, 0.0):
            _, o_enq, o_bump, o_order = facts[other.interaction_id]
            assert not (o_bump == bump and (o_enq, o_order) < (enq, order)), "FIFO broken"


def check_state(
    router: Router,
    ref: Reference,
    now: float,
    defs: dict[str, Service],
    skills_of: dict[str, dict[str, int]],
    facts: dict[str, tuple[str, float, float, int]],
) -> None:
    """Same state as the reference; one offer per agent and per interaction; work-conserving."""
    offers = router.offers()
    assert offers == ref.offers()
    assert len({o.agent_id for o in offers}) == len(offers)
    assert all(router.agent_state(o.agent_id) is AgentState.RESERVED for o in offers)
    ready = [a.agent_id for a in router.ready_agents()]
    assert ready == ref.ready_ids()
    assert [s.id for s in router.services()] == sorted(defs)
    stats = router.queue_stats(now)
    for sid, service in defs.items():
        waiting = [w.interaction_id for w in router.waiting(sid, now)]
        assert waiting == ref.waiting_ids(sid, now)
        assert not set(waiting) & {o.interaction_id for o in offers}
        assert stats[sid].waiting == len(waiting)
        oldest = min((facts[i][1] for i in waiting), default=now)
        assert stats[sid].longest_wait == max(0.0, now - oldest)
        # Requeued or not, equal bumps keep FIFO order in the queue.
        keys = [(facts[i][2], facts[i][1], facts[i][3]) for i in waiting]
        for i, (bump, enq, order) in enumerate(keys):
            assert all((enq, order) < (e, o) for b, e, o in keys[i + 1 :] if b == bump)
        if waiting:
            for aid in ready:
                assert not serves(service.required_skills, skills_of[aid]), "not work-conserving"
