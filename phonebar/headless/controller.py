"""Asyncio controller for a headless pjsua2 user agent running in its own process."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

Event = dict[str, Any]
DEFAULT_TIMEOUT = 10.0
# Incoming-call events carry every SIP header; asyncio's 64 KiB line limit is too tight.
LINE_LIMIT = 1 << 20
# The child must import this package even when the caller's cwd is elsewhere.
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


class HeadlessUAError(RuntimeError):
    """A headless UA command failed, or the UA process misbehaved."""


class HeadlessUATimeout(HeadlessUAError, TimeoutError):
    """An awaited headless UA event did not arrive in time."""


class HeadlessUA:
    """Drive one ``phonebar.headless.ua_process`` subprocess over its JSON-lines protocol."""

    def __init__(
        self,
        name: str = "ua",
        *,
        bind: str = "127.0.0.1",
        port: int = 0,
        log_path: str | Path | None = None,
        codecs: str = "PCMU,PCMA",
        clock_rate: int = 8000,
        python: str = sys.executable,
        start_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.name = name
        self.bind = bind
        self.port = port
        self.log_path = Path(log_path) if log_path else None
        self.codecs = codecs
        self.clock_rate = clock_rate
        self.python = python
        self.start_timeout = start_timeout
        self.history: list[Event] = []
        self._pending: list[Event] = []
        self._changed = asyncio.Event()
        self._stderr: deque[str] = deque(maxlen=60)
        self._proc: asyncio.subprocess.Process | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._req = itertools.count(1)
        self._eof = False

    @property
    def uri_host(self) -> str:
        """Return ``host:port`` for addressing this UA directly."""
        return f"{self.bind}:{self.port}"

    @property
    def returncode(self) -> int | None:
        """Return the process's exit status once it has exited."""
        return self._proc.returncode if self._proc else None

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self) -> int:
        """Spawn the UA process and wait for ``ready``; return the SIP port it bound."""
        args = ["-m", "phonebar.headless.ua_process", "--bind", self.bind, "--port", str(self.port)]
        if self.log_path:
            args += ["--log", str(self.log_path)]
        args += ["--codecs", self.codecs, "--clock-rate", str(self.clock_rate)]
        env = dict(os.environ)
        paths = (PACKAGE_ROOT, env.get("PYTHONPATH"))
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        self._proc = await asyncio.create_subprocess_exec(
            self.python, *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, limit=LINE_LIMIT,
        )  # fmt: skip
        self._tasks = [
            asyncio.create_task(self._read_events(), name=f"{self.name}-events"),
            asyncio.create_task(self._read_stderr(), name=f"{self.name}-stderr"),
        ]
        try:
            ready = await self.wait_for("ready", timeout=self.start_timeout)
        except BaseException:
            await self.stop()
            raise
        self.port = int(ready["port"])
        return self.port

    async def stop(self, timeout: float = 5.0) -> int | None:
        """Ask the UA to quit, kill it if it lingers, and return its exit status."""
        proc = self._proc
        if proc is None:
            return None
        if proc.returncode is None:
            with contextlib.suppress(OSError, RuntimeError):
                await self.send({"cmd": "quit"})
                assert proc.stdin is not None
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, 2.0)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        if proc.stdin is not None:
            proc.stdin.close()
        return proc.returncode

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---- raw protocol -------------------------------------------------------------------

    async def send(self, cmd: dict[str, Any]) -> None:
        """Write one command line without waiting for an acknowledgement."""
        if self._proc is None or self._proc.stdin is None:
            raise HeadlessUAError(f"{self.name}: not started")
        self._proc.stdin.write(json.dumps(cmd).encode() + b"\n")
        await self._proc.stdin.drain()

    async def send_raw(self, line: str) -> None:
        """Write an arbitrary line (for testing the UA's handling of bad input)."""
        if self._proc is None or self._proc.stdin is None:
            raise HeadlessUAError(f"{self.name}: not started")
        self._proc.stdin.write(line.encode() + b"\n")
        await self._proc.stdin.drain()

    async def command(self, cmd: str, timeout: float = DEFAULT_TIMEOUT, **fields: Any) -> Event:
        """Send a command and wait for its ``ok``; raise HeadlessUAError on ``error``."""
        req = next(self._req)
        await self.send({"cmd": cmd, "req": req, **fields})
        ack = await self._wait(
            lambda e: e.get("event") in ("ok", "error") and e.get("req") == req,
            timeout,
            f"ack for {cmd} (req {req})",
        )
        if ack["event"] == "error":
            raise HeadlessUAError(f"{self.name}: {cmd} failed: {ack.get('message')}")
        return ack

    async def wait_for(
        self,
        event: str | tuple[str, ...],
        call_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Event:
        """Return (and consume) the oldest unconsumed ``event``, optionally for ``call_id``."""
        names = (event,) if isinstance(event, str) else event

        def match(e: Event) -> bool:
            return e.get("event") in names and (call_id is None or e.get("call_id") == call_id)

        what = "/".join(names) + (f" for call {call_id}" if call_id else "")
        return await self._wait(match, timeout, what)

    def events(self, call_id: str | None = None) -> list[str]:
        """Return the names of all events so far, optionally only those of one call."""
        return [e["event"] for e in self.history if call_id is None or e.get("call_id") == call_id]

    # ---- high-level commands ------------------------------------------------------------

    async def register(
        self,
        uri: str,
        *,
        registrar: str | None = None,
        username: str | None = None,
        password: str | None = None,
        realm: str = "*",
        proxy: str | None = None,
        expires: int = 300,
        auto_answer: bool = False,
        answer_delay_ms: int = 0,
        tone: float | None = None,
        record: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Event:
        """Configure the account; with a registrar, wait for the REGISTER outcome."""
        fields: dict[str, Any] = {"id": uri, "realm": realm, "expires": expires}
        fields |= {"auto_answer": auto_answer, "answer_delay_ms": answer_delay_ms}
        optional = {"registrar": registrar, "username": username, "password": password,
                    "proxy": proxy, "tone": tone, "record": record}  # fmt: skip
        fields |= {k: v for k, v in optional.items() if v is not None}
        ack = await self.command("register", timeout=timeout, **fields)
        if not registrar:
            return ack
        result = await self.wait_for(("registered", "registration_failed"), timeout=timeout)
        if result["event"] == "registration_failed":
            raise HeadlessUAError(
                f"{self.name}: registration of {uri} failed: {result.get('code')} "
                f"{result.get('reason')}"
            )
        return result

    async def unregister(self, timeout: float = DEFAULT_TIMEOUT) -> Event:
        """Unregister the account and wait for the registrar's answer."""
        await self.command("unregister", timeout=timeout)
        return await self.wait_for(("unregistered", "registration_failed"), timeout=timeout)

    async def call(
        self,
        uri: str,
        *,
        call_id: str | None = None,
        tone: float | None = None,
        record: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Place a call and return its call_id (events follow: calling, ringing, ...)."""
        fields: dict[str, Any] = {"uri": uri}
        optional = {"call_id": call_id, "tone": tone, "record": record, "headers": headers}
        fields |= {k: v for k, v in optional.items() if v is not None}
        ack = await self.command("call", **fields)
        return str(ack["call_id"])

    async def answer(self, call_id: str, code: int = 200) -> None:
        """Answer an incoming call."""
        await self.command("answer", call_id=call_id, code=code)

    async def reject(self, call_id: str, code: int = 486) -> None:
        """Reject an incoming call with ``code``."""
        await self.command("reject", call_id=call_id, code=code)

    async def hangup(self, call_id: str, code: int = 0) -> None:
        """Hang up (or cancel) a call."""
        await self.command("hangup", call_id=call_id, code=code)

    async def dtmf(self, call_id: str, digits: str) -> None:
        """Send RFC 4733 DTMF digits."""
        await self.command("dtmf", call_id=call_id, digits=digits)

    async def play_tone(self, call_id: str, freq: float) -> None:
        """Transmit a continuous sine of ``freq`` Hz on the call (0 stops it)."""
        await self.command("play_tone", call_id=call_id, freq=freq)

    async def record(self, call_id: str, path: str | Path) -> None:
        """Record what the remote side sends to a WAV at ``path``."""
        await self.command("record", call_id=call_id, path=str(path))

    # ---- internals ----------------------------------------------------------------------

    async def _wait(self, match: Callable[[Event], bool], timeout: float, what: str) -> Event:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i, event in enumerate(self._pending):
                if match(event):
                    return self._pending.pop(i)
            if self._eof:
                raise HeadlessUAError(f"{self.name}: process ended while waiting for {what}"
                                      + self._diagnostics())  # fmt: skip
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise HeadlessUATimeout(
                    f"{self.name}: no {what} within {timeout:g}s" + self._diagnostics()
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def _read_events(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            async for raw in self._proc.stdout:
                line = raw.decode("utf-8", "replace").strip()
                if not line:
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    self._stderr.append(f"[non-JSON stdout] {line}")
                    continue
                if isinstance(event, dict):
                    self.history.append(event)
                    self._pending.append(event)
                    self._changed.set()
        finally:
            self._eof = True
            self._changed.set()

    async def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        async for raw in self._proc.stderr:
            self._stderr.append(raw.decode("utf-8", "replace").rstrip())

    def _diagnostics(self) -> str:
        recent = "\n  ".join(json.dumps(e) for e in self.history[-15:]) or "(none)"
        parts = [f"\nrecent events:\n  {recent}"]
        if self._stderr:
            parts.append("stderr tail:\n  " + "\n  ".join(list(self._stderr)[-20:]))
        if self.log_path:
            parts.append(f"log tail ({self.log_path}):\n{_tail(self.log_path)}")
        return "\n".join(parts)


def _tail(path: Path, size: int = 3000) -> str:
    """Return the last ``size`` characters of a file (empty if unreadable)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""
