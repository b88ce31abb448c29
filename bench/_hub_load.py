"""PhoneBar sessions on the engine's hub, timed, for bench/hub.py.

One WebSocket per agent, each with its own reader task, as 500 browsers would have. A
message is stamped with `time.time()` as soon as its reader gets it, before any parsing:
the same clock as the pjsua2 callers' event stamps, which come from another process.
Only what a measurement needs is parsed: every view (small), and the agents directory
(~100 bytes per agent when whole) only at the few observer sockets. A directory message,
whole or only the entries that changed, shows a change when it carries the agent's entry
in the new state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import aiohttp

STATE_PATH = "/api/v1/agents/me/state"
READY: dict[str, Any] = {"state": "ready"}
NOT_READY: dict[str, Any] = {"state": "not_ready", "reason": "break"}
# The hub writes these prefixes itself (server/hub.py), so a prefix tells the message type
# without parsing a 50 KB directory at every socket.
VIEW_PREFIX = '{"type":"view"'
DIRECTORY_PREFIX = '{"type":"agents"'
# A directory of 2,000 agents is ~250 KB; aiohttp's 4 MB default would do, but say so.
MAX_MESSAGE = 16 * 1024 * 1024
# permessage-deflate with a full window, which is what browsers offer.
DEFLATE_WBITS = 15
T = TypeVar("T")


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(1, math.ceil(q / 100.0 * len(ordered))) - 1]


async def bounded(concurrency: int, jobs: Iterable[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run the jobs with at most `concurrency` at a time; results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


class Rest:
    """JSON over HTTP to the engine's API, one connection pool for the whole bench."""

    def __init__(self, base: str, connections: int = 64, timeout_s: float = 60.0) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=timeout_s),
        )

    async def call(
        self, method: str, path: str, body: Any = None, token: str = ""
    ) -> tuple[int, Any]:
        """One request; (status, decoded JSON or None)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.base + path, json=body, headers=headers) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None)

    async def login(self, username: str, password: str, tenant: str = "demo") -> str:
        """A token for the user."""
        body = {"tenant": tenant, "username": username, "password": password}
        status, reply = await self.call("POST", "/api/v1/auth/login", body)
        if status != 200:
            raise RuntimeError(f"login of {username} refused: {status} {reply}")
        return str(reply["token"])

    async def close(self) -> None:
        """Close the pool."""
        await self.http.close()


@dataclass
class Change:
    """One state change the bench asked for, and when each side saw it (time.time())."""

    user_id: int
    state: str
    sent: float
    status: int = 0
    answered: float | None = None  # the HTTP reply arrived
    seen: float | None = None  # the agent's own socket got a view in the new state
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def view_ms(self) -> float | None:
        """PUT sent → own view in the new state, in ms."""
        return None if self.seen is None else (self.seen - self.sent) * 1000.0

    @property
    def reply_ms(self) -> float | None:
        """PUT sent → HTTP reply, in ms."""
        return None if self.answered is None else (self.answered - self.sent) * 1000.0


@dataclass
class Session:
    """One agent's PhoneBar: its token, its socket and what the last view said."""

    user_id: int
    username: str
    token: str = ""
    ws: aiohttp.ClientWebSocketResponse | None = None
    state: str = "offline"  # as the last view showed it
    queue: frozenset[int] = frozenset()  # interaction ids in the last view's queue
    pending: Change | None = None
    observer: bool = False  # parses the directory to time colleagues' changes
    directory_waits: dict[int, Change] = field(default_factory=dict)
    got_view: asyncio.Event = field(default_factory=asyncio.Event)
    got_directory: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class QueueWatch:
    """A queue change every session should see: a new interaction, or one gone."""

    kind: Literal["arrival", "abandon"]
    expected: int
    before: frozenset[int] = frozenset()  # arrival: the ids queued until now
    interaction_id: int | None = None  # abandon: the one leaving; arrival: learnt when seen
    seen: dict[int, float] = field(default_factory=dict)  # user id → when its view showed it
    untimeable: int = 0  # sockets that showed it before it happened
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    def shows_it(self, queue: frozenset[int]) -> bool:
        """Whether a view's queue shows this change."""
        if self.kind == "abandon":
            return self.interaction_id not in queue
        new = queue - self.before
        if not new:
            return False
        if self.interaction_id is None:
            self.interaction_id = min(new)
        return self.interaction_id in new


class HubClients:
    """Every bench agent's hub socket, and the measurements their messages feed."""

    def __init__(self, api: str, deflate: bool) -> None:
        self.url = api.replace("http", "ws", 1) + "/api/v1/ws"
        self.deflate = deflate  # offered; the engine decides (see `deflate_negotiated`)
        # Sockets stay open for the whole run: the pool must not cap them (default 100).
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        self.sessions: dict[int, Session] = {}
        self.messages = 0
        self.characters = 0
        # (when the change was sent, ms until an observer's directory showed it)
        self.directory_samples: list[tuple[float, float]] = []
        self.directory_superseded = 0
        self.timing_directory = False  # changes are timed in the directory only when set
        self.watch: QueueWatch | None = None
        self._directory_drained = asyncio.Event()
        self.errors: list[str] = []
        self._readers: set[asyncio.Task[None]] = set()
        self._closing = False

    async def connect(self, session: Session, timeout_s: float) -> None:
        """Open and authenticate the socket; wait for its first view and directory."""
        self.sessions[session.user_id] = session
        session.ws = await self.http.ws_connect(
            self.url,
            compress=DEFLATE_WBITS if self.deflate else 0,
            max_msg_size=MAX_MESSAGE,
            heartbeat=None,  # the hub pings (every 20 s); aiohttp answers on its own
        )
        await session.ws.send_str(json.dumps({"type": "auth", "token": session.token}))
        reader = asyncio.create_task(self._read(session), name=f"hub-{session.username}")
        self._readers.add(reader)
        reader.add_done_callback(self._readers.discard)
        async with asyncio.timeout(timeout_s):
            await session.got_view.wait()
            await session.got_directory.wait()

    async def _read(self, session: Session) -> None:
        assert session.ws is not None
        async for message in session.ws:
            now = time.time()
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            data: str = message.data
            self.messages += 1
            self.characters += len(data)
            if data.startswith(VIEW_PREFIX):
                self._on_view(session, json.loads(data)["view"], now)
            elif data.startswith(DIRECTORY_PREFIX):
                session.got_directory.set()
                if session.directory_waits:
                    self._on_directory(session, json.loads(data)["agents"], now)
            else:
                self.errors.append(f"{session.username}: unexpected message {data[:200]}")
        if not self._closing:
            code = session.ws.close_code
            self.errors.append(f"{session.username}: the hub closed the socket (code {code})")

    def _on_view(self, session: Session, view: dict[str, Any], now: float) -> None:
        session.got_view.set()
        session.state = view["agent"]["state"]
        change = session.pending
        if change is not None and change.seen is None and session.state == change.state:
            change.seen = now
            change.done.set()
        queue = frozenset(item["interaction_id"] for item in view["queue"])
        if queue == session.queue:
            return
        session.queue = queue
        watch = self.watch
        if watch is not None and session.user_id not in watch.seen and watch.shows_it(queue):
            watch.seen[session.user_id] = now
            if len(watch.seen) >= watch.expected:
                watch.complete.set()

    def _on_directory(self, observer: Session, agents: list[dict[str, Any]], now: float) -> None:
        states = {entry["id"]: entry["state"] for entry in agents}
        for user_id, change in list(observer.directory_waits.items()):
            if states.get(user_id) == change.state:
                self.directory_samples.append((change.sent, (now - change.sent) * 1000.0))
                del observer.directory_waits[user_id]
        if not observer.directory_waits and not self._directory_waiting():
            self._directory_drained.set()

    def deflate_negotiated(self) -> bool:
        """Whether the engine accepted permessage-deflate on the sockets."""
        return any(s.ws is not None and s.ws.compress for s in self.sessions.values())

    def observe_directory(self, count: int, rng: random.Random) -> list[Session]:
        """Make `count` random sessions time their colleagues' changes in the directory."""
        chosen = rng.sample(sorted(self.sessions.values(), key=lambda s: s.user_id), count)
        for session in chosen:
            session.observer = True
        return chosen

    def _await_in_directory(self, change: Change) -> None:
        for observer in (s for s in self.sessions.values() if s.observer):
            if observer.user_id == change.user_id:
                continue  # the PhoneBar leaves itself out of the directory
            # The agent changed again before this observer saw the previous change: neither
            # sample is clean (an older directory still in flight could match the new one).
            if observer.directory_waits.pop(change.user_id, None) is not None:
                self.directory_superseded += 1
            else:
                observer.directory_waits[change.user_id] = change

    def begin_change(self, session: Session) -> Change:
        """Claim an agent for its next flip between ready and not ready."""
        state = "not_ready" if session.state == "ready" else "ready"
        change = Change(session.user_id, state, time.time())
        session.pending = change
        return change

    async def send_change(
        self, rest: Rest, session: Session, change: Change, timeout_s: float
    ) -> Change:
        """PUT the change; wait (bounded) for the agent's own view to show it."""
        body = READY if change.state == "ready" else NOT_READY
        try:
            change.sent = time.time()
            if self.timing_directory:
                self._await_in_directory(change)
            status, _ = await rest.call("PUT", STATE_PATH, body, session.token)
            change.status, change.answered = status, time.time()
            if status == 200:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(change.done.wait(), timeout_s)
        finally:
            session.pending = None
        return change

    async def settle_directory(self, timeout_s: float) -> int:
        """Wait (bounded) for the observers' last directory samples; return how many missed."""
        self._directory_drained.clear()
        if self._directory_waiting():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._directory_drained.wait(), timeout_s)
        missed = self._directory_waiting()
        for session in self.sessions.values():
            session.directory_waits.clear()
        return missed

    def _directory_waiting(self) -> int:
        return sum(len(s.directory_waits) for s in self.sessions.values())

    def watch_queue(self, watch: QueueWatch) -> QueueWatch:
        """Time the next queue change at every socket.

        A socket that already shows it (it missed the arrival this abandon undoes) cannot be
        timed: it counts as missing.
        """
        for session in self.sessions.values():
            if watch.shows_it(session.queue):
                watch.untimeable += 1
        watch.expected -= watch.untimeable
        watch.interaction_id = None if watch.kind == "arrival" else watch.interaction_id
        self.watch = watch
        if watch.expected <= 0:
            watch.complete.set()
        return watch

    async def close(self) -> None:
        """Close every socket, then the pool."""
        self._closing = True
        sockets = [s.ws for s in self.sessions.values() if s.ws is not None and not s.ws.closed]
        await bounded(100, [ws.close for ws in sockets])
        for reader in list(self._readers):
            reader.cancel()
        await self.http.close()


async def drive_state_changes(
    hub: HubClients,
    rest: Rest,
    rate: float,
    count: int,
    rng: random.Random,
    view_timeout_s: float,
) -> list[Change]:
    """`count` state changes at `rate` per second (open loop), each of a random agent.

    An agent whose previous change is not yet in its view is not picked again: two changes
    in flight for one agent would make the view that answers each of them ambiguous.
    """
    loop = asyncio.get_running_loop()
    sessions = sorted(hub.sessions.values(), key=lambda s: s.user_id)
    start = loop.time() + 0.05
    tasks: list[asyncio.Task[Change]] = []
    for i in range(count):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        free = [s for s in rng.sample(sessions, min(len(sessions), 16)) if s.pending is None]
        if not free:
            continue  # every agent drawn is busy: skip this tick (counted as not sent)
        # Claimed now, not when the task first runs: a late tick does not yield to it.
        change = hub.begin_change(free[0])
        tasks.append(asyncio.create_task(hub.send_change(rest, free[0], change, view_timeout_s)))
    return list(await asyncio.gather(*tasks))
