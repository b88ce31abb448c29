"""What agents do with calls in progress: hold, mute, DTMF, transfers, consults, conferences.

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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from server.ari import AriError
from server.calls.model import AgentRuntime, Call, Leg, LegRole
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
from server.router import CherryPickRefused

if TYPE_CHECKING:
    from server.calls.control import CallControl


log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


DTMF = re.compile(r"^[0-9A-D*#]{1,32}$")


def my_call(control: CallControl, agent_id: int, interaction_id: int) -> Call:
    """The call this agent handles (404 if it is not theirs or not live)."""
    call = control.calls.get(interaction_id)
    if call is None or call.agent_id != agent_id:
        raise CommandError(404, f"you have no call {interaction_id}")
    return call


def _connected(call: Call) -> None:
    if call.state != "connected" or call.agent_channel is None or call.bridge_id is None:
        raise CommandError(409, f"the call is {call.state}, not connected")


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


async def transfer(
    control: CallControl, agent_id: int, interaction_id: int, to: dict[str, Any]
) -> None:
    """Blind transfer: the call goes to a service's queue, an agent, or a number; I leave."""
    call = my_call(control, agent_id, interaction_id)
    _connected(call)
    if call.consult_leg() is not None or call.legs:
        raise CommandError(409, "finish the consultation or conference first")
    agent = agent_of(control, agent_id)
    kind, value = parse_target(to)
    if kind == "extension":
        kind, value = "agent", resolve_extension(control, agent, str(value))
    target_agent = free_agent(control, agent, int(value)) if kind == "agent" else None
    service = control.services.get(int(value)) if kind == "service" else None
    if kind == "service" and (service is None or service.tenant_id != agent.tenant_id):
        raise CommandError(404, f"no service {value}")
    dial = route_out(control, agent, str(value)) if kind == "number" else None
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
    channel = new_channel(call, role)
    leg = Leg(
        channel, "agent" if agent else "external", role, label, agent.user_id if agent else None
    )
    call.legs[channel] = leg
    control.by_channel[channel] = call
    if agent is not None:
        await occupy(control, agent, call)
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
    agent = agent_of(control, agent_id)
    kind, value = parse_target(to)
    if kind == "extension":
        kind, value = "agent", resolve_extension(control, agent, str(value))
    if kind == "service":
        raise CommandError(400, "consult an agent or a number (a service takes a blind transfer)")
    if kind == "agent":
        target = free_agent(control, agent, int(value))
        endpoint, label, caller_id = f"PJSIP/{target.endpoint}", label_of(target), label_of(agent)
    else:
        target = None
        endpoint, caller_id = route_out(control, agent, str(value))
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
    agent = agent_of(control, agent_id)
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
        await stop_ringback(control, call)
        await _close_consult_bridge(control, call)


async def _close_consult_bridge(control: CallControl, call: Call) -> None:
    await stop_ringback(control, call)
    if call.consult_bridge:
        await control.ari.destroy_bridge(call.consult_bridge)
        call.consult_bridge = None


async def _back_to_customer(control: CallControl, call: Call) -> None:
    if call.held and call.agent_channel is not None and call.bridge_id is not None:
        await _set_hold(control, call, False)


async def leg_answered(control: CallControl, call: Call, role: str, channel_id: str) -> None:
    """A channel we originated for this call answered and entered Stasis."""
    leg = call.legs.get(channel_id)
    if role != "leg" or leg is None or leg.state != "ringing":
        await control.ari.hangup(channel_id)
        return
    leg.state = "connected"
    agent = control.agents.get(leg.agent_id or 0)
    if agent is not None:
        await control.set_agent(agent, "busy", None, call.interaction_id)
    if leg.role == "consult":
        await stop_ringback(control, call)
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
    """The handling agent left a conference: the others go on without them."""
    del channel_id
    agent = control.agents.get(call.agent_id or 0)
    call.agent_channel = None
    parties = [leg for leg in call.legs.values() if leg.role == "party"]
    promoted = next((leg for leg in parties if leg.agent_id is not None), None)
    if agent is not None:
        await control.history.event(call, "party_left", _now(), party=label_of(agent), cause=cause)
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


async def take(control: CallControl, agent_id: int, interaction_id: int) -> None:
    """Cherry-pick: I take this waiting call now, ahead of the router's order."""
    agent = agent_of(control, agent_id)
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
