"""The call controller: the one owner of call state, driven by ARI events.

Every inbound call enters Stasis with args ("inbound", DNIS). The controller finds the line,
queues the call with music on hold, asks the router for an agent, originates to the agent's
endpoint, bridges on answer, and records every step as an interaction event. State changes
happen under one lock; timers and API commands take the same lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from server.ari import AriClient, AriError, Event, parse_ari_time
from server.calls import agent_calls, dialling
from server.calls.agent_state import AgentState, StateRequest, check_request
from server.calls.history import History, LineTarget
from server.calls.model import (
    AgentRuntime,
    Call,
    OutboundRoute,
    ServiceRuntime,
    is_open,
    seconds_between,
)
from server.calls.reach import interaction_headers, release_agent
from server.router import Interaction, Offer, Router, Service

log = logging.getLogger(__name__)

REJECT_CAUSES = {17, 21}  # busy, call rejected: the agent said no
# Priority points a waiting call gains per second, so a low-priority service is never starved.
AGEING_PER_S = 0.1
ANNOUNCE = "sound:all-circuits-busy-now"


def _now() -> datetime:
    return datetime.now(UTC)


class CallControl:
    """Routes inbound calls to agents through ARI and keeps their history."""

    def __init__(self, ari: AriClient, history: History, router: Router) -> None:
        self.ari = ari
        self.history = history
        self.router = router
        self.lock = asyncio.Lock()
        self.calls: dict[int, Call] = {}
        self.by_channel: dict[str, Call] = {}
        self.agents: dict[int, AgentRuntime] = {}
        self.by_endpoint: dict[str, AgentRuntime] = {}
        self.lines: dict[str, LineTarget] = {}
        # Per tenant: the trunk and caller id agents' outbound calls use.
        self.outbound: dict[int, OutboundRoute] = {}
        self.services: dict[int, ServiceRuntime] = {}
        self.accepting = True
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_change: Callable[[], Awaitable[None]] | None = None
        self._pending_offers: list[Offer] = []

    # -- configuration from the database --
    def load(
        self,
        services: list[ServiceRuntime],
        agents: list[AgentRuntime],
        lines: list[LineTarget] | None = None,
    ) -> None:
        """Replace services, agents and lines (at start and after provisioning changes)."""
        if lines is not None:
            self.lines = {line.number: line for line in lines}
        self.services = {s.id: s for s in services}
        for service in services:
            # Offers a changed service makes are dispatched with the next event's offers.
            router_service = Service(
                id=str(service.id),
                required_skills=service.skills,
                priority=service.priority,
                ageing=AGEING_PER_S,
            )
            self._pending_offers += self.router.set_service(router_service)
        known = {a.user_id: a for a in agents}
        for user_id, agent in known.items():
            current = self.agents.get(user_id)
            if current is not None:
                agent.state, agent.reason, agent.since = (
                    current.state,
                    current.reason,
                    current.since,
                )
                agent.online, agent.device = current.online, current.device
                agent.interaction_id = current.interaction_id
                agent.wrap_up, agent.wrap_up_call = current.wrap_up, current.wrap_up_call
            self.agents[user_id] = agent
        self.by_endpoint = {a.sip_username: a for a in self.agents.values()}
        self.by_endpoint |= {a.web_endpoint: a for a in self.agents.values()}

    # -- helpers --
    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def later(self, delay: float, action: Callable[[], Awaitable[None]]) -> asyncio.TimerHandle:
        async def locked() -> None:
            try:
                async with self.lock:
                    await self._guarded(action(), "timer")
            except Exception:
                log.exception("recording a timer's work failed")

        loop = asyncio.get_running_loop()
        return loop.call_later(delay, lambda: self._spawn(locked()))

    async def dispatch_offers(self, offers: list[Offer]) -> None:
        """Ring the agents the router chose (plus offers left by a reload)."""
        offers, self._pending_offers = self._pending_offers + offers, []
        for offer in offers:
            call = self.calls[int(offer.interaction_id)]
            await self._offer(call, self.agents[int(offer.agent_id)])

    def make_ready(self, agent: AgentRuntime) -> list[Offer]:
        """Tell the router an agent can take calls, if ready and reachable; return offers."""
        if agent.state == "ready" and agent.reachable:
            return self.router.agent_ready(str(agent.user_id), agent.skills, time.monotonic())
        return []

    def _enqueue(self, call: Call) -> list[Offer]:
        call.routed = True
        item = Interaction(
            id=str(call.interaction_id),
            service_id=str(call.service_id),
            enqueued_at=call.enqueued_mono,
        )
        return self.router.arrive(item)

    async def set_agent(
        self,
        agent: AgentRuntime,
        state: AgentState,
        reason: str | None = None,
        interaction_id: int | None = None,
    ) -> None:
        at = _now()
        agent.state, agent.reason, agent.since = state, reason, at
        if state != "wrap_up" and agent.wrap_up is not None:
            agent.wrap_up.cancel()
            agent.wrap_up = None
        if state != "ready":
            self.router.agent_not_ready(str(agent.user_id))
        await self.history.agent_state(agent, state, reason, at, interaction_id)

    def track(self, call: Call) -> None:
        """Register a call (new, or adopted after a restart)."""
        self.calls[call.interaction_id] = call
        self.by_channel[call.caller_channel] = call
        if call.agent_channel:
            self.by_channel[call.agent_channel] = call

    async def requeue(self, call: Call) -> None:
        """Put an adopted call back in its service's queue."""
        service = self.services.get(call.service_id or 0)
        if service is None:
            await self.finish(call, "engine", "service_removed")
            return
        call.service_id = service.id
        await self.dispatch_offers(self._enqueue(call))

    async def requeue_to(self, call: Call, service: ServiceRuntime) -> None:
        """A call an agent transferred to a service waits in its queue like any other."""
        call.state, call.agent_id, call.agent_channel = "queued", None, None
        await self._queue(call, service)

    async def offer_to(self, call: Call, agent: AgentRuntime) -> None:
        """Offer a call to one agent, outside the router (a transfer to that agent)."""
        call.routed = False
        await self._offer(call, agent)

    # -- ARI events --
    async def handle(self, event: Event) -> None:
        """Handle one ARI event (called by the ARI client's event loop)."""
        try:
            async with self.lock:
                await self._guarded(self._dispatch(event), event.get("type", "?"))
        except Exception:  # the unit's commit failed: the database is down or refused it
            log.exception("recording %s failed", event.get("type", "?"))
        if self.on_change is not None:
            await self.on_change()

    async def _dispatch(self, event: Event) -> None:
        kind = event.get("type")
        if kind == "StasisStart":
            await self._stasis_start(event)
        elif kind == "ChannelDestroyed":
            await self._channel_gone(event["channel"]["id"], int(event.get("cause", 16)))
        elif kind == "PlaybackFinished":
            await self._playback_finished(event["playback"])
        elif kind == "EndpointStateChange":
            await self._endpoint_state(event["endpoint"])

    async def _guarded(self, work: Awaitable[None], what: str) -> None:
        # One bad event must not stop the controller: log it, keep what was written, go on.
        try:
            await work
        except Exception:
            log.exception("handling %s failed", what)

    async def _stasis_start(self, event: Event) -> None:
        channel = event["channel"]
        args = event.get("args", [])
        role = args[0] if args else ""
        if role == "inbound":
            await self.inbound(channel, args[1] if len(args) > 1 else channel["dialplan"]["exten"])
        elif role == "agent_leg":
            await self._agent_answered(channel, int(args[1]))
        elif role in ("own_leg", "far_leg", "leg"):
            call = self.calls.get(int(args[1]))
            if call is None:
                await self.ari.hangup(channel["id"])
            elif role == "leg":
                await agent_calls.leg_answered(self, call, role, channel["id"])
            else:
                await dialling.leg_answered(self, call, role, channel["id"])
        elif role == "agent":
            await dialling.device_dialled(self, channel, args[1] if len(args) > 1 else "")
        else:
            await self.ari.hangup(channel["id"])

    async def inbound(self, channel: Event, dnis: str) -> None:
        """A caller entered Stasis on a number: find the line, answer, record, queue."""
        channel_id = channel["id"]
        ani = channel.get("caller", {}).get("number", "") or "anonymous"
        line = self.lines.get(dnis)
        if line is None or line.service_id not in self.services or not self.accepting:
            log.info("call %s to unknown number %s refused", channel_id, dnis)
            await self.ari.hangup(channel_id, "unallocated" if self.accepting else "congestion")
            return
        service = self.services[line.service_id]
        # Answer first: the caller should not wait for the database. A crash before the
        # interaction exists leaves an answered channel in Stasis, which reconcile adopts.
        # (A caller who waited through an engine restart was answered by the dialplan.)
        if channel.get("state") != "Up":
            await self.ari.answer(channel_id)
        # The caller's wait counts from arrival, even if the engine saw the call late.
        now = _now()
        created = parse_ari_time(channel["creationtime"]) if "creationtime" in channel else now
        interaction_id = await self.history.create_interaction(
            tenant_id=line.tenant_id,
            ani=ani,
            dnis=dnis,
            line_id=line.id,
            service_id=service.id,
            channel_id=channel_id,
            at=created,
        )
        call = Call(
            interaction_id,
            line.tenant_id,
            service.id,
            channel_id,
            ani,
            dnis,
            created,
            time.monotonic() - seconds_between(created, now),
        )
        # The caller's name as the network gave it (SIP display name), for the agent's ring.
        name = str(channel.get("caller", {}).get("name", ""))
        call.name = "" if name == ani else name
        self.track(call)
        await self._queue(call, service)

    async def _queue(self, call: Call, service: ServiceRuntime) -> None:
        now = _now()
        if not is_open(service.opening_hours, now):
            await self._fallback(call, service, "closed", service.fallback_closed)
            return
        if not any(
            a.tenant_id == service.tenant_id
            and a.state != "offline"
            and service.can_serve(a.skills)
            for a in self.agents.values()
        ):
            await self._fallback(call, service, "no_agents", service.fallback_no_agents)
            return
        call.service_id, call.state = service.id, "queued"
        await self.history.event(call, "queued", now, service=service.name)
        await self.ari.start_moh(call.caller_channel)
        if service.max_wait_s is not None:
            remaining = service.max_wait_s - (time.monotonic() - call.enqueued_mono)
            call.max_wait_timer = self.later(
                max(remaining, 0), lambda: self._max_wait(call.interaction_id)
            )
        await self.dispatch_offers(self._enqueue(call))

    async def _fallback(
        self, call: Call, service: ServiceRuntime, why: str, rule: dict[str, Any] | None
    ) -> None:
        rule = rule or {"action": "announce_hangup"}
        await self.history.event(call, "fallback", _now(), why=why, action=rule["action"])
        target = self.services.get(int(rule.get("service_id", 0)))
        if rule["action"] == "overflow" and target is not None and target.id != service.id:
            await self.history.event(call, "transferred", _now(), to_service=target.name, why=why)
            await self._queue(call, target)
            return
        call.state = "closing"
        playback = await self.ari.play(call.caller_channel, str(rule.get("prompt", ANNOUNCE)))
        call.closing_playback = playback["id"]
        call.end_reason = why

    async def _playback_finished(self, playback: Event) -> None:
        for call in self.calls.values():
            if call.closing_playback == playback["id"]:
                await self.ari.hangup(call.caller_channel)
                return

    async def _max_wait(self, interaction_id: int) -> None:
        call = self.calls.get(interaction_id)
        if call is None or call.state != "queued" or call.service_id is None:
            return
        service = self.services[call.service_id]
        self.router.remove(str(interaction_id))
        await self.ari.stop_moh(call.caller_channel)
        await self._fallback(call, service, "max_wait", service.fallback_max_wait)

    async def _offer(self, call: Call, agent: AgentRuntime) -> None:
        service = self.services[call.service_id or 0]
        call.state, call.agent_id = "offered", agent.user_id
        call.agent_channel = f"phones-{call.interaction_id}-{uuid.uuid4().hex[:8]}"
        call.offered_agents.append(agent.user_id)
        agent.interaction_id = call.interaction_id
        self.by_channel[call.agent_channel] = call
        await self.set_agent(agent, "ringing", None, call.interaction_id)
        await self.history.event(
            call, "offered", _now(), agent_id=agent.user_id, agent=agent.username
        )
        try:
            await self.ari.originate(
                f"PJSIP/{agent.endpoint}",
                app_args=f"agent_leg,{call.interaction_id}",
                caller_id=f'"{call.ani}" <{call.ani}>',
                timeout_s=service.offer_timeout_s,
                channel_id=call.agent_channel,
                variables=interaction_headers(call.interaction_id),
            )
        except AriError as exc:
            log.warning("offer of %s to %s failed: %s", call.interaction_id, agent.username, exc)
            await self._offer_failed(call, "offer_timeout", cause=0)
            return
        # Asterisk gives up ringing after offer_timeout_s; this is the engine's own backstop.
        call.offer_timer = self.later(
            service.offer_timeout_s + 3, lambda: self._offer_expired(call, call.agent_channel)
        )

    async def _offer_expired(self, call: Call, agent_channel: str | None) -> None:
        if call.state == "offered" and call.agent_channel == agent_channel and agent_channel:
            await self.ari.hangup(agent_channel)

    async def _offer_failed(self, call: Call, kind: str, cause: int) -> None:
        agent = self.agents[call.agent_id or 0]
        service = self.services[call.service_id or 0]
        if call.offer_timer is not None:
            call.offer_timer.cancel()
        if call.agent_channel:
            self.by_channel.pop(call.agent_channel, None)
        call.state, call.agent_id, call.agent_channel = "queued", None, None
        agent.interaction_id = None
        await self.history.event(call, kind, _now(), agent_id=agent.user_id, cause=cause)
        if agent.state == "offline":
            pass  # the agent vanished while ringing: they stay logged out
        elif service.no_answer_rule == "ready" and kind == "offer_timeout":
            await self.set_agent(agent, "ready")
        else:
            await self.set_agent(agent, "not_ready", service.not_ready_reason)
        if call.routed:
            offers = self.router.offer_failed(str(call.interaction_id), time.monotonic())
        else:  # a transfer offered it to this agent alone: back to its service's queue
            offers = self._enqueue(call)
        offers += self.make_ready(agent)
        await self.dispatch_offers(offers)

    async def _agent_answered(self, channel: Event, interaction_id: int) -> None:
        call = self.calls.get(interaction_id)
        if call is None or call.state != "offered" or call.agent_channel != channel["id"]:
            await self.ari.hangup(channel["id"])
            return
        bridge_id = f"phones-{interaction_id}"
        try:
            await self.ari.create_bridge(bridge_id, f"interaction-{interaction_id}")
            await self.ari.add_to_bridge(bridge_id, call.caller_channel, channel["id"])
        except AriError as exc:
            # A leg hung up while we were bridging. Nothing is accepted yet: the caller keeps
            # the music, and the ChannelDestroyed that follows settles the offer or the call.
            log.info("bridging interaction %s failed: %s", interaction_id, exc)
            await self.ari.destroy_bridge(bridge_id)
            return
        if call.offer_timer is not None:
            call.offer_timer.cancel()
        self.router.offer_accepted(str(interaction_id))
        call.routed = False
        agent = self.agents[call.agent_id or 0]
        call.bridge_id = bridge_id
        with contextlib.suppress(AriError):  # music may already have stopped
            await self.ari.stop_moh(call.caller_channel)
        call.state = "connected"
        at = _now()
        call.answered_at, call.agent_label = at, agent.display_name or agent.username
        await self.set_agent(agent, "busy", None, interaction_id)
        await self.history.answered(call, at, seconds_between(call.created_at, at))
        service = self.services.get(call.service_id or 0)
        if service is not None and service.recording and not call.recording:
            await agent_calls.start_recording(self, call)

    async def _channel_gone(self, channel_id: str, cause: int) -> None:
        call = self.by_channel.pop(channel_id, None)
        if call is None:
            return
        if channel_id in call.legs:
            await agent_calls.leg_gone(self, call, channel_id, cause)
            return
        if call.state == "dialing":
            await dialling.leg_gone_while_dialing(self, call, channel_id, cause)
            return
        if channel_id == call.agent_channel and call.state == "connected" and call.legs:
            await agent_calls.main_leg_gone(self, call, channel_id, cause)
            return
        if channel_id == call.agent_channel and call.state == "offered":
            kind = "rejected" if cause in REJECT_CAUSES else "offer_timeout"
            await self._offer_failed(call, kind, cause)
            return
        side = "caller" if channel_id == call.caller_channel else "agent"
        if call.state == "closing":
            side = "system"  # our fallback announcement ended the call
        await self.finish(call, side, "hangup", cause, gone=channel_id)

    async def finish(
        self,
        call: Call,
        side: str,
        reason: str,
        cause: int = 16,
        at: datetime | None = None,
        gone: str | None = None,
    ) -> None:
        """End a call: hang up what is left, record how it ended, release the agent.

        A caller hanging up before an agent answered is an abandon; any other end of a
        waiting call (a restart dropped it) is recorded as ended with that reason.
        """
        for timer in (call.offer_timer, call.max_wait_timer):
            if timer is not None:
                timer.cancel()
        self.calls.pop(call.interaction_id, None)
        for channel in (call.caller_channel, call.agent_channel, *call.legs):
            if channel:
                self.by_channel.pop(channel, None)
                if channel != gone:  # the channel whose end brought us here is gone already
                    await self.ari.hangup(channel)
        for bridge in (call.bridge_id, call.consult_bridge):
            if bridge:
                await self.ari.destroy_bridge(bridge)
        at = at or _now()
        agent = self.agents.get(call.agent_id or 0)
        for leg in list(call.legs.values()):
            await release_agent(self, leg.agent_id)
        if call.direction != "inbound":
            await dialling.finish_placed(self, call, side, reason, cause, at)
            return
        if call.state in ("queued", "offered"):
            was_offered = call.state == "offered"
            self.router.remove(str(call.interaction_id))
            wait = seconds_between(call.created_at, at)
            if reason == "hangup":
                call.state = "abandoned"
                await self.history.abandoned(call, at, wait)
            else:
                call.state = "ended"
                await self.history.ended(call, at, reason, side, cause)
            if agent is not None and was_offered:
                agent.interaction_id = None
                await self.set_agent(agent, "ready")
                await self.dispatch_offers(self.make_ready(agent))
            return
        if call.state == "closing":
            call.state = "ended"
            await self.history.ended(call, at, call.end_reason or reason, side, cause)
            return
        call.state = "ended"
        await self.history.ended(call, at, reason, side, cause)
        if agent is not None:
            await self.start_wrap_up(agent, call)

    async def start_wrap_up(self, agent: AgentRuntime, call: Call) -> None:
        service = self.services.get(call.service_id or 0)
        wrap = service.wrap_up_s if service else 0
        agent.interaction_id = None
        await self.set_agent(agent, "wrap_up", None, call.interaction_id)
        await self.history.event(call, "wrap_up_started", _now(), agent_id=agent.user_id)

        async def done() -> None:
            if agent.state == "wrap_up":
                await self.history.event(call, "wrap_up_ended", _now(), agent_id=agent.user_id)
                # After a call the agent placed, back to the state they placed it from.
                state, reason = agent.resume_state or "ready", agent.resume_reason
                agent.resume_state, agent.resume_reason = None, None
                await self.set_agent(agent, state, reason)
                await self.dispatch_offers(self.make_ready(agent))

        agent.wrap_up = self.later(wrap, done)
        agent.wrap_up_call = call
        agent.wrap_up_until = _now() + timedelta(seconds=wrap)

    async def _endpoint_state(self, endpoint: Event) -> None:
        name = endpoint.get("resource", "")
        agent = self.by_endpoint.get(name)
        device = agent.device_of(name) if agent is not None else None
        if agent is None or device is None:
            return
        agent.online[device] = endpoint.get("state") == "online"
        if not agent.reachable:
            self.router.agent_not_ready(str(agent.user_id))
        else:
            await self.dispatch_offers(self.make_ready(agent))

    # -- commands from the API --
    async def request_state(self, user_id: int, request: StateRequest, reasons: list[str]) -> None:
        """An agent asks for ready / not_ready / offline; raises on refusal."""
        async with self.lock:
            agent = self.agents[user_id]
            state, reason = check_request(agent.state, request, reasons)
            agent.resume_state, agent.resume_reason = None, None
            if agent.state == "wrap_up":
                call = agent.wrap_up_call
                if call is not None:
                    await self.history.event(
                        call, "wrap_up_ended", _now(), agent_id=user_id, early=True
                    )
            await self.set_agent(agent, state, reason)
            await self.dispatch_offers(self.make_ready(agent))
        # The agent is told "done" only once it is committed: a restart must not undo it.
        await self.history.flush()
        if self.on_change is not None:
            await self.on_change()

    async def agent_vanished(self, user_id: int) -> None:
        """An agent's PhoneBar is gone past the grace period: log out a browser-only agent.

        An offer ringing them is withdrawn and goes to the next agent. An agent with a
        registered desk phone (chosen, or available as "auto") keeps working on it.
        """
        async with self.lock:
            agent = self.agents.get(user_id)
            if agent is None or agent.state in ("offline", "busy"):
                return
            if agent.device == "phone" or (agent.device == "auto" and agent.online["phone"]):
                return
            log.info("agent %s vanished: logging out", agent.username)
            call = self.calls.get(agent.interaction_id or 0)
            await self.set_agent(agent, "offline", "disconnected")
            self.router.agent_logout(str(agent.user_id))
            if call is not None and call.state == "offered" and call.agent_id == user_id:
                channel = call.agent_channel
                await self._guarded(self._offer_failed(call, "offer_withdrawn", cause=0), "vanish")
                if channel:
                    await self.ari.hangup(channel)
        await self.history.flush()
        if self.on_change is not None:
            await self.on_change()

    async def command(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run an agent's command under the lock, commit what it recorded, publish views."""
        async with self.lock:
            await work()
        await self.history.flush()
        if self.on_change is not None:
            await self.on_change()
