"""The same end-to-end call with the engine on PostgreSQL instead of SQLite."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pbx.instance import allocate_ports
from phonebar.tones import has_tone
from tests.postgres import start_postgres
from tests.testbed import ApiClient, EngineProcess, phone

CALLER_TONE, AGENT_TONE = 700.0, 1300.0


@pytest.fixture
async def pg_engine(tmp_path: Path) -> AsyncIterator[EngineProcess]:
    """An engine (with its own Asterisk) whose database is a private PostgreSQL."""
    # PostgreSQL runs as an unprivileged user, who cannot enter pytest's root-only tmp dirs.
    server = start_postgres(Path(tempfile.gettempdir()))
    engine = EngineProcess(tmp_path / "engine", allocate_ports(), server.url)
    engine.directory.mkdir()
    try:
        await engine.start()
        yield engine
    finally:
        await engine.stop()
        server.stop()


async def test_demo_caller_reaches_agent_with_engine_on_postgres(
    pg_engine: EngineProcess, tmp_path: Path
) -> None:
    demo = pg_engine.demo()
    alice = next(a for a in demo.agents if a.service == "Sales")
    sip = f"127.0.0.1:{pg_engine.ports.sip}"
    api = ApiClient(pg_engine.api)
    agent = await phone("pg-agent", tmp_path)
    caller = await phone("pg-caller", tmp_path)
    try:
        await agent.register(
            f"sip:{alice.sip_username}@127.0.0.1",
            registrar=f"sip:{sip}",
            username=alice.sip_username,
            password=alice.sip_password,
            auto_answer=True,
            tone=AGENT_TONE,
        )
        await caller.register(
            f"sip:{demo.caller.sip_username}@127.0.0.1",
            registrar=f"sip:{sip}",
            username=demo.caller.sip_username,
            password=demo.caller.sip_password,
            tone=CALLER_TONE,
            record=str(tmp_path / "caller-{call_id}.wav"),
        )
        await api.login("demo", alice.username, alice.password)
        status, body = await api.call("PUT", "/api/v1/agents/me/state", {"state": "ready"})
        assert status == 200, body
        call_id = await caller.call(f"sip:2001@{sip}")
        await caller.wait_for("confirmed", call_id=call_id, timeout=15)
        await asyncio.sleep(2.0)
        await caller.hangup(call_id)
        saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
        item: dict[str, object] = {}
        for _ in range(100):
            _, page = await api.call("GET", "/api/v1/interactions?limit=1")
            item = page["items"][0] if page["items"] else {}
            if "wrap_up_started" in [e["type"] for e in item.get("events", [])]:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.1)
    finally:
        await caller.stop()
        await agent.stop()
        await api.close()
    assert has_tone(saved["path"], AGENT_TONE)
    assert item["dnis"] == "2001" and item["service"] == "Sales"
    assert item["ani"] == demo.caller.sip_username
    types = [e["type"] for e in item["events"]]  # type: ignore[attr-defined]
    assert types[:4] == ["created", "queued", "offered", "answered"]
    assert "ended" in types
