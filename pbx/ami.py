"""A small asyncio client for the Asterisk Manager Interface (AMI).

Why our own and not panoramisk: panoramisk reconnects even after close() (its
connection_lost always schedules a reconnect), binds to an implicit event loop and is
untyped; we need a client that fails fast for health checks and stops when told.
See docs/decisions/0003-ari-and-ami-clients.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

Message = dict[str, str]
EventHandler = Callable[[Message], None]


class AmiError(RuntimeError):
    """AMI refused an action or the connection failed."""


@dataclass
class _Pending:
    future: asyncio.Future[list[Message]]
    messages: list[Message] = field(default_factory=list)
    is_list: bool = False


class AmiClient:
    """One AMI connection: log in, send actions, receive events."""

    def __init__(
        self, host: str, port: int, username: str, secret: str, events: bool = False
    ) -> None:
        self.host, self.port, self.username, self._secret = host, port, username, secret
        # Events cost CPU on both sides: only a client that registered handlers wants them.
        self.events = events
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, _Pending] = {}
        self._ids = itertools.count(1)
        self._handlers: list[EventHandler] = []
        self._reader_task: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    def on_event(self, handler: EventHandler) -> None:
        """Call handler(event) for every event received."""
        self._handlers.append(handler)

    async def connect(self, timeout: float = 5.0) -> None:
        """Connect and log in; raise AmiError on failure."""
        try:
            reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), timeout
            )
            self._reader = reader
            banner = await asyncio.wait_for(reader.readline(), timeout)
        except (OSError, TimeoutError) as exc:
            await self.close()  # a half-open connection must not leak its socket
            raise AmiError(f"cannot reach AMI at {self.host}:{self.port}: {exc!r}") from exc
        if not banner.startswith(b"Asterisk Call Manager"):
            await self.close()
            raise AmiError(f"not an AMI server at {self.host}:{self.port}: {banner!r}")
        self.closed.clear()
        self._reader_task = asyncio.create_task(self._read_loop(), name="ami-reader")
        try:
            await self.action(
                "Login",
                timeout=timeout,
                Username=self.username,
                Secret=self._secret,
                Events="on" if self.events else "off",
            )
        except AmiError:
            await self.close()
            raise

    async def close(self) -> None:
        """Close the connection; pending actions fail."""
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        self._fail_pending(AmiError("AMI connection closed"))
        self.closed.set()

    async def action(self, name: str, timeout: float = 10.0, **fields: str) -> list[Message]:
        """Send an action and return its response (plus list events for list actions)."""
        if self._writer is None:
            raise AmiError("AMI is not connected")
        action_id = f"phones-{next(self._ids)}"
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future())
        self._pending[action_id] = pending
        lines = [f"Action: {name}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in fields.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            await self._writer.drain()
            messages = await asyncio.wait_for(pending.future, timeout)
        except (OSError, TimeoutError) as exc:
            raise AmiError(f"AMI action {name} failed: {exc!r}") from exc
        finally:
            self._pending.pop(action_id, None)
        head = messages[0]
        if head.get("Response", "").lower() == "error":
            raise AmiError(f"AMI action {name}: {head.get('Message', 'error')}")
        return messages

    async def command(self, command: str, timeout: float = 10.0) -> str:
        """Run a CLI command through AMI and return its output."""
        head = (await self.action("Command", timeout=timeout, Command=command))[0]
        return head.get("Output", "")

    async def _read_loop(self) -> None:
        assert self._reader is not None
        try:
            while True:
                message = await self._read_message()
                if message is None:
                    break
                self._dispatch(message)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._fail_pending(AmiError("AMI connection lost"))
            self.closed.set()

    async def _read_message(self) -> Message | None:
        assert self._reader is not None
        message: Message = {}
        while True:
            raw = await self._reader.readline()
            if not raw:
                return None
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                if message:
                    return message
                continue
            key, _, value = line.partition(":")
            value = value.strip()
            if key in message:
                # Repeated keys (Output: lines of a Command) are joined, not lost.
                message[key] = f"{message[key]}\n{value}"
            else:
                message[key] = value

    def _dispatch(self, message: Message) -> None:
        action_id = message.get("ActionID", "")
        pending = self._pending.get(action_id)
        if pending is not None and not pending.future.done():
            pending.messages.append(message)
            if "Response" in message:
                pending.is_list = message.get("EventList", "").lower() == "start"
                if not pending.is_list:
                    pending.future.set_result(pending.messages)
            elif message.get("EventList", "").lower() == "complete":
                pending.future.set_result(pending.messages)
            return
        if "Event" in message:
            for handler in list(self._handlers):
                handler(message)

    def _fail_pending(self, error: AmiError) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._pending.clear()
