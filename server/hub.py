"""The PhoneBar hub: one WebSocket per open PhoneBar, carrying its agent's whole view.

After any change in the call controller the hub recomputes the view of every connected
agent (coalesced: one pass per burst of changes) and sends it to that agent's sockets only if
it differs from what they last got. When an agent's last socket closes, a grace timer starts;
if the agent is still gone when it fires, the controller logs them out (docs/phonebar.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from server.calls.model import AgentRuntime
from server.calls.views import (
    History,
    directory,
    directory_entry,
    own_view,
    queue_view,
    served_services,
    services_view,
    waiting_by_service,
)

if TYPE_CHECKING:
    from server.calls.control import CallControl

log = logging.getLogger(__name__)
AUTH_TIMEOUT_S = 10
# Changes to the agents directory (every colleague's state) go out at most this often.
DIRECTORY_INTERVAL_S = 0.5
CLOSE_UNAUTHORIZED = 4401
HISTORY_ROWS = 5

# Resolves a token to (user id, tenant id), or None.
Authenticate = Callable[[str], Awaitable[tuple[int, int] | None]]
# Loads the last interactions of a caller (tenant id, number) for the screen pop.
LoadHistory = Callable[[int, str], Awaitable[History]]


@dataclass
class _Agent:
    tenant_id: int
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    last: str = ""
    key: tuple[Any, ...] = ()
    grace: asyncio.TimerHandle | None = None


@dataclass
class _Directory:
    # The JSON of each agent's entry as last sent, to send only what changed.
    last: dict[int, str] = field(default_factory=dict)
    sent_at: float = 0.0
    timer: asyncio.TimerHandle | None = None


class _SharedParts:
    """The pieces of views that many agents share, each built once per publish."""

    def __init__(
        self, control: CallControl, waiting: dict[int, list[dict[str, Any]]], now: str
    ) -> None:
        self.control, self.waiting, self.now = control, waiting, now
        self._served: dict[tuple[int, frozenset[tuple[str, int]]], tuple[int, ...]] = {}
        self._queues: dict[tuple[int, ...], str] = {}
        self._services: dict[int, str] = {}

    def queue(self, agent: AgentRuntime) -> str:
        key = (agent.tenant_id, frozenset(agent.skills.items()))
        served = self._served.get(key)
        if served is None:
            served = self._served[key] = served_services(self.control, agent)
        text = self._queues.get(served)
        if text is None:
            text = self._queues[served] = _dumps(queue_view(served, self.waiting))
        return text

    def services(self, tenant_id: int) -> str:
        text = self._services.get(tenant_id)
        if text is None:
            text = self._services[tenant_id] = _dumps(services_view(self.control, tenant_id))
        return text


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _directory_message(rows: list[dict[str, Any]], full: bool) -> str:
    return f'{{"type":"agents","full":{"true" if full else "false"},"agents":{_dumps(rows)}}}'


class Hub:
    """Every open PhoneBar socket, by agent."""

    def __init__(
        self,
        control: CallControl,
        authenticate: Authenticate,
        load_history: LoadHistory,
        grace_s: float,
    ) -> None:
        self.control = control
        self.authenticate = authenticate
        self.load_history = load_history
        self.grace_s = grace_s
        self.agents: dict[int, _Agent] = {}
        self.directories: dict[int, _Directory] = {}
        self.seq = 0
        self._flush_scheduled = False
        # Screen-pop history, loaded once per live call (by interaction id), dropped after it.
        self._history: dict[int, History] = {}
        self._history_loading: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- publishing --
    async def changed(self) -> None:
        """Something in the controller changed: send new views soon (once per burst)."""
        if not self._flush_scheduled and self.agents:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._spawn, self.flush())

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self) -> None:
        """Send every connected agent its view if it changed, and directory changes."""
        self._flush_scheduled = False
        parts = _SharedParts(self.control, waiting_by_service(self.control), _iso_now())
        tenants: set[int] = set()
        for user_id, entry in list(self.agents.items()):
            if entry.sockets:
                tenants.add(entry.tenant_id)
                await self._send_view(user_id, entry, parts)
        for tenant_id in tenants:
            await self._send_directory(tenant_id)

    async def _send_view(
        self, user_id: int, entry: _Agent, parts: _SharedParts | None = None, force: bool = False
    ) -> None:
        agent = self.control.agents.get(user_id)
        if agent is None:
            return
        if parts is None:
            parts = _SharedParts(self.control, waiting_by_service(self.control), _iso_now())
        queue = parts.queue(agent)
        # An agent with no call whose state and queue did not change has the same view: most
        # of the hundreds of agents at each publish. (A call's view is always rebuilt.)
        key = (
            agent.state,
            agent.reason,
            agent.since,
            agent.device,
            agent.online["browser"],
            agent.online["phone"],
            agent.wrap_up_until,
            queue,
            parts.services(agent.tenant_id),
        )
        if not force and agent.interaction_id is None and key == entry.key:
            return
        entry.key = key
        own = own_view(self.control, agent, self._history)
        call = own["call"]
        if call is not None and call["interaction_id"] not in self._history:
            self._want_history(agent.tenant_id, call["interaction_id"], call["ani"])
        # Only this agent's part is built per agent; the queue and the services are built
        # once per publish for everyone who shares them.
        body = _dumps(own)[:-1] + f',"queue":{queue},"services":{parts.services(agent.tenant_id)}}}'
        if body == entry.last and not force:
            return
        entry.last = body
        self.seq += 1
        message = f'{{"type":"view","seq":{self.seq},"now":"{parts.now}","view":{body}}}'
        await _send(entry.sockets, message)

    async def _send_directory(self, tenant_id: int, to: _Agent | None = None) -> None:
        # A new socket gets the whole directory; then everyone gets the entries that
        # changed, at most every DIRECTORY_INTERVAL_S (a colleague's state is not urgent,
        # and 500 agents x 500 sockets of whole directories would be megabytes a second).
        state = self.directories.setdefault(tenant_id, _Directory())
        if to is not None:
            rows = directory(self.control, tenant_id)
            await _send(to.sockets, _directory_message(rows, full=True))
            return
        loop = asyncio.get_running_loop()
        wait = state.sent_at + DIRECTORY_INTERVAL_S - loop.time()
        if wait > 0:
            if state.timer is None:
                state.timer = loop.call_later(wait, self._directory_due, tenant_id)
            return
        changed = []
        current: dict[int, str] = {}
        for agent in self.control.agents.values():
            if agent.tenant_id != tenant_id:
                continue
            entry_json = _dumps(directory_entry(agent))
            current[agent.user_id] = entry_json
            if state.last.get(agent.user_id) != entry_json:
                changed.append(entry_json)
        gone = [user_id for user_id in state.last if user_id not in current]
        state.last = current
        if not changed and not gone:
            return
        state.sent_at = loop.time()
        message = (
            f'{{"type":"agents","full":false,"agents":[{",".join(changed)}],'
            f'"removed":{_dumps(gone)}}}'
        )
        for entry in list(self.agents.values()):
            if entry.tenant_id == tenant_id and entry.sockets:
                await _send(entry.sockets, message)

    def _directory_due(self, tenant_id: int) -> None:
        self.directories[tenant_id].timer = None
        self._spawn(self._send_directory(tenant_id))

    def _want_history(self, tenant_id: int, interaction_id: int, number: str) -> None:
        if interaction_id in self._history_loading:
            return
        self._history_loading.add(interaction_id)

        async def load() -> None:
            try:
                rows = await self.load_history(tenant_id, number)
            except Exception:
                log.exception("loading the history of %s failed", number)
                rows = []
            finally:
                self._history_loading.discard(interaction_id)
            # The call itself is not part of its own history.
            self._history[interaction_id] = [
                row for row in rows if row["interaction_id"] != interaction_id
            ]
            for gone in set(self._history) - set(self.control.calls):
                del self._history[gone]
            await self.changed()

        self._spawn(load())

    # -- sockets --
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The hub's WebSocket endpoint: authenticate, then send views until closed."""
        # No permessage-deflate: views are small and compressing each one for hundreds of
        # sockets cost more CPU than the bytes are worth on a LAN (bench/hub.py).
        ws = web.WebSocketResponse(heartbeat=20, compress=False)
        await ws.prepare(request)
        user = await self._authenticate(ws)
        if user is None:
            return ws
        user_id, tenant_id = user
        entry = self.agents.setdefault(user_id, _Agent(tenant_id))
        if entry.grace is not None:
            entry.grace.cancel()
            entry.grace = None
        entry.sockets.add(ws)
        try:
            await self._send_view(user_id, entry, force=True)
            await self._send_directory(tenant_id, to=entry)
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    break
                if _type_of(message.data) == "ping":
                    await ws.send_str('{"type":"pong"}')
        finally:
            entry.sockets.discard(ws)
            if not entry.sockets:
                self._start_grace(user_id, entry)
        return ws

    async def _authenticate(self, ws: web.WebSocketResponse) -> tuple[int, int] | None:
        try:
            message = await ws.receive(timeout=AUTH_TIMEOUT_S)
        except TimeoutError:
            await _refuse(ws, "no auth message")
            return None
        token = ""
        if message.type == WSMsgType.TEXT:
            with contextlib.suppress(ValueError, AttributeError):
                data = json.loads(message.data)
                if data.get("type") == "auth":
                    token = str(data.get("token", ""))
        user = await self.authenticate(token) if token else None
        if user is None or user[0] not in self.control.agents:
            await _refuse(ws, "invalid token or not an agent" if token else "expected auth")
            return None
        return user

    def _start_grace(self, user_id: int, entry: _Agent) -> None:
        def expire() -> None:
            entry.grace = None
            if not entry.sockets:
                self._spawn(self.control.agent_vanished(user_id))

        entry.grace = asyncio.get_running_loop().call_later(self.grace_s, expire)

    async def close(self) -> None:
        """Close every socket (engine stopping)."""
        for directory_state in self.directories.values():
            if directory_state.timer is not None:
                directory_state.timer.cancel()
        for entry in self.agents.values():
            if entry.grace is not None:
                entry.grace.cancel()
            for ws in list(entry.sockets):
                await ws.close(code=1001, message=b"engine stopping")
        for task in list(self._tasks):
            task.cancel()

    def connected(self) -> int:
        """How many sockets are open."""
        return sum(len(e.sockets) for e in self.agents.values())


async def _send(sockets: set[web.WebSocketResponse], message: str) -> None:
    for ws in list(sockets):
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(message)


async def _refuse(ws: web.WebSocketResponse, error: str) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        await ws.send_str(json.dumps({"type": "error", "error": error}))
        await ws.close(code=CLOSE_UNAUTHORIZED, message=error.encode())


def _type_of(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    return str(data.get("type", "")) if isinstance(data, dict) else ""


def _iso_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")
