"""The testbed every integration test reuses: a carrier Asterisk, the engine, phones and the API.

The engine runs as a real `phones run` process (so tests can SIGKILL it); it manages the
platform Asterisk. The carrier Asterisk plays the PSTN. Phones are pjsua2 processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from pbx.carrier import CarrierPhone, carrier_plan
from pbx.config import Ports
from pbx.instance import AsteriskInstance, InstanceSettings, allocate_ports, free_port
from pbx.runtime import AsteriskRuntime
from phonebar.headless import HeadlessUA
from server.demo import DemoData

CARRIER_PHONES = [CarrierPhone(f"pstn{i}", f"pstn-secret-{i}-{os.getpid()}") for i in range(1, 5)]
# How long a vanished PhoneBar keeps its agent logged in (shortened for tests).
PHONEBAR_GRACE_S = 2.0
# A subscriber with a dialable number, for agents' outbound calls.
DIALABLE_PHONE = CarrierPhone("5559001", f"pstn-secret-5559001-{os.getpid()}")


class ApiClient:
    """A tiny client of the engine's REST API for tests."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base
        self.token = token
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))

    async def close(self) -> None:
        """Close the HTTP session."""
        await self.http.close()

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        token: str | None = None,
    ) -> tuple[int, Any]:
        """Send a request; return (status, decoded JSON or None)."""
        headers = {}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            headers["Content-Type"] = "application/json"
        async with self.http.request(method, self.base + path, data=data, headers=headers) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None)

    async def download(self, path: str) -> tuple[int, bytes]:
        """GET a binary resource; return (status, body bytes)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.http.get(self.base + path, headers=headers) as r:
            return r.status, await r.read()

    async def login(self, tenant: str, username: str, password: str) -> str:
        """Log in; return the token (and use it from now on)."""
        status, body = await self.call(
            "POST",
            "/api/v1/auth/login",
            {"tenant": tenant, "username": username, "password": password},
        )
        assert status == 200, body
        token: str = body["token"]
        self.token = token
        return token


@dataclass
class EngineProcess:
    """`phones run --demo` in a subprocess with its own state directory and ports."""

    directory: Path
    ports: Ports
    database_url: str
    process: subprocess.Popen[bytes] | None = None
    api: str = ""
    # Fixed for the testbed's life so that a restarted engine answers at the same URL.
    http_port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)

    def config_file(self) -> Path:
        """Write the engine's TOML config; return its path."""
        path = self.directory / "phones.toml"
        path.write_text(
            f'state_dir = "{self.directory}"\n'
            f'[http]\nhost = "127.0.0.1"\nport = {self.http_port}\n'
            f'[database]\nurl = "{self.database_url}"\n'
            f'[asterisk]\nname = "platform"\ndirectory = "{self.directory / "asterisk"}"\n'
            f"sip_port = {self.ports.sip}\nhttp_port = {self.ports.http}\n"
            f"ami_port = {self.ports.ami}\nrtp_start = {self.ports.rtp_start}\n"
            f"rtp_end = {self.ports.rtp_end}\n"
            f"[phonebar]\ngrace_s = {PHONEBAR_GRACE_S}\n"
        )
        return path

    async def start(self, timeout: float = 60.0) -> None:
        """Start the engine and wait until /healthz says all is up."""
        info = self.directory / "engine.json"
        info.unlink(missing_ok=True)
        log = (self.directory / "engine.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "--config",
                str(self.config_file()),
                "run",
                "--demo",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"engine exited {self.process.returncode}:\n{self.log_tail()}")
            if info.exists():
                self.api = json.loads(info.read_text())["api"]
                async with aiohttp.ClientSession() as http:
                    try:
                        async with http.get(self.api + "/healthz") as r:
                            if r.status == 200:
                                return
                    except aiohttp.ClientError:
                        pass
            await asyncio.sleep(0.1)
        raise RuntimeError(f"engine not healthy in {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the engine (Asterisk stays up)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    async def stop(self) -> None:
        """Deliberate stop (SIGTERM): the engine stops Asterisk too."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        for _ in range(300):
            if self.process.poll() is not None:
                return
            await asyncio.sleep(0.1)
        self.process.kill()
        self.process.wait()

    def demo(self) -> DemoData:
        """The demo tenant's credentials."""
        return DemoData.load(self.directory / "demo.json")

    def log_tail(self, lines: int = 60) -> str:
        """The end of the engine's log."""
        path = self.directory / "engine.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def start_carrier(
    runtime: AsteriskRuntime, directory: Path, platform_sip_port: int
) -> AsteriskInstance:
    """The carrier Asterisk with its trunk to the platform and the pstn phone accounts."""
    carrier = AsteriskInstance(
        runtime, InstanceSettings("carrier", directory, ports=allocate_ports())
    )
    await carrier.start(
        carrier_plan("127.0.0.1", platform_sip_port, [*CARRIER_PHONES, DIALABLE_PHONE])
    )
    return carrier


async def hang_up_everything(instance: AsteriskInstance) -> None:
    """Hang up every channel on an instance (cleaning between tests, not restarting)."""
    ami = instance.ami_client()
    await ami.connect()
    try:
        await ami.command("channel request hangup all")
        for _ in range(50):
            if "0 active channels" in await ami.command("core show channels count"):
                return
            await asyncio.sleep(0.1)
    finally:
        await ami.close()


async def phone(name: str, directory: Path) -> HeadlessUA:
    """A started pjsua2 phone with its log in directory."""
    ua = HeadlessUA(name, log_path=directory / f"{name}.pjsua.log")
    await ua.start()
    return ua
