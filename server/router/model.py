"""Value types of the ACD router: services, interactions, offers, states, errors and views."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Policy = Literal["longest_idle", "skills"]
POLICIES: frozenset[str] = frozenset({"longest_idle", "skills"})

VOICE = "voice"
# Media an agent can only handle one at a time. Chat/email will get per-media capacities on the
# agent; until then the router refuses them rather than routing them with voice semantics.
EXCLUSIVE_MEDIA: frozenset[str] = frozenset({VOICE})


@dataclass(frozen=True, slots=True)
class Service:
    """A queue: who may serve it, how urgent its interactions are, and how it picks an agent.

    `required_skills` maps skill → minimum level; an agent serves the service iff it has every
    listed skill at that level or above (a missing skill counts as level 0). `priority` is the
    base priority (higher first); `ageing` is priority points gained per second waited, so
    low-priority interactions are never starved. `policy` picks among ready agents:
    "longest_idle", or "skills" (highest summed level on the required skills, then longest idle).
    """

    id: str
    required_skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = 0
    ageing: float = 0.0
    policy: Policy = "longest_idle"

    def __post_init__(self) -> None:
        """Reject definitions that would make the ordering meaningless."""
        if self.policy not in POLICIES:
            raise ValueError(f"unknown routing policy {self.policy!r}")
        # NaN must fail too, hence the negated comparison.
        if not (self.ageing >= 0 and math.isfinite(self.ageing)):
            raise ValueError(f"ageing must be a finite number >= 0, got {self.ageing!r}")


@dataclass(frozen=True, slots=True)
class Interaction:
    """Something to route: a call today, a chat or e-mail later.

    `enqueued_at` fixes its place in the queue for its whole life (a failed offer puts it back
    there); `bump` is added to its effective priority.
    """

    id: str
    service_id: str
    enqueued_at: float
    media: str = VOICE
    bump: float = 0.0


@dataclass(frozen=True, slots=True)
class Offer:
    """A decision: ring `agent_id` for `interaction_id`; the agent is reserved until resolved."""

    interaction_id: str
    agent_id: str


class AgentState(StrEnum):
    """Where an agent stands from the router's point of view."""

    READY = "ready"
    RESERVED = "reserved"  # holds an outstanding offer
    BUSY = "busy"  # accepted an offer; stays busy until agent_ready
    NOT_READY = "not_ready"


class InteractionState(StrEnum):
    """Where an interaction stands from the router's point of view."""

    WAITING = "waiting"
    OFFERED = "offered"


class PickRefusal(StrEnum):
    """Why a cherry-pick was refused."""

    NOT_WAITING = "not_waiting"
    AGENT_UNAVAILABLE = "agent_unavailable"  # unknown, holding an offer, or on a voice call
    NOT_SKILLED = "not_skilled"


class RouterError(Exception):
    """Base class of the router's errors."""


class UnknownService(RouterError):
    """The service id is not configured."""


class DuplicateInteraction(RouterError):
    """An interaction with this id is already waiting or offered."""


class UnsupportedMedia(RouterError):
    """The router cannot yet route this media."""


class AgentReserved(RouterError):
    """The agent holds an outstanding offer; resolve it (offer_failed/accepted/remove) first."""


class CherryPickRefused(RouterError):
    """A cherry-pick could not be honoured; `reason` says why."""

    def __init__(self, reason: PickRefusal, agent_id: str, interaction_id: str) -> None:
        """Keep the reason machine-readable for the API layer."""
        super().__init__(f"{agent_id} cannot pick {interaction_id}: {reason.value}")
        self.reason = reason
        self.agent_id = agent_id
        self.interaction_id = interaction_id


@dataclass(frozen=True, slots=True)
class WaitingInteraction:
    """A waiting interaction as seen at `now`."""

    interaction_id: str
    service_id: str
    media: str
    enqueued_at: float
    wait: float
    effective_priority: float


@dataclass(frozen=True, slots=True)
class QueueStats:
    """Live figures of one service."""

    service_id: str
    waiting: int
    longest_wait: float
    ready_agents: int


@dataclass(frozen=True, slots=True)
class ReadyAgent:
    """A ready agent and the services it can currently take interactions from."""

    agent_id: str
    idle_since: float
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Dropped:
    """An interaction the router forgot with its service; `agent_id` is set if it was offered."""

    interaction_id: str
    agent_id: str | None


def can_serve(required_skills: Mapping[str, int], skills: Mapping[str, int]) -> bool:
    """Whether an agent with `skills` meets every minimum level in `required_skills`."""
    return all(skills.get(skill, 0) >= level for skill, level in required_skills.items())


def skill_score(required_skills: Mapping[str, int], skills: Mapping[str, int]) -> int:
    """The agent's summed level over the service's required skills (the "skills" policy)."""
    return sum(skills.get(skill, 0) for skill in required_skills)


def effective_priority(service: Service, interaction: Interaction, now: float) -> float:
    """Service priority + bump + ageing * seconds waited: higher is served first."""
    return service.priority + interaction.bump + service.ageing * (now - interaction.enqueued_at)
