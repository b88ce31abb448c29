"""Service fallbacks and provisioning changes reaching the running Asterisk."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime

from tests.callbed import CallBed
from tests.calls.test_routing import AGENT_TONE, CALLER_TONE, _latest, _ready, _types


async def test_nobody_logged_in_announces_and_hangs_up(bed: CallBed) -> None:
    api = await bed.agent_api(bed.agent("Sales"))  # every agent is offline after the reset
    caller = await bed.pstn_phone(0, CALLER_TONE)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=call_id, timeout=15)
    gone = await caller.wait_for("disconnected", call_id=call_id, timeout=15)
    item = await _latest(bed, api, "ended")
    assert gone["event"] == "disconnected"
    fallback = next(e for e in item["events"] if e["type"] == "fallback")
    assert fallback["data"] == {"why": "no_agents", "action": "announce_hangup"}
    ended = next(e for e in item["events"] if e["type"] == "ended")
    assert ended["data"]["reason"] == "no_agents" and ended["data"]["side"] == "system"
    assert "queued" not in _types(item)


async def test_max_wait_overflows_to_another_service(bed: CallBed) -> None:
    alice, bob = bed.agent("Sales"), bed.agent("Support")
    status, body = await bed.admin.call(
        "PATCH",
        f"/api/v1/services/{bed.services['Sales']}",
        {
            "max_wait_s": 1,
            "fallback_max_wait": {"action": "overflow", "service_id": bed.services["Support"]},
        },
    )
    assert status == 200, body
    support_phone = await bed.agent_phone(bob, AGENT_TONE, auto_answer=True)
    alice_api, bob_api = await bed.agent_api(alice), await bed.agent_api(bob)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    status, body = await alice_api.call(
        "PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "lunch"}
    )
    assert status == 200, body
    await _ready(bob_api)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await support_phone.wait_for("confirmed", timeout=15)
    item = await _latest(bed, bob_api, "answered")
    await caller.hangup(call_id)
    await _latest(bed, bob_api, "ended")
    types = _types(item)
    assert types[:5] == ["created", "queued", "fallback", "transferred", "queued"], types
    assert next(e for e in item["events"] if e["type"] == "transferred")["data"] == {
        "to_service": "Support",
        "why": "max_wait",
    }
    assert item["service"] == "Support"


async def test_cli_provisioning_reaches_the_running_asterisk(bed: CallBed) -> None:
    done = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "server.cli",
            "--config",
            str(bed.engine.config_file()),
            "user",
            "create",
            "dave",
            "--tenant",
            "demo",
            "--skills",
            "sales=2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert created["engine_reloaded"] is True
    ami = bed.platform.ami_client()
    await ami.connect()
    bed.cleanups.append(ami.close)
    for _ in range(50):
        endpoints = await ami.command("pjsip show endpoints")
        if "demo-dave" in endpoints:
            break
        await asyncio.sleep(0.1)
    assert "demo-dave" in endpoints


async def test_a_closed_service_plays_its_closed_fallback(bed: CallBed) -> None:
    today = datetime.now(UTC).date().isoformat()
    closed = {"tz": "UTC", "holidays": [today]}
    status, body = await bed.admin.call(
        "PATCH", f"/api/v1/services/{bed.services['Sales']}", {"opening_hours": closed}
    )
    assert status == 200, body
    api = await bed.agent_api(bed.agent("Sales"))
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(api)  # even with an agent ready, a closed service takes no calls
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("disconnected", call_id=call_id, timeout=20)
    item = await _latest(bed, api, "ended")
    fallback = next(e for e in item["events"] if e["type"] == "fallback")
    assert fallback["data"]["why"] == "closed"
    assert "offered" not in _types(item)
