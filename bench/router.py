"""Latency of one ACD router decision with 10,000 interactions waiting and 1,000 agents.

Prints figures, never pass/fail (the target is p99 <= 1 ms per decision):

    .venv/bin/python bench/router.py [--events N] [--seed S]

State: 20 services over 10 skills (levels 1-5, minimums 1-3, half "skills" policy, some
ageing), 10,000 waiting interactions spread over 18 of them, 700 agents busy on calls and 300
ready agents who only serve the 2 services with nothing waiting (otherwise they would have
taken a call). Two decisions are timed, each restored untimed so the state stays the same:
- arrival: 90% to a busy service (it queues; restored by an abandon, which leaves lazy
  garbage in the heaps, as in production), 10% to an idle service (offered to the best
  ready agent; restored by accept and ready again);
- agent ready: a busy agent takes the best interaction among the heads of its services'
  queues (restored by a failed offer, which requeues it), or an idle agent comes back.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.router import Interaction, Router, Service

SKILLS = [f"skill{n}" for n in range(10)]
BUSY_SERVICES = 18
WAITING = 10_000
BUSY_AGENTS = 700
IDLE_AGENTS = 300


def build(rng: random.Random) -> tuple[Router, list[Service], dict[str, dict[str, int]], float]:
    """The loaded router, its services, every agent's skills, and the current time."""
    router = Router()
    services = []
    for n in range(BUSY_SERVICES + 2):
        if n < BUSY_SERVICES:
            picked = rng.sample(SKILLS, rng.choice((1, 1, 2)))
            required = {skill: rng.randint(1, 3) for skill in picked}
        else:
            required = {f"idle{n}": 1}
        service = Service(
            f"service{n}",
            required,
            priority=rng.randint(0, 5),
            ageing=rng.choice((0.0, 0.1, 0.5, 1.0)),
            policy="skills" if n % 2 else "longest_idle",
        )
        router.set_service(service)
        services.append(service)
    skills_of: dict[str, dict[str, int]] = {}
    now = 0.0
    # Busy agents: ready first, each takes a call and accepts it.
    for n in range(BUSY_AGENTS):
        skills = {s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(3, 6))}
        skills_of[f"busy{n}"] = skills
        router.agent_ready(f"busy{n}", skills, now)
    for n in range(WAITING + BUSY_AGENTS):
        now += 0.05
        service = services[rng.randrange(BUSY_SERVICES)]
        bump = 5.0 if rng.random() < 0.02 else 0.0
        for offer in router.arrive(Interaction(f"setup{n}", service.id, now, bump=bump)):
            router.offer_accepted(offer.interaction_id)
    for n in range(IDLE_AGENTS):
        skills = {f"idle{BUSY_SERVICES + n % 2}": rng.randint(1, 5)}
        skills_of[f"idle{n}"] = skills
        router.agent_ready(f"idle{n}", skills, now - rng.uniform(0, 600))
    return router, services, skills_of, now


def percentile(sorted_ns: list[int], q: float) -> float:
    """The q-quantile of sorted nanosecond samples, in microseconds."""
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000


def main() -> None:
    """Build the state, time the decisions, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="timed events per kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    router, services, skills_of, now = build(rng)
    stats = router.queue_stats(now)
    waiting = sum(s.waiting for s in stats.values())
    ready = sum(1 for _ in router.ready_agents())
    # The setup objects are long-lived; keep the collector from rescanning them in timed code.
    gc.collect()
    gc.freeze()
    clock = time.perf_counter_ns
    arrival_ns: list[int] = []
    ready_ns: list[int] = []
    busy = [f"busy{n}" for n in range(BUSY_AGENTS)]
    offers = 0
    for n in range(args.events):
        now += 0.01
        # Arrival.
        service = services[
            rng.randrange(BUSY_SERVICES) if rng.random() < 0.9 else -rng.randint(1, 2)
        ]
        interaction = Interaction(f"bench{n}", service.id, now)
        start = clock()
        made = router.arrive(interaction)
        arrival_ns.append(clock() - start)
        if made:
            offers += 1
            router.offer_accepted(interaction.id)
            agent = made[0].agent_id
            router.agent_ready(agent, skills_of[agent], now)
        else:
            router.remove(interaction.id)
        # Agent ready.
        agent = rng.choice(busy) if rng.random() < 0.8 else f"idle{rng.randrange(IDLE_AGENTS)}"
        if agent.startswith("idle"):
            router.agent_not_ready(agent)
        start = clock()
        made = router.agent_ready(agent, skills_of[agent], now)
        ready_ns.append(clock() - start)
        if made:
            offers += 1
            router.offer_failed(made[0].interaction_id, now)
        elif agent.startswith("busy"):
            router.agent_not_ready(agent)
    gc.unfreeze()
    print(
        f"router decision latency: {waiting} waiting, {ready} ready / "
        f"{BUSY_AGENTS + IDLE_AGENTS} agents, {len(services)} services; "
        f"{args.events} events per kind, {offers} offers made"
    )
    print(f"{'event':<12} {'p50 us':>8} {'p99 us':>8} {'p99.9 us':>9} {'mean us':>8} {'max us':>8}")
    for name, samples in (("arrival", arrival_ns), ("agent ready", ready_ns)):
        print_row(name, samples)
    print_row("all", arrival_ns + ready_ns)


def print_row(name: str, samples_ns: list[int]) -> None:
    """One line of figures for a kind of event."""
    ordered = sorted(samples_ns)
    mean = statistics.fmean(ordered) / 1000
    print(
        f"{name:<12} {percentile(ordered, 0.50):>8.1f} {percentile(ordered, 0.99):>8.1f} "
        f"{percentile(ordered, 0.999):>9.1f} {mean:>8.1f} {ordered[-1] / 1000:>8.1f}"
    )


if __name__ == "__main__":
    main()
