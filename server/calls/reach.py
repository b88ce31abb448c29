"""Reaching people outside the queue: targets, the route out, agents rung directly.

Shared by the commands on calls in progress (agent_calls.py) and the calls agents place
(dialling.py): who a target is, whether an agent may take a call now, how a number leaves
through the tenant's trunk, and the bookkeeping of an agent rung outside the router.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from server.calls.model import AgentRuntime, Call

if TYPE_CHECKING:
    from server.calls.control import CallControl

log = logging.getLogger(__name__)


RINGBACK = "tone:ring"

DIAL_TIMEOUT_S = 45

NUMBER = re.compile(r"^\+?[0-9]{2,32}$")


class CommandError(Exception):
    """An agent's command cannot be done; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def interaction_headers(interaction_id: int, auto_answer: bool = False) -> dict[str, str]:
    """Channel variables of a leg we originate to an agent's device.

    The header tells the PhoneBar softphone which interaction rings it (it refuses calls
    without one); auto-answer asks the device to pick up at once (the agent placed the call).
    """
    variables = {
        "PHONES_INTERACTION": str(interaction_id),
        "PJSIP_HEADER(add,X-Phones-Interaction)": str(interaction_id),
    }
    if auto_answer:
        variables["PJSIP_HEADER(add,X-Phones-Auto-Answer)"] = "yes"
        variables["PJSIP_HEADER(add,Call-Info)"] = "<sip:phones>;answer-after=0"
        variables["PJSIP_HEADER(add,Alert-Info)"] = "<http://phones>;info=alert-autoanswer"
    return variables


def _now() -> datetime:
    return datetime.now(UTC)


def new_channel(call: Call, what: str) -> str:
    return f"phones-{call.interaction_id}-{what}-{uuid.uuid4().hex[:6]}"


def label_of(agent: AgentRuntime) -> str:
    return agent.display_name or agent.username


def agent_of(control: CallControl, agent_id: int) -> AgentRuntime:
    agent = control.agents.get(agent_id)
    if agent is None:
        raise CommandError(404, "you have no agent profile")
    return agent


def free_agent(control: CallControl, caller: AgentRuntime, target_id: int) -> AgentRuntime:
    """Another agent of the caller's tenant who can take a call now."""
    target = control.agents.get(target_id)
    if target is None or target.tenant_id != caller.tenant_id:
        raise CommandError(404, f"no agent {target_id}")
    if target.user_id == caller.user_id:
        raise CommandError(409, "you cannot call yourself")
    if target.state in ("offline", "ringing", "busy") or target.interaction_id is not None:
        raise CommandError(409, f"{target.username} is {target.state} and cannot take a call now")
    if not target.reachable:
        raise CommandError(409, f"{target.username} has no registered device")
    return target


async def occupy(control: CallControl, agent: AgentRuntime, call: Call) -> None:
    """An agent is rung outside the queue: remember where to go back to afterwards."""
    if agent.resume_state is None:
        agent.resume_state = agent.state if agent.state in ("ready", "not_ready") else "ready"
        agent.resume_reason = agent.reason if agent.state == "not_ready" else None
    agent.interaction_id = call.interaction_id
    await control.set_agent(agent, "ringing", None, call.interaction_id)


async def release_agent(control: CallControl, agent_id: int | None) -> None:
    """An agent rung outside the queue is done: back to the state they were in."""
    agent = control.agents.get(agent_id or 0)
    if agent is None or agent.state not in ("ringing", "busy"):
        return
    state, reason = agent.resume_state or "ready", agent.resume_reason
    agent.resume_state, agent.resume_reason, agent.interaction_id = None, None, None
    await control.set_agent(agent, state, reason)
    await control.dispatch_offers(control.make_ready(agent))


def parse_target(to: dict[str, Any]) -> tuple[str, Any]:
    """("agent", id) | ("service", id) | ("number", str) | ("extension", str) from a body."""
    kinds = [k for k in ("agent_id", "service_id", "number", "extension") if to.get(k) is not None]
    if len(kinds) != 1:
        raise CommandError(400, "give exactly one of agent_id, service_id, number, extension")
    kind = kinds[0]
    value = to[kind]
    if kind == "number" and not NUMBER.match(str(value)):
        raise CommandError(400, "number must be 2-32 digits with an optional leading +")
    return kind.removesuffix("_id"), value


def resolve_extension(control: CallControl, caller: AgentRuntime, extension: str) -> int:
    for agent in control.agents.values():
        if agent.tenant_id == caller.tenant_id and agent.extension == extension:
            return agent.user_id
    raise CommandError(404, f"no agent has extension {extension}")


def route_out(control: CallControl, agent: AgentRuntime, number: str) -> tuple[str, str]:
    """(endpoint, caller id) to reach a number through the tenant's trunk."""
    if not agent.can_dial_out:
        raise CommandError(403, "you are not permitted to call external numbers")
    route = control.outbound.get(agent.tenant_id)
    if route is None:
        raise CommandError(409, "this tenant has no trunk for outbound calls")
    return f"PJSIP/{number}@{route.endpoint}", route.caller_id


async def stop_ringback(control: CallControl, call: Call) -> None:
    if call.ringback:
        await control.ari.stop_playback(call.ringback)
        call.ringback = None
