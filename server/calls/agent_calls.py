"""What agents do with calls: hold, mute, DTMF, transfers, consults, conferences, dialling.

Every function runs under the controller's lock: commands through `CallControl.command`,
event handlers from its event dispatch. The PhoneBar (or a desk phone) only carries media;
these functions move channels between bridges through ARI and record every step.

Bridges of a call: `phones-<id>` holds the customer and the handling agent; while the agent
consults someone, `phones-<id>-c` holds the agent and the consulted party and the customer
hears music in the first. Hold takes the agent out of the customer's bridge and plays music
to the bridge. A conference is everyone in the customer's bridge.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from server.ari import AriError, Event
from server.calls.model import AgentRuntime, Call, Leg, LegRole, seconds_between
from server.db.models import Direction
from server.router import CherryPickRefused

if TYPE_CHECKING:
    from server.calls.control import CallControl

log = logging.getLogger(__name__)
RINGBACK = "tone:ring"
DIAL_TIMEOUT_S = 45
DTMF = re.compile(r"^[0-9A-D*#]{1,32}$")
NUMBER = re.compile(r"^\+?[0-9]{2,32}$")
BUSY_CAUSES = {17}
NO_ANSWER_CAUSES = {18, 19, 21}


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


def _new_channel(call: Call, what: str) -> str:
    return f"phones-{call.interaction_id}-{what}-{uuid.uuid4().hex[:6]}"


def _label(agent: AgentRuntime) -> str:
    return agent.display_name or agent.username


# -- finding things --
def my_call(control: CallControl, agent_id: int, interaction_id: int) -> Call:
    """The call this agent handles (404 if it is not theirs or not live)."""
    call = control.calls.get(interaction_id)
    if call is None or call.agent_id != agent_id:
        raise CommandError(404, f"you have no call {interaction_id}")
    return call


def _connected(call: Call) -> None:
    if call.state != "connected" or call.agent_channel is None or call.bridge_id is None:
        raise CommandError(409, f"the call is {call.state}, not connected")


def _agent(control: CallControl, agent_id: int) -> AgentRuntime:
    agent = control.agents.get(agent_id)
    if agent is None:
        raise CommandError(404, "you have no agent profile")
    return agent


def _free_agent(control: CallControl, caller: AgentRuntime, target_id: int) -> AgentRuntime:
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


async def _occupy(control: CallControl, agent: AgentRuntime, call: Call) -> None:
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


# -- hold, mute, DTMF, hang-up --
async def hangup(control: CallControl, agent_id: int, interaction_id: int) -> None:
    """Hang up my side: end the call, reject an offer, or leave a consult/conference."""
    call = control.calls.get(interaction_id)
    if call is None:
        raise CommandError(404, f"you have no call {interaction_id}")
    if call.agent_id == agent_id and call.agent_channel:
        # Ringing on a desk phone: hanging up from the PhoneBar is a rejection.
        reason = "busy" if call.state == "offered" else "normal"
        await control.ari.hangup(call.agent_channel, reason)
        return
    channel = call.leg_of_agent(agent_id)
    if channel is None and call.callee_id == agent_id:
        channel = call.caller_channel
    if channel is None:
        raise CommandError(404, f"you have no call {interaction_id}")
    await control.ari.hangup(channel)


async def hold(control: CallControl, agent_id: int, interaction_id: int, on: bool) -> None:
    """Put the other side on hold (it hears music) or take it back."""
    call = my_call(control, agent_id, interaction_id)
    _connected(call)
    if call.consult_leg() is not None:
        raise CommandError(409, "finish the consultation first (complete, cancel or swap)")
    if call.held == on:
        raise CommandError(409, "the call is already " + ("on hold" if on else "not on hold"))
    await _set_hold(control, call, on)
    await control.history.event(call, "held" if on else "resumed", _now(), agent_id=agent_id)


async def _set_hold(control: CallControl, call: Call, on: bool) -> None:
    assert call.bridge_id is not None and call.agent_channel is not None
    if on:
        await control.ari.remove_from_bridge(call.bridge_id, call.agent_channel)
        await control.ari.bridge_moh(call.bridge_id, True)
    else:
        with contextlib.suppress(AriError):  # the music may have stopped with its bridge
            await control.ari.bridge_moh(call.bridge_id, False)
        await control.ari.add_to_bridge(call.bridge_id, call.agent_channel)
    call.held = on


async def mute(control: CallControl, agent_id: int, interaction_id: int, on: bool) -> None:
    """Stop (or restart) passing the agent's voice to the call."""
    call = my_call(control, agent_id, interaction_id)
    _connected(call)
    assert call.agent_channel is not None
    await control.ari.mute(call.agent_channel, on)
    call.muted = on
    await control.history.event(call, "muted" if on else "unmuted", _now(), agent_id=agent_id)


async def dtmf(control: CallControl, agent_id: int, interaction_id: int, digits: str) -> None:
    """Send DTMF to the other side (an IVR the agent called, say)."""
    if not DTMF.match(digits):
        raise CommandError(400, "digits must be 1-32 of 0-9 A-D * #")
    call = my_call(control, agent_id, interaction_id)
    _connected(call)
    await control.ari.send_dtmf(call.caller_channel, digits)
    await control.history.event(call, "dtmf", _now(), agent_id=agent_id, digits=digits)


# -- transfers and consults --
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


def _resolve_extension(control: CallControl, caller: AgentRuntime, extension: str) -> int:
    for agent in control.agents.values():
        if agent.tenant_id == caller.tenant_id and agent.extension == extension:
            return agent.user_id
    raise CommandError(404, f"no agent has extension {extension}")


def _route_out(control: CallControl, agent: AgentRuntime, number: str) -> tuple[str, str]:
    """(endpoint, caller id) to reach a number through the tenant's trunk."""
    if not agent.can_dial_out:
        raise CommandError(403, "you are not permitted to call external numbers")
    route = control.outbound.get(agent.tenant_id)
    if route is None:
        raise CommandError(409, "this tenant has no trunk for outbound calls")
    return f"PJSIP/{number}@{route.endpoint}", route.caller_id


async def transfer(
    control: CallControl, agent_id: int, interaction_id: int, to: dict[str, Any]
) -> None:
    """Blind transfer: the call goes to a service's queue, an agent, or a number; I leave."""
    call = my_call(control, agent_id, interaction_id)
    _connected(call)
    if call.consult_leg() is not None or call.legs:
        raise CommandError(409, "finish the consultation or conference first")
    agent = _agent(control, agent_id)
    kind, value = parse_target(to)
    if kind == "extension":
        kind, value = "agent", _resolve_extension(control, agent, str(value))
    target_agent = _free_agent(control, agent, int(value)) if kind == "agent" else None
    service = control.services.get(int(value)) if kind == "service" else None
    if kind == "service" and (service is None or service.tenant_id != agent.tenant_id):
        raise CommandError(404, f"no service {value}")
    dial = _route_out(control, agent, str(value)) if kind == "number" else None
    if call.direction == "internal":
        raise CommandError(409, "a call between agents cannot be transferred")
    await control.history.event(
        call, "transferred", _now(), agent_id=agent_id, mode="blind", **{f"to_{kind}": value}
    )
    await _leave(control, call, agent)
    assert call.bridge_id is not None
    if dial is not None:
        await control.ari.bridge_moh(call.bridge_id, True)
        await _ring_leg(control, call, "transfer", dial[0], str(value), dial[1], None)
        return
    # To a queue or one agent: the customer waits with music, as any queued caller.
    await control.ari.destroy_bridge(call.bridge_id)
    call.bridge_id = None
    if service is not None:
        await control.requeue_to(call, service)
    elif target_agent is not None:
        call.state = "queued"
        await control.ari.start_moh(call.caller_channel)
        await control.offer_to(call, target_agent)


async def _leave(control: CallControl, call: Call, agent: AgentRuntime) -> None:
    """The handling agent leaves a call that goes on: hang up their leg, start wrap-up."""
    channel = call.agent_channel
    call.agent_id, call.agent_channel, call.held, call.muted = None, None, False, False
    if channel:
        control.by_channel.pop(channel, None)
        await control.ari.hangup(channel)
    await control.start_wrap_up(agent, call)


async def _ring_leg(
    control: CallControl,
    call: Call,
    role: LegRole,
    endpoint: str,
    label: str,
    caller_id: str,
    agent: AgentRuntime | None,
) -> Leg:
    channel = _new_channel(call, role)
    leg = Leg(
        channel, "agent" if agent else "external", role, label, agent.user_id if agent else None
    )
    call.legs[channel] = leg
    control.by_channel[channel] = call
    if agent is not None:
        await _occupy(control, agent, call)
    variables = interaction_headers(call.interaction_id) if agent is not None else {}
    try:
        await control.ari.originate(
            endpoint,
            app_args=f"leg,{call.interaction_id}",
            caller_id=caller_id,
            timeout_s=DIAL_TIMEOUT_S,
            channel_id=channel,
            variables=variables,
        )
    except AriError as exc:
        log.info("ringing %s for %s failed: %s", label, call.interaction_id, exc)
        control.by_channel.pop(channel, None)
        await leg_gone(control, call, channel, cause=0)
    return leg


async def consult(
    control: CallControl, agent_id: int, interaction_id: int, to: dict[str, Any]
) -> None:
    """Attended transfer, first step: the customer holds, I talk to the target."""
    call = my_call(control, agent_id, interaction_id)
    _connected(call)
    if call.consult_leg() is not None:
        raise CommandError(409, "a consultation is already in progress")
    if call.direction == "internal":
        raise CommandError(409, "a call between agents cannot be transferred")
    agent = _agent(control, agent_id)
    kind, value = parse_target(to)
    if kind == "extension":
        kind, value = "agent", _resolve_extension(control, agent, str(value))
    if kind == "service":
        raise CommandError(400, "consult an agent or a number (a service takes a blind transfer)")
    if kind == "agent":
        target = _free_agent(control, agent, int(value))
        endpoint, label, caller_id = f"PJSIP/{target.endpoint}", _label(target), _label(agent)
    else:
        target = None
        endpoint, caller_id = _route_out(control, agent, str(value))
        label = str(value)
    if not call.held:
        await _set_hold(control, call, True)
    assert call.agent_channel is not None
    with contextlib.suppress(AriError):
        call.ringback = (await control.ari.play(call.agent_channel, RINGBACK))["id"]
    await control.history.event(call, "consult_started", _now(), agent_id=agent_id, to=label)
    await _ring_leg(
        control, call, "consult", endpoint, label, f'"{caller_id}" <{call.ani}>', target
    )


async def _stop_ringback(control: CallControl, call: Call) -> None:
    if call.ringback:
        await control.ari.stop_playback(call.ringback)
        call.ringback = None


def _consulting(control: CallControl, agent_id: int, interaction_id: int) -> tuple[Call, Leg]:
    call = my_call(control, agent_id, interaction_id)
    leg = call.consult_leg()
    if leg is None:
        raise CommandError(409, "no consultation in progress")
    return call, leg


async def consult_complete(control: CallControl, agent_id: int, interaction_id: int) -> None:
    """Attended transfer, done: the target takes the customer; I leave."""
    call, leg = _consulting(control, agent_id, interaction_id)
    if leg.state == "ringing":
        raise CommandError(409, "the consulted party has not answered yet")
    agent = _agent(control, agent_id)
    await _close_consult_bridge(control, call)
    assert call.bridge_id is not None
    with contextlib.suppress(AriError):
        await control.ari.bridge_moh(call.bridge_id, False)
    await control.ari.add_to_bridge(call.bridge_id, leg.channel)
    await control.history.event(
        call, "transferred", _now(), agent_id=agent_id, mode="attended", to=leg.label
    )
    await _leave(control, call, agent)
    del call.legs[leg.channel]
    if leg.agent_id is not None:
        # The consulted agent now handles the call (and wraps it up).
        target = control.agents[leg.agent_id]
        target.resume_state, target.resume_reason = None, None
        call.agent_id, call.agent_channel, call.agent_label = target.user_id, leg.channel, leg.label
        await control.set_agent(target, "busy", None, call.interaction_id)
        await control.history.event(
            call, "answered", _now(), agent_id=target.user_id, transfer=True
        )
    else:
        leg.role, leg.state = "party", "connected"
        call.legs[leg.channel] = leg


async def consult_cancel(control: CallControl, agent_id: int, interaction_id: int) -> None:
    """Attended transfer, abandoned: drop the target, back to the customer."""
    call, leg = _consulting(control, agent_id, interaction_id)
    await _drop_leg(control, call, leg)
    await _back_to_customer(control, call)
    await control.history.event(call, "consult_cancelled", _now(), agent_id=agent_id)


async def consult_swap(control: CallControl, agent_id: int, interaction_id: int) -> None:
    """Talk to the other one: the customer and the consulted party take turns on hold."""
    call, leg = _consulting(control, agent_id, interaction_id)
    if leg.state == "ringing" or call.consult_bridge is None:
        raise CommandError(409, "the consulted party has not answered yet")
    assert call.agent_channel is not None and call.bridge_id is not None
    if call.held:  # with the consulted party now: go back to the customer
        await control.ari.remove_from_bridge(call.consult_bridge, call.agent_channel)
        await control.ari.bridge_moh(call.consult_bridge, True)
        await _set_hold(control, call, False)
        leg.state = "held"
    else:
        await _set_hold(control, call, True)
        with contextlib.suppress(AriError):
            await control.ari.bridge_moh(call.consult_bridge, False)
        await control.ari.add_to_bridge(call.consult_bridge, call.agent_channel)
        leg.state = "connected"
    await control.history.event(call, "consult_swapped", _now(), agent_id=agent_id)


async def consult_conference(control: CallControl, agent_id: int, interaction_id: int) -> None:
    """Three-way: the customer, the consulted party and me in one bridge."""
    call, leg = _consulting(control, agent_id, interaction_id)
    if leg.state == "ringing":
        raise CommandError(409, "the consulted party has not answered yet")
    await _close_consult_bridge(control, call)
    assert call.bridge_id is not None
    await control.ari.add_to_bridge(call.bridge_id, leg.channel)
    await _set_hold(control, call, False)
    leg.role, leg.state = "party", "connected"
    if leg.agent_id is not None:
        await control.set_agent(control.agents[leg.agent_id], "busy", None, call.interaction_id)
    await control.history.event(call, "conference", _now(), agent_id=agent_id, party=leg.label)


async def drop_party(
    control: CallControl, agent_id: int, interaction_id: int, party_id: str
) -> None:
    """Take someone out of my conference."""
    call = my_call(control, agent_id, interaction_id)
    leg = call.legs.get(party_id)
    if leg is None or leg.role != "party":
        raise CommandError(404, f"no party {party_id} in this call")
    await _drop_leg(control, call, leg)
    await control.history.event(call, "party_dropped", _now(), agent_id=agent_id, party=leg.label)


async def _drop_leg(control: CallControl, call: Call, leg: Leg) -> None:
    call.legs.pop(leg.channel, None)
    control.by_channel.pop(leg.channel, None)
    await control.ari.hangup(leg.channel)
    await release_agent(control, leg.agent_id)
    if leg.role == "consult":
        await _stop_ringback(control, call)
        await _close_consult_bridge(control, call)


async def _close_consult_bridge(control: CallControl, call: Call) -> None:
    await _stop_ringback(control, call)
    if call.consult_bridge:
        await control.ari.destroy_bridge(call.consult_bridge)
        call.consult_bridge = None


async def _back_to_customer(control: CallControl, call: Call) -> None:
    if call.held and call.agent_channel is not None and call.bridge_id is not None:
        await _set_hold(control, call, False)


# -- legs answering and going away --
async def leg_answered(control: CallControl, call: Call, role: str, channel_id: str) -> None:
    """A channel we originated for this call answered and entered Stasis."""
    if role == "own_leg" and channel_id == call.agent_channel and call.state == "dialing":
        await _own_leg_up(control, call)
        return
    if role == "far_leg" and channel_id == call.caller_channel and call.state == "dialing":
        await _far_leg_up(control, call)
        return
    leg = call.legs.get(channel_id)
    if role != "leg" or leg is None or leg.state != "ringing":
        await control.ari.hangup(channel_id)
        return
    leg.state = "connected"
    agent = control.agents.get(leg.agent_id or 0)
    if agent is not None:
        await control.set_agent(agent, "busy", None, call.interaction_id)
    if leg.role == "consult":
        await _stop_ringback(control, call)
        assert call.agent_channel is not None
        bridge = f"phones-{call.interaction_id}-c"
        await control.ari.create_bridge(bridge, f"consult-{call.interaction_id}")
        call.consult_bridge = bridge
        await control.ari.add_to_bridge(bridge, call.agent_channel, channel_id)
        await control.history.event(call, "consult_answered", _now(), to=leg.label)
    elif leg.role == "transfer":
        assert call.bridge_id is not None
        with contextlib.suppress(AriError):
            await control.ari.bridge_moh(call.bridge_id, False)
        await control.ari.add_to_bridge(call.bridge_id, channel_id)
        leg.role = "party"
        call.state = "connected"
        await control.history.event(call, "transfer_answered", _now(), to=leg.label)


async def leg_gone(control: CallControl, call: Call, channel_id: str, cause: int) -> None:
    """A consulted party, conference member or transfer target hung up (or never answered)."""
    leg = call.legs.pop(channel_id, None)
    control.by_channel.pop(channel_id, None)
    if leg is None:
        return
    await release_agent(control, leg.agent_id)
    at = _now()
    if leg.role == "consult":
        await _close_consult_bridge(control, call)
        await _back_to_customer(control, call)
        await control.history.event(call, "consult_ended", at, to=leg.label, cause=cause)
    elif leg.role == "transfer":  # the number never answered: back to the queue
        await control.history.event(call, "transfer_failed", at, to=leg.label, cause=cause)
        if call.bridge_id:
            await control.ari.destroy_bridge(call.bridge_id)
            call.bridge_id = None
        service = control.services.get(call.service_id or 0)
        if service is None:
            await control.finish(call, "system", "transfer_failed", cause)
        else:
            await control.requeue_to(call, service)
    else:
        await control.history.event(call, "party_left", at, party=leg.label, cause=cause)
        if call.agent_channel is None and not call.legs:
            await control.finish(call, "external", "hangup", cause)


async def main_leg_gone(control: CallControl, call: Call, channel_id: str, cause: int) -> None:
    """The agent's own leg or the far leg of a placed call ended, or the agent left a conference."""
    if call.state == "dialing":
        side = "agent" if channel_id == call.agent_channel else "far"
        reason = "cancelled" if side == "agent" else _unanswered(cause)
        await control.finish(call, side, reason, cause)
        return
    # The handling agent left a conference: the others go on without them.
    agent = control.agents.get(call.agent_id or 0)
    call.agent_channel = None
    parties = [leg for leg in call.legs.values() if leg.role == "party"]
    promoted = next((leg for leg in parties if leg.agent_id is not None), None)
    if agent is not None:
        await control.history.event(call, "party_left", _now(), party=_label(agent), cause=cause)
        call.agent_id = None
        await control.start_wrap_up(agent, call)
    if promoted is not None:
        del call.legs[promoted.channel]
        target = control.agents[promoted.agent_id or 0]
        target.resume_state, target.resume_reason = None, None
        call.agent_id, call.agent_channel, call.agent_label = (
            target.user_id,
            promoted.channel,
            promoted.label,
        )


def _unanswered(cause: int) -> str:
    if cause in BUSY_CAUSES:
        return "busy"
    if cause in NO_ANSWER_CAUSES:
        return "no_answer"
    return "failed"


# -- calls agents place --
async def place_call(
    control: CallControl,
    agent_id: int,
    to: dict[str, Any],
    service_id: int | None = None,
    callback_id: int | None = None,
) -> int:
    """Call a number through the trunk, or another agent; ring my device first."""
    agent = _agent(control, agent_id)
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
        kind, value = "agent", _resolve_extension(control, agent, str(value))
    if kind == "service":
        raise CommandError(400, "call a number or an agent")
    callee = _free_agent(control, agent, int(value)) if kind == "agent" else None
    direction: Direction
    if callee is not None:
        endpoint, caller_id = f"PJSIP/{callee.endpoint}", agent.extension or agent.sip_username
        dnis, direction = callee.extension or callee.username, "internal"
    else:
        endpoint, caller_id = _route_out(control, agent, str(value))
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
        name=_label(callee) if callee else "",
        agent_label=_label(agent),
        callee_id=callee.user_id if callee else None,
        target=endpoint,
    )
    call.agent_channel = own_channel["id"] if own_channel else _new_channel(call, "own")
    control.track(call)
    await _occupy(control, agent, call)
    await control.set_agent(agent, "busy", None, interaction_id)
    data: dict[str, Any] = {"to": dnis, "direction": direction}
    if callback_id is not None:
        data["callback_id"] = callback_id
    await control.history.event(call, "dialing", at, agent_id=agent.user_id, **data)
    if callee is not None:
        await _occupy(control, callee, call)
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
        await _stop_ringback(control, call)
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
    await _stop_ringback(control, call)
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


# -- the queue --
async def take(control: CallControl, agent_id: int, interaction_id: int) -> None:
    """Cherry-pick: I take this waiting call now, ahead of the router's order."""
    agent = _agent(control, agent_id)
    if agent.state not in ("ready", "not_ready") or agent.interaction_id is not None:
        raise CommandError(409, f"you are {agent.state}: finish the current contact first")
    if not agent.reachable:
        raise CommandError(409, "your device is not registered")
    call = control.calls.get(interaction_id)
    if call is None or call.tenant_id != agent.tenant_id:
        raise CommandError(404, f"no waiting call {interaction_id}")
    try:
        offer = control.router.cherry_pick(
            str(agent_id), str(interaction_id), time.monotonic(), skills=agent.skills
        )
    except CherryPickRefused as exc:
        raise CommandError(409, f"cannot take it: {exc.reason.value}") from exc
    await control.dispatch_offers([offer])


async def start_recording(control: CallControl, call: Call) -> None:
    """Record the customer's bridge (the service records its calls)."""
    if call.bridge_id is None:
        return
    name = f"interaction-{call.interaction_id}"
    try:
        await control.ari.record_bridge(call.bridge_id, name)
    except AriError as exc:
        log.warning("recording interaction %s failed: %s", call.interaction_id, exc)
        return
    call.recording = True
    await control.history.event(call, "recording_started", _now(), name=name)


def waited(call: Call) -> float:
    """Seconds since the call arrived."""
    return seconds_between(call.created_at, _now())
