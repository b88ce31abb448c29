"""The call testbed: one carrier + engine (+ platform Asterisk) per test session, as fixtures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pbx.instance import AsteriskInstance, InstanceSettings, allocate_ports
from pbx.runtime import AsteriskRuntime
from phonebar.headless import HeadlessUA
from server.ari import AriClient
from server.demo import DemoAccount
from tests.testbed import (
    CARRIER_PHONES,
    DIALABLE_PHONE,
    ApiClient,
    EngineProcess,
    hang_up_everything,
    phone,
    start_carrier,
)

CARRIER_LINES = {"Sales": "5551001", "Support": "5551002"}
OFFER_TIMEOUT_S = 3
WRAP_UP_S = 1
CAROL_PASSWORD = "carol-password-1"
CAROL_EXTENSION = "103"


@dataclass
class CallBed:
    """Everything a call scenario needs."""

    engine: EngineProcess
    carrier: AsteriskInstance
    platform: AsteriskInstance
    admin: ApiClient
    services: dict[str, int]
    directory: Path
    # The newest interaction id before the current test: its calls come after.
    baseline_id: int = 0
    # Phones and API clients of the current test, stopped by the `bed` fixture afterwards.
    cleanups: list[Callable[[], Awaitable[object]]] = field(default_factory=list)

    @property
    def sip(self) -> str:
        """The platform's SIP address host:port."""
        return f"127.0.0.1:{self.engine.ports.sip}"

    def agent(self, service: str) -> DemoAccount:
        """The demo agent serving a service."""
        return next(a for a in self.engine.demo().agents if a.service == service)

    async def carol(self) -> DemoAccount:
        """A second Sales agent created through the API (with her SIP secret)."""
        _, users = await self.admin.call("GET", "/api/v1/users")
        row = next(u for u in users["items"] if u["username"] == "carol")
        return DemoAccount(
            "carol", CAROL_PASSWORD, row["sip_username"], row["sip_password"], service="Sales"
        )

    async def agent_phone(self, account: DemoAccount, tone: float, **options: object) -> HeadlessUA:
        """A registered agent phone that records what it hears."""
        ua = await phone(f"agent-{account.username}-{tone:.0f}", self.directory)
        self.cleanups.append(ua.stop)
        await ua.register(
            f"sip:{account.sip_username}@127.0.0.1",
            registrar=f"sip:{self.sip}",
            username=account.sip_username,
            password=account.sip_password,
            tone=tone,
            record=str(self.directory / f"{account.username}-{{call_id}}.wav"),
            **options,  # type: ignore[arg-type]
        )
        return ua

    async def agent_api(self, account: DemoAccount) -> ApiClient:
        """An API client logged in as the agent."""
        client = ApiClient(self.engine.api)
        self.cleanups.append(client.close)
        await client.login("demo", account.username, account.password)
        return client

    async def bridges(self) -> list[list[str]]:
        """The channels of every bridge on the platform Asterisk."""
        async with AriClient(
            self.platform.ari_url, self.platform.ari.user, self.platform.ari.password
        ) as ari:
            return [list(b["channels"]) for b in await ari.bridges()]

    async def pstn_phone(self, index: int, tone: float) -> HeadlessUA:
        """A carrier subscriber phone, registered on the carrier (index -1: DIALABLE_PHONE)."""
        account = CARRIER_PHONES[index] if index >= 0 else DIALABLE_PHONE
        ua = await phone(f"{account.username}-{tone:.0f}", self.directory)
        self.cleanups.append(ua.stop)
        await ua.register(
            f"sip:{account.username}@127.0.0.1",
            registrar=f"sip:127.0.0.1:{self.carrier.ports.sip}",
            username=account.username,
            password=account.password,
            tone=tone,
            record=str(self.directory / f"{account.username}-{{call_id}}.wav"),
        )
        return ua

    def carrier_uri(self, service: str) -> str:
        """The SIP URI a PSTN phone dials to reach a service's line through the carrier."""
        return f"sip:{CARRIER_LINES[service]}@127.0.0.1:{self.carrier.ports.sip}"


@pytest.fixture(scope="session")
async def testbed(
    asterisk_runtime: AsteriskRuntime, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[CallBed]:
    """Carrier Asterisk, engine with its platform Asterisk, carrier trunk and lines."""
    directory = tmp_path_factory.mktemp("testbed")
    ports = allocate_ports()
    engine = EngineProcess(
        directory / "engine",
        ports,
        f"sqlite+aiosqlite:///{directory / 'engine' / 'phones.sqlite3'}",
    )
    engine.directory.mkdir()
    carrier = await start_carrier(asterisk_runtime, directory / "carrier", ports.sip)
    admin: ApiClient | None = None
    try:
        await engine.start()
        staff = next(s for s in engine.demo().staff if s.role == "admin")
        admin = ApiClient(engine.api)
        await admin.login("demo", staff.username, staff.password)
        status, trunk = await admin.call(
            "POST",
            "/api/v1/trunks",
            {"name": "carrier", "host": "127.0.0.1", "port": carrier.ports.sip},
        )
        assert status == 201, trunk
        _, services = await admin.call("GET", "/api/v1/services")
        ids = {s["name"]: s["id"] for s in services["items"]}
        for name, number in CARRIER_LINES.items():
            status, line = await admin.call(
                "POST",
                "/api/v1/lines",
                {
                    "number": number,
                    "name": f"carrier {name}",
                    "service_id": ids[name],
                    "trunk_id": trunk["id"],
                },
            )
            assert status == 201, line
        platform = AsteriskInstance(
            asterisk_runtime,
            InstanceSettings("platform", engine.directory / "asterisk", ports=engine.ports),
        )
        status, body = await admin.call(
            "POST",
            "/api/v1/users",
            {
                "username": "carol",
                "display_name": "Carol Verdi",
                "role": "agent",
                "password": CAROL_PASSWORD,
                "skills": {"sales": 3},
                "extension": CAROL_EXTENSION,
            },
        )
        assert status == 201, body
        yield CallBed(engine, carrier, platform, admin, ids, directory)
    finally:
        if admin is not None:
            await admin.close()
        await engine.stop()
        await carrier.stop()


@pytest.fixture
async def bed(testbed: CallBed) -> AsyncIterator[CallBed]:
    """The session testbed, reset before and cleaned after each test."""
    await _reset(testbed)
    try:
        yield testbed
    finally:
        # Callers first, so nothing rings an agent phone that is going away.
        for cleanup in reversed(testbed.cleanups):
            await cleanup()
        testbed.cleanups.clear()
        await _reset(testbed)


async def _reset(bed: CallBed) -> None:
    if bed.engine.process is None or bed.engine.process.poll() is not None:
        await bed.engine.start()
        await bed.admin.login(
            "demo", "admin", next(s.password for s in bed.engine.demo().staff if s.role == "admin")
        )
    _, page = await bed.admin.call("GET", "/api/v1/interactions?limit=1")
    bed.baseline_id = page["items"][0]["id"] if page["items"] else 0
    await hang_up_everything(bed.carrier)
    await hang_up_everything(bed.platform)
    for service_id in bed.services.values():
        status, body = await bed.admin.call(
            "PATCH",
            f"/api/v1/services/{service_id}",
            {
                "offer_timeout_s": OFFER_TIMEOUT_S,
                "wrap_up_s": WRAP_UP_S,
                "max_wait_s": None,
                "no_answer_rule": "not_ready",
                "opening_hours": None,
                "fallback_no_agents": None,
                "fallback_max_wait": None,
                "fallback_closed": None,
                "recording": False,
            },
        )
        assert status == 200, body
    for account in [*bed.engine.demo().agents, await bed.carol()]:
        client = await bed.agent_api(account)
        try:
            for _ in range(50):
                status, body = await client.call(
                    "PUT", "/api/v1/agents/me/state", {"state": "offline"}
                )
                if status == 200:
                    break
                await asyncio.sleep(0.1)  # still busy or ringing: wait for the hang-up
            assert status == 200, body
            status, body = await client.call("PUT", "/api/v1/agents/me/device", {"device": "auto"})
            assert status == 200, body
        finally:
            await client.close()
