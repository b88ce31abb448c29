"""A trunk that registers to its provider: the platform really registers, with digest auth."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pbx.config import Endpoint, PbxPlan
from pbx.instance import AsteriskInstance, InstanceSettings
from pbx.runtime import AsteriskRuntime
from server.ari import AriClient
from tests.callbed import CallBed

ACCOUNT = "acct-4471"
SECRET = secrets.token_urlsafe(16)


@pytest.fixture
async def provider(
    asterisk_runtime: AsteriskRuntime, tmp_path: Path
) -> AsyncIterator[AsteriskInstance]:
    """A third Asterisk playing a SIP provider that only knows one account, by password."""
    account = Endpoint(ACCOUNT, "default", username=ACCOUNT, password=SECRET)
    instance = AsteriskInstance(asterisk_runtime, InstanceSettings("provider", tmp_path / "p"))
    try:
        await instance.start(PbxPlan(endpoints=[account]))
        yield instance
    finally:
        await instance.stop()


async def _state(provider: AsteriskInstance) -> str:
    async with AriClient(provider.ari_url, provider.ari.user, provider.ari.password) as ari:
        return await ari.endpoint_state("PJSIP", ACCOUNT)


async def test_a_registering_trunk_registers_to_its_provider(
    bed: CallBed, provider: AsteriskInstance
) -> None:
    assert await _state(provider) == "offline"
    status, trunk = await bed.admin.call(
        "POST",
        "/api/v1/trunks",
        {
            "name": "provider",
            "host": "127.0.0.1",
            "port": provider.ports.sip,
            "username": ACCOUNT,
            "password": SECRET,
            "registration": True,
            "identify_by_ip": False,
        },
    )
    assert status == 201 and trunk["registration"] is True, trunk
    assert "password" not in trunk
    for _ in range(100):
        if await _state(provider) == "online":
            break
        await asyncio.sleep(0.1)
    assert await _state(provider) == "online", "the platform never registered"
