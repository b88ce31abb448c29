"""A small asyncio ARI client on aiohttp: REST calls plus the events WebSocket.

It holds no call logic. `run_events` keeps the WebSocket up with exponential backoff and
calls `on_connect` after every (re)connection, before any event of that connection is
delivered, so the owner of call state can reconcile first.

While the WebSocket is up, REST requests travel over it too (Asterisk's "REST over
WebSocket": a RESTRequest message answered by a RESTResponse with the same request_id), which
costs far less than an HTTP request each; without it they go over HTTP. Events are handed to
the handler one at a time, in order, by their own task, so a handler may await REST answers
that arrive on the same socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

log = logging.getLogger(__name__)
REQUEST_TIMEOUT_S = 10.0

Event = dict[str, Any]
EventHandler = Callable[[Event], Awaitable[None]]
ConnectHandler = Callable[[], Awaitable[None]]


def parse_ari_time(text: str) -> datetime:
    """An ARI timestamp (2026-11-23T12:17:11.760+0000) as an aware UTC datetime."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)


def _result(method: str, path: str, status: int, text: str) -> Any:
    """The decoded body of an ARI answer, or AriError for an error status."""
    if status >= 400 or status == 0:
        try:
            message = json.loads(text).get("message", text)
        except (ValueError, AttributeError):
            message = text
        raise AriError(status, f"{method} {path}: {message}")
    return json.loads(text) if text else None


class AriError(RuntimeError):
    """ARI answered with an error status (or could not be reached)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"ARI {status}: {message}")
        self.status = status
        self.message = message


class AriClient:
    """REST and events for one Stasis application on one Asterisk."""

    def __init__(self, base_url: str, user: str, password: str, app: str = "phones") -> None:
        self.base_url = base_url.rstrip("/")
        self.app = app
        self._auth = aiohttp.encode_basic_auth(user, password)
        self._http: aiohttp.ClientSession | None = None
        self.connected = asyncio.Event()
        self._stopping = False
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future[Event]] = {}
        self._next_id = 0

    async def __aenter__(self) -> AriClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                headers={"Authorization": self._auth},
                timeout=aiohttp.ClientTimeout(total=10),
            )
        return self._http

    async def close(self) -> None:
        """Stop the event loop and close HTTP connections."""
        self._stopping = True
        if self._http is not None:
            await self._http.close()

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        """Call ARI; return the decoded JSON body (None when empty); raise AriError."""
        ws = self._ws
        if ws is not None and not ws.closed:
            return await self._request_over_ws(ws, method, path, params, body)
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            async with self._session().request(method, url, params=params, json=body) as response:
                return _result(method, path, response.status, await response.text())
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AriError(0, f"{method} {path}: {exc!r}") from exc

    async def _request_over_ws(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        body: Mapping[str, Any] | None,
    ) -> Any:
        self._next_id += 1
        request_id = str(self._next_id)
        message: Event = {
            "type": "RESTRequest",
            "request_id": request_id,
            "method": method,
            "uri": path.lstrip("/"),
        }
        if params:
            message["query_strings"] = [{"name": k, "value": str(v)} for k, v in params.items()]
        if body is not None:
            message["content_type"] = "application/json"
            message["message_body"] = json.dumps(body)
        answer: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = answer
        try:
            await ws.send_str(json.dumps(message))
            response = await asyncio.wait_for(answer, REQUEST_TIMEOUT_S)
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            raise AriError(0, f"{method} {path}: {exc!r}") from exc
        finally:
            self._pending.pop(request_id, None)
        return _result(
            method, path, int(response.get("status_code", 0)), response.get("message_body", "")
        )

    # -- the calls the engine uses (thin wrappers keep call sites readable) --
    async def channels(self) -> list[Event]:
        """Every channel Asterisk has."""
        result: list[Event] = await self.request("GET", "channels")
        return result

    async def bridges(self) -> list[Event]:
        """Every bridge Asterisk has."""
        result: list[Event] = await self.request("GET", "bridges")
        return result

    async def info(self) -> Event:
        """Asterisk's system and status information."""
        result: Event = await self.request("GET", "asterisk/info")
        return result

    async def answer(self, channel_id: str) -> None:
        """Answer a channel."""
        await self.request("POST", f"channels/{channel_id}/answer")

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        """Hang up a channel; a channel already gone is not an error."""
        try:
            await self.request("DELETE", f"channels/{channel_id}", params={"reason": reason})
        except AriError as exc:
            if exc.status != 404:
                raise

    async def start_moh(self, channel_id: str, moh_class: str = "default") -> None:
        """Play music on hold to a channel."""
        await self.request("POST", f"channels/{channel_id}/moh", params={"mohClass": moh_class})

    async def stop_moh(self, channel_id: str) -> None:
        """Stop music on hold."""
        await self.request("DELETE", f"channels/{channel_id}/moh")

    async def play(self, channel_id: str, media: str) -> Event:
        """Start playing media (e.g. 'sound:vm-goodbye') to a channel."""
        result: Event = await self.request(
            "POST", f"channels/{channel_id}/play", params={"media": media}
        )
        return result

    async def originate(
        self,
        endpoint: str,
        app_args: str,
        caller_id: str,
        timeout_s: int,
        channel_id: str,
        variables: Mapping[str, str] | None = None,
    ) -> Event:
        """Originate a channel into our Stasis app; it enters Stasis when answered."""
        params: dict[str, str | int] = {
            "endpoint": endpoint,
            "app": self.app,
            "appArgs": app_args,
            "callerId": caller_id,
            "timeout": timeout_s,
            "channelId": channel_id,
        }
        body = {"variables": dict(variables or {})}
        result: Event = await self.request("POST", "channels", params=params, body=body)
        return result

    async def create_bridge(self, bridge_id: str, name: str) -> Event:
        """Create a mixing bridge."""
        params = {"type": "mixing", "bridgeId": bridge_id, "name": name}
        result: Event = await self.request("POST", "bridges", params=params)
        return result

    async def add_to_bridge(self, bridge_id: str, *channel_ids: str) -> None:
        """Put channels into a bridge."""
        params = {"channel": ",".join(channel_ids)}
        await self.request("POST", f"bridges/{bridge_id}/addChannel", params=params)

    async def destroy_bridge(self, bridge_id: str) -> None:
        """Destroy a bridge; one already gone is not an error."""
        try:
            await self.request("DELETE", f"bridges/{bridge_id}")
        except AriError as exc:
            if exc.status != 404:
                raise

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        """Take a channel out of a bridge (it stays in our Stasis app)."""
        await self.request(
            "POST", f"bridges/{bridge_id}/removeChannel", params={"channel": channel_id}
        )

    async def bridge_moh(self, bridge_id: str, on: bool, moh_class: str = "default") -> None:
        """Start or stop music on hold for everyone in a bridge."""
        if on:
            await self.request("POST", f"bridges/{bridge_id}/moh", params={"mohClass": moh_class})
        else:
            await self.request("DELETE", f"bridges/{bridge_id}/moh")

    async def play_to_bridge(self, bridge_id: str, media: str) -> Event:
        """Start playing media to everyone in a bridge."""
        result: Event = await self.request(
            "POST", f"bridges/{bridge_id}/play", params={"media": media}
        )
        return result

    async def stop_playback(self, playback_id: str) -> None:
        """Stop a playback; one already finished is not an error."""
        try:
            await self.request("DELETE", f"playbacks/{playback_id}")
        except AriError as exc:
            if exc.status != 404:
                raise

    async def mute(self, channel_id: str, on: bool, direction: str = "in") -> None:
        """Mute or unmute a channel (direction "in": what it sends is not heard)."""
        method = "POST" if on else "DELETE"
        await self.request(method, f"channels/{channel_id}/mute", params={"direction": direction})

    async def send_dtmf(self, channel_id: str, digits: str) -> None:
        """Send DTMF digits to a channel."""
        await self.request("POST", f"channels/{channel_id}/dtmf", params={"dtmf": digits})

    async def record_bridge(self, bridge_id: str, name: str) -> Event:
        """Record everything a bridge mixes into a stored WAV recording `name`."""
        params = {"name": name, "format": "wav", "ifExists": "overwrite", "beep": "false"}
        result: Event = await self.request("POST", f"bridges/{bridge_id}/record", params=params)
        return result

    async def stored_recording(self, name: str) -> bytes:
        """The bytes of a stored recording."""
        session = self._session()
        url = f"{self.base_url}/recordings/stored/{name}/file"
        async with session.get(url) as response:
            if response.status != 200:
                raise AriError(response.status, await response.text())
            return await response.read()

    async def endpoint_state(self, technology: str, resource: str) -> str:
        """'online', 'offline' or 'unknown' for an endpoint (online: a contact is reachable)."""
        try:
            result = await self.request("GET", f"endpoints/{technology}/{resource}")
        except AriError as exc:
            if exc.status == 404:
                return "unknown"
            raise
        return str(result.get("state", "unknown"))

    async def set_event_filter(self, allowed: list[str]) -> None:
        """Ask Asterisk to send our app only these event types (less work on both sides)."""
        body = {"allowed": [{"type": name} for name in allowed]}
        await self.request("PUT", f"applications/{self.app}/eventFilter", body=body)

    # -- events --
    async def run_events(
        self, handler: EventHandler, on_connect: ConnectHandler, max_backoff: float = 5.0
    ) -> None:
        """Deliver events to handler forever, reconnecting with backoff; returns on close()."""
        backoff = 0.1
        ws_url = self.base_url.replace("http", "ws", 1) + "/events"
        params = {"app": self.app, "subscribeAll": "false"}
        while not self._stopping:
            try:
                async with self._session().ws_connect(
                    ws_url,
                    params=params,
                    heartbeat=5.0,
                    timeout=aiohttp.ClientWSTimeout(ws_close=2),
                ) as ws:
                    backoff = 0.1
                    await self._serve(ws, handler, on_connect)
            except (aiohttp.ClientError, TimeoutError, OSError, AriError) as exc:
                log.info("ARI events unavailable (%r); retrying in %.1fs", exc, backoff)
            finally:
                self.connected.clear()
            if self._stopping:
                return
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)

    async def _serve(
        self, ws: aiohttp.ClientWebSocketResponse, handler: EventHandler, on_connect: ConnectHandler
    ) -> None:
        # The reader answers REST requests at once and queues events; the handler task takes
        # them in order, starting only once on_connect (reconciliation) is done.
        events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._ws = ws
        reader = asyncio.create_task(self._read(ws, events), name="ari-reader")
        try:
            self.connected.set()
            await on_connect()
            while (event := await events.get()) is not None:
                await handler(event)
        finally:
            self._ws = None
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            for answer in self._pending.values():
                if not answer.done():
                    answer.set_exception(ConnectionError("ARI WebSocket closed"))
            self._pending.clear()

    async def _read(
        self, ws: aiohttp.ClientWebSocketResponse, events: asyncio.Queue[Event | None]
    ) -> None:
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    break
                data = json.loads(message.data)
                if data.get("type") == "RESTResponse":
                    answer = self._pending.get(str(data.get("request_id")))
                    if answer is not None and not answer.done():
                        answer.set_result(data)
                else:
                    events.put_nowait(data)
        finally:
            events.put_nowait(None)
