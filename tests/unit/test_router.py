"""One small scenario per routing rule of the ACD router."""

from __future__ import annotations

import pytest

from server.router import (
    AgentReserved,
    AgentState,
    CherryPickRefused,
    Dropped,
    DuplicateInteraction,
    Interaction,
    InteractionState,
    Offer,
    PickRefusal,
    QueueStats,
    Router,
    Service,
    UnknownService,
    UnsupportedMedia,
)


def call(iid: str, service: str = "sales", at: float = 0.0, bump: float = 0.0) -> Interaction:
    """A voice interaction enqueued at `at`."""
    return Interaction(iid, service, at, bump=bump)


def router_with(*services: Service) -> Router:
    """A router configured with `services` (a plain "sales" one by default)."""
    router = Router()
    for service in services or (Service("sales"),):
        assert router.set_service(service) == []
    return router


def waiting_ids(router: Router, service: str = "sales") -> list[str]:
    """Ids of a service's waiting interactions in routing order."""
    return [w.interaction_id for w in router.waiting(service, 0.0)]


def test_arrival_goes_to_longest_idle_agent() -> None:
    router = router_with()
    router.agent_ready("late", {}, now=5.0)
    router.agent_ready("early", {}, now=1.0)
    assert router.arrive(call("c1", at=10.0)) == [Offer("c1", "early")]
    assert router.agent_state("early") is AgentState.RESERVED
    assert router.interaction_state("c1") is InteractionState.OFFERED
    assert [a.agent_id for a in router.ready_agents()] == ["late"]


def test_idle_ties_go_to_the_agent_ready_first() -> None:
    router = router_with()
    router.agent_ready("b", {}, now=1.0)
    router.agent_ready("a", {}, now=1.0)
    assert router.arrive(call("c1")) == [Offer("c1", "b")]


def test_skills_policy_prefers_highest_summed_level_then_longest_idle() -> None:
    service = Service("fr", {"sales": 1, "french": 1}, policy="skills")
    router = router_with(service)
    router.agent_ready("junior", {"sales": 3, "french": 1}, now=0.0)
    router.agent_ready("senior", {"sales": 5, "french": 2, "golf": 5}, now=9.0)
    router.agent_ready("senior2", {"sales": 4, "french": 3}, now=3.0)
    assert router.arrive(call("c1", "fr")) == [Offer("c1", "senior2")]
    assert router.arrive(call("c2", "fr")) == [Offer("c2", "senior")]
    assert router.arrive(call("c3", "fr")) == [Offer("c3", "junior")]


def test_agent_below_minimum_level_is_not_offered() -> None:
    router = router_with(Service("tech", {"linux": 3}))
    assert router.agent_ready("novice", {"linux": 2}, now=0.0) == []
    assert router.arrive(call("c1", "tech")) == []
    assert waiting_ids(router, "tech") == ["c1"]
    assert router.agent_ready("guru", {"linux": 4}, now=1.0) == [Offer("c1", "guru")]


def test_ready_agent_takes_highest_priority_service() -> None:
    router = router_with(Service("low", priority=1), Service("high", priority=5))
    router.arrive(call("old-low", "low", at=0.0))
    router.arrive(call("new-high", "high", at=10.0))
    assert router.agent_ready("a", {}, now=10.0) == [Offer("new-high", "a")]
    assert router.agent_ready("b", {}, now=10.0) == [Offer("old-low", "b")]


def test_ageing_lets_a_low_priority_call_overtake() -> None:
    router = router_with(Service("low", priority=0, ageing=1.0), Service("high", priority=10))
    router.arrive(call("l1", "low", at=0.0))
    router.arrive(call("h1", "high", at=5.0))
    # At t=8 low is worth 8, high 10; once low has waited more than 10 s it wins.
    assert router.agent_ready("a", {}, now=8.0) == [Offer("h1", "a")]
    router.arrive(call("h2", "high", at=9.0))
    assert router.agent_ready("b", {}, now=20.0) == [Offer("l1", "b")]


def test_equal_effective_priority_across_services_is_fifo() -> None:
    router = router_with(Service("x", priority=2), Service("y", priority=2))
    router.arrive(call("y1", "y", at=1.0))
    router.arrive(call("x1", "x", at=2.0))
    router.arrive(call("x0", "x", at=2.0))
    offers = [router.agent_ready(f"a{n}", {}, now=3.0)[0].interaction_id for n in range(3)]
    assert offers == ["y1", "x1", "x0"]


def test_fifo_within_a_service_by_enqueued_at_then_arrival() -> None:
    router = router_with()
    router.arrive(call("second", at=5.0))
    router.arrive(call("first", at=1.0))
    router.arrive(call("third", at=5.0))
    assert waiting_ids(router) == ["first", "second", "third"]
    taken = [router.agent_ready(f"a{n}", {}, now=6.0)[0].interaction_id for n in range(3)]
    assert taken == ["first", "second", "third"]


def test_bump_moves_an_interaction_ahead() -> None:
    router = router_with(Service("sales", ageing=1.0))
    router.arrive(call("plain", at=0.0))
    router.arrive(call("vip", at=3.0, bump=5.0))
    router.arrive(call("small-bump", at=3.0, bump=2.0))
    assert waiting_ids(router) == ["vip", "plain", "small-bump"]


def test_failed_offer_requeues_at_original_position_and_agent_stays_not_ready() -> None:
    router = router_with()
    router.agent_ready("a", {}, now=0.0)
    assert router.arrive(call("c1", at=1.0)) == [Offer("c1", "a")]
    router.arrive(call("c2", at=2.0))
    router.arrive(call("c3", at=3.0))
    assert router.offer_failed("c1", now=20.0) == []
    assert waiting_ids(router) == ["c1", "c2", "c3"]
    assert router.agent_state("a") is AgentState.NOT_READY
    assert router.agent_ready("b", {}, now=21.0) == [Offer("c1", "b")]


def test_failed_offer_goes_to_another_ready_agent() -> None:
    router = router_with()
    router.agent_ready("a", {}, now=0.0)
    router.agent_ready("b", {}, now=1.0)
    assert router.arrive(call("c1")) == [Offer("c1", "a")]
    assert router.offer_failed("c1", now=5.0) == [Offer("c1", "b")]
    assert router.offers() == [Offer("c1", "b")]


def test_accepted_offer_keeps_the_agent_busy_until_ready_again() -> None:
    router = router_with()
    router.agent_ready("a", {}, now=0.0)
    router.arrive(call("c1"))
    assert router.offer_accepted("c1") is True
    assert router.interaction_state("c1") is None
    assert router.agent_state("a") is AgentState.BUSY
    assert router.arrive(call("c2")) == []
    assert router.agent_ready("a", {}, now=60.0) == [Offer("c2", "a")]
    assert router.offer_accepted("c1") is False
    assert router.offer_failed("c1", now=61.0) == []


def test_remove_waiting_and_offered() -> None:
    router = router_with()
    router.arrive(call("c1"))
    router.arrive(call("c2"))
    assert router.remove("c1") is None
    assert waiting_ids(router) == ["c2"]
    router.agent_ready("a", {}, now=0.0)
    assert router.remove("c2") == "a"
    assert router.agent_state("a") is AgentState.NOT_READY
    assert router.remove("c2") is None
    assert router.queue_stats(0.0)["sales"].waiting == 0


def test_cherry_pick_by_a_not_ready_agent_takes_out_of_order() -> None:
    router = router_with()
    for n in range(3):
        router.arrive(call(f"c{n}", at=float(n)))
    router.agent_ready("a", {}, now=0.0)  # takes c0
    router.agent_not_ready("a")  # nothing changes: a holds an offer
    assert router.agent_state("a") is AgentState.RESERVED
    router.offer_accepted("c0")
    router.agent_not_ready("a")
    assert router.cherry_pick("a", "c2", now=5.0) == Offer("c2", "a")
    assert router.agent_state("a") is AgentState.RESERVED
    assert waiting_ids(router) == ["c1"]


def test_cherry_pick_by_an_unknown_agent_needs_skills() -> None:
    router = router_with(Service("tech", {"linux": 2}))
    router.arrive(call("t1", "tech"))
    with pytest.raises(CherryPickRefused) as caught:
        router.cherry_pick("new", "t1", now=1.0)
    assert caught.value.reason is PickRefusal.AGENT_UNAVAILABLE
    assert router.cherry_pick("new", "t1", now=1.0, skills={"linux": 2}) == Offer("t1", "new")
    with pytest.raises(AgentReserved):
        router.agent_ready("new", {"linux": 2}, now=2.0)


def test_cherry_pick_refusals() -> None:
    router = router_with(Service("sales"), Service("tech", {"linux": 1}))
    router.arrive(call("s1"))
    router.arrive(call("t1", "tech"))
    router.agent_ready("busy", {}, now=0.0)  # takes s1
    router.offer_accepted("s1")
    router.arrive(call("s2"))
    router.agent_ready("offered", {}, now=0.0)  # takes s2
    router.arrive(call("s3"))
    router.agent_ready("paused", {}, now=0.0)  # takes s3
    router.offer_accepted("s3")
    router.agent_not_ready("paused")
    router.arrive(call("s4"))

    def refusal(agent: str, iid: str) -> PickRefusal:
        with pytest.raises(CherryPickRefused) as caught:
            router.cherry_pick(agent, iid, now=1.0)
        assert caught.value.agent_id == agent
        assert caught.value.interaction_id == iid
        return caught.value.reason

    assert refusal("paused", "s1") is PickRefusal.NOT_WAITING  # accepted
    assert refusal("paused", "s2") is PickRefusal.NOT_WAITING  # offered to someone else
    assert refusal("paused", "nope") is PickRefusal.NOT_WAITING
    assert refusal("busy", "s4") is PickRefusal.AGENT_UNAVAILABLE
    assert refusal("offered", "s4") is PickRefusal.AGENT_UNAVAILABLE
    assert refusal("ghost", "s4") is PickRefusal.AGENT_UNAVAILABLE
    assert refusal("paused", "t1") is PickRefusal.NOT_SKILLED
    # Refusals change nothing.
    assert waiting_ids(router) == ["s4"]
    assert waiting_ids(router, "tech") == ["t1"]
    assert router.agent_state("paused") is AgentState.NOT_READY


def test_replacing_a_service_reorders_and_reroutes_waiting_items() -> None:
    router = router_with(Service("sales", {"sales": 2}), Service("other", priority=1))
    router.arrive(call("s1", at=0.0))
    router.arrive(call("s2", at=1.0))
    router.arrive(call("s3", at=2.0, bump=1.0))
    router.agent_ready("weak", {"sales": 1}, now=0.0)
    router.agent_ready("weaker", {"sales": 1}, now=1.0)
    assert [a.agent_id for a in router.ready_agents()] == ["weak", "weaker"]
    # Lowering the requirement lets both ready agents in; routing order is kept.
    offers = router.set_service(Service("sales", {"sales": 1}))
    assert offers == [Offer("s3", "weak"), Offer("s1", "weaker")]
    assert waiting_ids(router) == ["s2"]
    # Raising it takes a ready agent out of the service, so a new call waits.
    router.offer_accepted("s3")
    router.set_service(Service("sales", {"sales": 5}))
    assert router.agent_ready("weak", {"sales": 1}, now=3.0) == []
    assert router.arrive(call("s4", at=4.0)) == []
    assert router.queue_stats(10.0)["sales"] == QueueStats("sales", 2, 9.0, 0)
    # New priority and ageing apply to items already waiting: s2 has aged to 3 at t=4.
    router.agent_not_ready("weak")
    router.arrive(call("o1", "other", at=0.0))
    assert router.set_service(Service("sales", {"sales": 1}, priority=0, ageing=1.0)) == []
    assert router.agent_ready("x", {"sales": 1}, now=4.0) == [Offer("s2", "x")]
    assert router.agent_ready("y", {"sales": 1}, now=4.0) == [Offer("o1", "y")]
    assert router.agent_ready("z", {"sales": 1}, now=4.0) == [Offer("s4", "z")]


def test_replacing_the_policy_reindexes_ready_agents() -> None:
    router = router_with(Service("sales", {"sales": 1}))
    router.agent_ready("old", {"sales": 1}, now=0.0)
    router.agent_ready("expert", {"sales": 5}, now=5.0)
    router.set_service(Service("sales", {"sales": 1}, policy="skills"))
    assert router.arrive(call("c1")) == [Offer("c1", "expert")]


def test_remove_service_drops_waiting_and_offered() -> None:
    router = router_with(Service("sales"), Service("tech"))
    router.agent_ready("a", {}, now=0.0)
    router.arrive(call("c1", at=1.0))  # offered to a
    router.arrive(call("c3", at=3.0))
    router.arrive(call("c2", at=2.0))
    router.arrive(call("t1", "tech"))
    assert router.remove_service("sales") == [
        Dropped("c2", None),
        Dropped("c3", None),
        Dropped("c1", "a"),
    ]
    assert router.agent_state("a") is AgentState.NOT_READY
    assert router.interaction_state("c1") is None
    assert router.remove_service("sales") == []
    assert [s.id for s in router.services()] == ["tech"]
    with pytest.raises(UnknownService):
        router.arrive(call("c4"))
    with pytest.raises(UnknownService):
        router.waiting("sales", 0.0)
    assert router.agent_ready("a", {}, now=5.0) == [Offer("t1", "a")]


def test_agent_ready_while_holding_an_offer_is_refused() -> None:
    router = router_with()
    router.agent_ready("a", {}, now=0.0)
    router.arrive(call("c1"))
    with pytest.raises(AgentReserved):
        router.agent_ready("a", {}, now=1.0)


def test_logout_while_holding_an_offer_waits_for_the_offer_to_resolve() -> None:
    router = router_with()
    router.agent_ready("a", {}, now=0.0)
    router.arrive(call("c1"))
    router.agent_logout("a")
    assert router.agent_state("a") is AgentState.RESERVED
    with pytest.raises(AgentReserved):
        router.agent_ready("a", {}, now=1.0)
    assert router.offer_failed("c1", now=2.0) == []
    assert router.agent_state("a") is None
    assert router.agent_ready("a", {}, now=3.0) == [Offer("c1", "a")]


def test_logout_and_not_ready_remove_agents_from_routing() -> None:
    router = router_with()
    router.agent_ready("a", {}, now=0.0)
    router.agent_ready("b", {}, now=1.0)
    router.agent_logout("a")
    router.agent_not_ready("b")
    router.agent_logout("ghost")
    assert router.agent_state("a") is None
    assert router.ready_agents() == []
    assert router.arrive(call("c1")) == []


def test_skills_update_of_a_ready_agent_keeps_its_idle_place() -> None:
    router = router_with(Service("sales"), Service("tech", {"linux": 1}))
    router.agent_ready("a", {}, now=0.0)
    router.agent_ready("b", {}, now=1.0)
    router.agent_ready("a", {"linux": 1}, now=2.0)
    ready = router.ready_agents()
    assert [(r.agent_id, r.idle_since, r.services) for r in ready] == [
        ("a", 0.0, ("sales", "tech")),
        ("b", 1.0, ("sales",)),
    ]
    assert router.arrive(call("c1")) == [Offer("c1", "a")]


def test_explicit_idle_since() -> None:
    router = router_with()
    router.agent_ready("a", {}, now=10.0)
    router.agent_ready("b", {}, now=10.0, idle_since=2.0)
    assert router.arrive(call("c1")) == [Offer("c1", "b")]


def test_views_report_waits_and_effective_priority() -> None:
    router = router_with(Service("sales", priority=3, ageing=0.5), Service("idle"))
    router.arrive(call("c1", at=10.0))
    router.arrive(call("c2", at=4.0, bump=-10.0))
    views = router.waiting("sales", 20.0)
    assert [(v.interaction_id, v.wait, v.effective_priority) for v in views] == [
        ("c1", 10.0, 8.0),
        ("c2", 16.0, 1.0),
    ]
    assert views[0].media == "voice"
    stats = router.queue_stats(20.0)
    assert stats["sales"] == QueueStats("sales", 2, 16.0, 0)
    assert stats["idle"] == QueueStats("idle", 0, 0.0, 0)
    assert router.queue_stats(0.0)["sales"].longest_wait == 0.0


def test_invalid_input_is_rejected() -> None:
    router = router_with()
    with pytest.raises(UnsupportedMedia):
        router.arrive(Interaction("e1", "sales", 0.0, media="email"))
    with pytest.raises(UnknownService):
        router.arrive(call("x", "nope"))
    router.arrive(call("c1"))
    with pytest.raises(DuplicateInteraction):
        router.arrive(call("c1"))
    with pytest.raises(ValueError):
        router.arrive(call("c2", at=float("nan")))
    with pytest.raises(ValueError):
        Service("s", policy="random")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Service("s", ageing=-1.0)
    assert waiting_ids(router) == ["c1"]


def test_many_removals_keep_order_and_counts() -> None:
    # Exercises the lazy deletion and heap rebuilds of the per-service indexes.
    router = router_with(Service("sales", ageing=1.0))
    for n in range(500):
        router.arrive(call(f"c{n}", at=float(n), bump=float(n % 3)))
    for n in range(0, 500, 5):
        router.agent_ready(f"r{n}", {}, now=600.0)
        router.agent_logout(f"r{n}")
    for n in range(1, 500, 2):
        router.remove(f"c{n}")
    expected = waiting_ids(router)
    assert router.queue_stats(600.0)["sales"].waiting == len(expected)
    taken = []
    for n in range(len(expected)):
        (offer,) = router.agent_ready(f"z{n}", {}, now=600.0)
        taken.append(offer.interaction_id)
    assert taken == expected
    assert router.agent_ready("last", {}, now=600.0) == []
    for n in range(300):
        router.agent_ready(f"idle{n}", {}, now=600.0 + n)
        router.agent_not_ready(f"idle{n - 1}")
    assert [a.agent_id for a in router.ready_agents()] == ["last", "idle299"]
    assert router.arrive(call("final")) == [Offer("final", "last")]
