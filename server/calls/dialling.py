"""Calls agents place: to a number through the trunk, or to another agent.

From the PhoneBar, the engine first rings the agent's own device (auto-answer headers), then
the far side with ringback in between; from a desk phone, the agent's dialled channel is the
first leg and rings until the far side answers. Runs under the controller's lock.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from server.ari import AriError, Event
from server.calls.model import AgentRuntime, Call, seconds_between
from server.calls.reach import (
    DIAL_TIMEOUT_S,
    RINGBACK,
    CommandError,
    agent_of,
    free_agent,
    interaction_headers,
    label_of,
    new_channel,
    occupy,
    parse_target,
    release_agent,
    resolve_extension,
    route_out,
    stop_ringback,
)
from server.db.models import Direction

if TYPE_CHECKING:
    from server.calls.control import CallControl


log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


BUSY_CAUSES = {17}

NO_ANSWER_CAUSES = {18, 19, 21}


def _unanswered(cause: int) -> str:
    if cause in BUSY_CAUSES:
        return "busy"
    if cause in NO_ANSWER_CAUSES:
        return "no_answer"
    return "failed"


async def place_call(
    control: CallControl,
    agent_id: int,
    to: dict[str, Any],
    service_id: int | None = None,
    callback_id: int | None = None,
) -> int:
    """Call a number through the trunk, or another agent; ring my device first."""
    agent = agent_of(control, agent_id)
    if agent.state == "offline":
        raise CommandError(409, "you are offline: log in (ready or not ready) first")
    if agent.state not in ("ready", "not_ready", "wrap_up") or agent.interaction_id is not None:
        raise CommandError(409, f"you are {agent.state}: finish the current contact first")
    if not agent.reachable:
        raise CommandError(409, "your device is not registered")
    return await _start_placed_call(control, agent, to, service_id, callback_id, None)


async def _start_placed_call(
    control: CallControl,
    agent: AgentRuntime,
    to: dict[str, Any],
    service_id: int | None,
    callback_id: int | None,
    own_channel: Event | None,
) -> int:
    kind, value = parse_target(to)
    if kind == "extension":
        kind, value = "agent", resolve_extension(control, agent, str(value))
    if kind == "service":
        raise CommandError(400, "call a number or an agent")
    callee = free_agent(control, agent, int(value)) if kind == "agent" else None
    direction: Direction
    if callee is not None:
        endpoint, caller_id = f"PJSIP/{callee.endpoint}", agent.extension or agent.sip_username
        dnis, direction = callee.extension or callee.username, "internal"
    else:
        endpoint, caller_id = route_out(control, agent, str(value))
        dnis, direction = str(value), "outbound"

    service = control.services.get(service_id or 0)
    if service is None or service.tenant_id != agent.tenant_id:
        service = next(
            (
                s
                for s in sorted(control.services.values(), key=lambda s: s.id)
                if s.tenant_id == agent.tenant_id and s.can_serve(agent.skills)
            ),
            None,
        )
    at = _now()
    far_channel = f"phones-far-{uuid.uuid4().hex[:12]}"
    interaction_id = await control.history.create_interaction(
        tenant_id=agent.tenant_id,
        ani=caller_id,
        dnis=dnis,
        line_id=None,
        service_id=service.id if service else None,
        channel_id=far_channel,
        at=at,
        direction=direction,
        agent_id=agent.user_id,
    )
    call = Call(
        interaction_id,
        agent.tenant_id,
        service.id if service else None,
        far_channel,
        dnis,
        dnis,
        at,
        time.monotonic(),
        state="dialing",
        agent_id=agent.user_id,
        direction=direction,
        name=label_of(callee) if callee else "",
        agent_label=label_of(agent),
        callee_id=callee.user_id if callee else None,
        target=endpoint,
    )
    call.agent_channel = own_channel["id"] if own_channel else new_channel(call, "own")
    control.track(call)
    await occupy(control, agent, call)
    await control.set_agent(agent, "busy", None, interaction_id)
    data: dict[str, Any] = {"to": dnis, "direction": direction}
    if callback_id is not None:
        data["callback_id"] = callback_id
    await control.history.event(call, "dialing", at, agent_id=agent.user_id, **data)
    if callee is not None:
        await occupy(control, callee, call)
    if own_channel is not None:  # dialled on the agent's phone: ring the far side now
        await control.ari.request("POST", f"channels/{call.agent_channel}/ring")
        await _dial_far(control, call, caller_id)
        return interaction_id
    try:
        await control.ari.originate(
            f"PJSIP/{agent.endpoint}",
            app_args=f"own_leg,{interaction_id}",
            caller_id=f'"{call.name or dnis}" <{dnis}>',
            timeout_s=DIAL_TIMEOUT_S,
            channel_id=call.agent_channel,
            variables=interaction_headers(interaction_id, auto_answer=True),
        )
    except AriError as exc:
        await control.finish(call, "agent", "failed", 0)
        raise CommandError(409, f"your device could not be rung: {exc}") from exc
    return interaction_id


async def _own_leg_up(control: CallControl, call: Call) -> None:
    assert call.agent_channel is not None
    bridge = f"phones-{call.interaction_id}"
    await control.ari.create_bridge(bridge, f"interaction-{call.interaction_id}")
    call.bridge_id = bridge
    await control.ari.add_to_bridge(bridge, call.agent_channel)
    with contextlib.suppress(AriError):
        call.ringback = (await control.ari.play_to_bridge(bridge, RINGBACK))["id"]
    route = control.outbound.get(call.tenant_id)
    caller_id = call.ani if call.direction == "internal" or route is None else route.caller_id
    await _dial_far(control, call, caller_id)


async def _dial_far(control: CallControl, call: Call, caller_id: str) -> None:
    variables = interaction_headers(call.interaction_id) if call.direction == "internal" else {}
    label = call.agent_label if call.direction == "internal" else caller_id
    try:
        await control.ari.originate(
            call.target,
            app_args=f"far_leg,{call.interaction_id}",
            caller_id=f'"{label}" <{caller_id}>',
            timeout_s=DIAL_TIMEOUT_S,
            channel_id=call.caller_channel,
            variables=variables,
        )
    except AriError as exc:
        log.info("dialling %s failed: %s", call.target, exc)
        await control.finish(call, "far", "failed", 0)


async def _far_leg_up(control: CallControl, call: Call) -> None:
    assert call.agent_channel is not None
    if call.bridge_id is None:  # the agent dialled on their phone, which is still ringing
        await control.ari.answer(call.agent_channel)
        bridge = f"phones-{call.interaction_id}"
        await control.ari.create_bridge(bridge, f"interaction-{call.interaction_id}")
        call.bridge_id = bridge
        await control.ari.add_to_bridge(bridge, call.agent_channel, call.caller_channel)
    else:
        await stop_ringback(control, call)
        await control.ari.add_to_bridge(call.bridge_id, call.caller_channel)
    call.state = "connected"
    at = _now()
    call.answered_at = at
    callee = control.agents.get(call.callee_id or 0)
    if callee is not None:
        await control.set_agent(callee, "busy", None, call.interaction_id)
    await control.history.answered(call, at, seconds_between(call.created_at, at))


async def finish_placed(
    control: CallControl, call: Call, side: str, reason: str, cause: int, at: datetime
) -> None:
    """Record the end of a call an agent placed and free whoever took part."""
    await stop_ringback(control, call)
    was_connected = call.state == "connected"
    call.state = "ended"
    await control.history.ended(call, at, reason, side, cause)
    await release_agent(control, call.callee_id)
    agent = control.agents.get(call.agent_id or 0)
    if agent is None:
        return
    if was_connected and call.direction == "outbound":
        await control.start_wrap_up(agent, call)
    else:
        await release_agent(control, agent.user_id)


async def device_dialled(control: CallControl, channel: Event, exten: str) -> None:
    """An agent dialled on their SIP phone: an agent's extension, or a number if permitted."""
    endpoint = str(channel.get("name", "")).removeprefix("PJSIP/").rsplit("-", 1)[0]
    agent = control.by_endpoint.get(endpoint)
    refusal = "congestion"
    try:
        if agent is None:
            raise CommandError(404, f"{endpoint} is not an agent")
        if agent.state not in ("ready", "not_ready", "wrap_up") or agent.interaction_id:
            raise CommandError(409, f"{agent.username} is {agent.state}")
        to: dict[str, Any] = {"number": exten}
        if any(
            a.extension == exten and a.tenant_id == agent.tenant_id for a in control.agents.values()
        ):
            to = {"extension": exten}
        await _start_placed_call(control, agent, to, None, None, channel)
    except CommandError as exc:
        log.info("agent dialling %s from %s refused: %s", exten, endpoint, exc)
        refusal = "busy" if exc.status == 409 else "congestion"
        await control.ari.hangup(channel["id"], refusal)


async def leg_answered(control: CallControl, call: Call, role: str, channel_id: str) -> None:
    """The agent's own leg or the far leg of a placed call answered."""
    if role == "own_leg" and channel_id == call.agent_channel and call.state == "dialing":
        await _own_leg_up(control, call)
    elif role == "far_leg" and channel_id == call.caller_channel and call.state == "dialing":
        await _far_leg_up(control, call)
    else:
        await control.ari.hangup(channel_id)


async def leg_gone_while_dialing(
    control: CallControl, call: Call, channel_id: str, cause: int
) -> None:
    """The agent gave up, or the far side never answered (busy, no answer, failure)."""
    side = "agent" if channel_id == call.agent_channel else "far"
    reason = "cancelled" if side == "agent" else _unanswered(cause)
    await control.finish(call, side, reason, cause)
