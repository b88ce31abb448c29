"""Rebuild call state after (re)connecting to ARI: Asterisk's channels plus the database.

Runs before any event of the new connection is handled. Calls still alive in Asterisk are
adopted in the state the database says; calls whose channels are gone are closed with a
reason: `asterisk_restarted` (at Asterisk's start time) when Asterisk started after the
call did, else `ended_while_engine_down`.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from server.ari import AriClient, Event, parse_ari_time
from server.calls.control import CallControl
from server.calls.model import AgentRuntime, Call, seconds_between
from server.db.models import Interaction

log = logging.getLogger(__name__)


async def reconcile(control: CallControl, ari: AriClient) -> None:
    """Adopt live calls, close dead ones, refresh agents' reachability."""
    # RESTResponse: the answers to our requests over the same socket pass the filter too.
    await ari.set_event_filter(
        [
            "StasisStart",
            "StasisEnd",
            "ChannelDestroyed",
            "PlaybackFinished",
            "EndpointStateChange",
            "RESTResponse",
        ]
    )
    await ari.request(
        "POST", f"applications/{ari.app}/subscription", params={"eventSource": "endpoint:PJSIP"}
    )
    info = await ari.info()
    asterisk_started = parse_ari_time(info["status"]["startup_time"])
    async with control.lock:
        listed = await ari.channels()
        channels = {c["id"] for c in listed}
        bridges = {b["id"]: b for b in await ari.bridges()}
        for endpoint in await ari.request("GET", "endpoints/PJSIP"):
            agent = control.by_endpoint.get(endpoint["resource"])
            device = agent.device_of(endpoint["resource"]) if agent is not None else None
            if agent is not None and device is not None:
                agent.online[device] = endpoint.get("state") == "online"
        # Every channel an interaction already accounts for, live or just hung up here.
        accounted = {
            c
            for call in control.calls.values()
            for c in (call.caller_channel, call.agent_channel, *call.legs)
            if c
        }
        for interaction in await control.history.open_interactions():
            accounted |= {
                c for c in (interaction.asterisk_channel_id, interaction.agent_channel_id) if c
            }
            known = control.calls.get(interaction.id)
            if known is not None:
                await _recheck(control, known, channels, asterisk_started)
            else:
                await _adopt(control, interaction, channels, bridges, asterisk_started)
        for channel in listed:
            await _adopt_new_inbound(control, channel, accounted)
        for agent in control.agents.values():
            await _settle_agent(control, agent)
        for agent in control.agents.values():
            await control.dispatch_offers(control.make_ready(agent))
    log.info("reconciled: %d calls live", len(control.calls))


async def _recheck(
    control: CallControl, call: Call, channels: set[str], asterisk_started: datetime
) -> None:
    # The WebSocket dropped but the engine kept running: catch up on hang-ups we missed.
    if asterisk_started > call.created_at:
        await control.finish(call, "system", "asterisk_restarted", at=asterisk_started)
    elif call.caller_channel not in channels:
        await control.finish(call, "caller", "ended_while_disconnected")
    elif call.state == "connected" and call.agent_channel not in channels:
        await control.finish(call, "agent", "ended_while_disconnected")


async def _adopt(
    control: CallControl,
    row: Interaction,
    channels: set[str],
    bridges: dict[str, dict[str, object]],
    asterisk_started: datetime,
) -> None:
    now = datetime.now(UTC)
    caller_alive = row.asterisk_channel_id in channels
    agent_alive = row.agent_channel_id in channels
    # A call an agent placed that was still ringing cannot be queued like an inbound one.
    dialing = row.direction != "inbound" and row.state != "connected"
    if dialing or not caller_alive or (row.state == "connected" and not agent_alive):
        for channel in (row.asterisk_channel_id, row.agent_channel_id):
            if channel in channels:
                await control.ari.hangup(channel)
        if row.bridge_id in bridges:
            await control.ari.destroy_bridge(row.bridge_id)
        if asterisk_started > row.created_at:
            await control.history.close_interaction(
                row.id, row.tenant_id, row.agent_id, asterisk_started, "asterisk_restarted"
            )
        else:
            reason = "ended_while_engine_down"
            await control.history.close_interaction(
                row.id, row.tenant_id, row.agent_id, now, reason, note="end time is when noticed"
            )
        return
    assert row.asterisk_channel_id is not None
    call = Call(
        interaction_id=row.id,
        tenant_id=row.tenant_id,
        service_id=row.service_id,
        caller_channel=row.asterisk_channel_id,
        ani=row.ani,
        dnis=row.dnis,
        created_at=row.created_at,
        enqueued_mono=time.monotonic() - seconds_between(row.created_at, now),
        state=row.state,
        agent_id=row.agent_id,
        agent_channel=row.agent_channel_id if agent_alive else None,
        bridge_id=row.bridge_id,
        direction=row.direction,
    )
    control.track(call)
    if call.state == "connected":
        agent = control.agents.get(call.agent_id or 0)
        if agent is not None:
            agent.interaction_id = call.interaction_id
            if agent.state != "busy":
                await control.set_agent(agent, "busy", None, call.interaction_id)
        return
    # Queued or offered: back in the queue, keeping its age; a ringing offer is withdrawn
    # and made again, because the router's reservation did not survive the restart.
    if agent_alive and row.agent_channel_id:
        await control.ari.hangup(row.agent_channel_id)
    call.state, call.agent_id, call.agent_channel = "queued", None, None
    await control.requeue(call)


async def _settle_agent(control: CallControl, agent: AgentRuntime) -> None:
    # An agent left ringing or busy by a call that no longer exists goes to wrap-up.
    if agent.state not in ("ringing", "busy"):
        return
    live = agent.interaction_id is not None and agent.interaction_id in control.calls
    if not live:
        agent.interaction_id = None
        await control.set_agent(agent, "ready")


async def _adopt_new_inbound(control: CallControl, channel: Event, known: set[str]) -> None:
    # A call that entered Stasis while we were disconnected (or before its interaction was
    # written) is handled now, as if its StasisStart had just arrived.
    dialplan = channel.get("dialplan", {})
    app_data = str(dialplan.get("app_data", ""))
    prefix = f"{control.ari.app},inbound,"
    if channel["id"] in known or dialplan.get("app_name") != "Stasis":
        return
    if app_data.startswith(prefix):
        await control.inbound(channel, app_data[len(prefix) :])
    elif app_data.startswith(f"{control.ari.app},"):
        # A leg we originated (consult, conference member, transfer target) whose call the
        # restart did not rebuild: nobody would ever bridge or end it.
        log.info("hanging up orphan leg %s (%s)", channel["id"], app_data)
        await control.ari.hangup(channel["id"])
