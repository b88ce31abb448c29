"""Restarts: the engine killed mid-call, and Asterisk dying under the engine."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from phonebar.tones import has_tone
from tests.callbed import CallBed
from tests.calls.test_routing import AGENT_TONE, CALLER_TONE, _latest, _ready, _types


async def _asterisk_pid(bed: CallBed) -> int:
    pid = bed.platform.pid()
    assert pid is not None, "the platform Asterisk is not running"
    return pid


async def test_engine_killed_mid_call_keeps_the_call_and_its_history(
    bed: CallBed, tmp_path: Path
) -> None:
    alice = bed.agent("Sales")
    await bed.agent_phone(alice, AGENT_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(api)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=call_id, timeout=15)
    await _latest(bed, api, "answered")
    asterisk_pid = await _asterisk_pid(bed)

    bed.engine.kill()
    after_kill = tmp_path / "after-kill.wav"
    await caller.record(call_id, after_kill)
    await asyncio.sleep(2.0)
    assert bed.platform.pid() == asterisk_pid, "Asterisk must survive the engine"
    assert caller.events(call_id)[-1] != "disconnected"

    await bed.engine.start()
    assert bed.platform.pid() == asterisk_pid, "the restarted engine adopts Asterisk"
    await asyncio.sleep(1.0)
    _, me = await api.call("GET", "/api/v1/agents/me")
    assert me["state"] == "busy"
    await caller.hangup(call_id)
    for _ in range(3):  # the phone may also save its automatic recording of the call
        saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
        if saved["path"] == str(after_kill):
            break
    assert saved["path"] == str(after_kill)
    item = await _latest(bed, api, "wrap_up_started")
    assert has_tone(after_kill, AGENT_TONE), "no audio from the agent after the engine died"
    types = _types(item)
    assert types[:4] == ["created", "queued", "offered", "answered"], types
    ended = next(e for e in item["events"] if e["type"] == "ended")
    assert ended["data"]["reason"] == "hangup" and ended["data"]["side"] == "caller"
    assert item["state"] == "ended"


async def test_asterisk_restart_closes_dropped_calls_and_routing_resumes(bed: CallBed) -> None:
    alice = bed.agent("Sales")
    await bed.agent_phone(alice, AGENT_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(api)
    first = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=first, timeout=15)
    dropped = await _latest(bed, api, "answered")
    old_pid = await _asterisk_pid(bed)

    os.kill(old_pid, signal.SIGKILL)
    for _ in range(150):
        new_pid = bed.platform.pid()
        if new_pid is not None and new_pid != old_pid:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the engine did not start Asterisk again")
    closed = await _latest(bed, api, "ended", timeout=20)
    assert closed["id"] == dropped["id"]
    await caller.hangup(first)  # the carrier never got a BYE for the dropped leg

    for _ in range(100):  # the agent goes back to ready once the dropped call is closed
        _, me = await api.call("GET", "/api/v1/agents/me")
        if me["state"] == "ready" and me["reachable"]:
            break
        await asyncio.sleep(0.1)
    assert me["state"] == "ready", me
    second = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=second, timeout=15)
    for _ in range(100):  # the first interaction also has "answered": wait for the new one
        routed = await _latest(bed, api, "answered")
        if routed["id"] != dropped["id"]:
            break
        await asyncio.sleep(0.1)
    await caller.hangup(second)
    await _latest(bed, api, "wrap_up_started")
    ended = next(e for e in closed["events"] if e["type"] == "ended")
    assert ended["data"]["reason"] == "asterisk_restarted"
    assert closed["state"] == "ended"
    assert routed["id"] != dropped["id"]


async def test_a_call_ending_while_the_engine_is_down_is_closed_on_restart(
    bed: CallBed,
) -> None:
    alice = bed.agent("Sales")
    agent_phone = await bed.agent_phone(alice, AGENT_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(api)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=call_id, timeout=15)
    answered = await _latest(bed, api, "answered")
    bed.engine.kill()
    await caller.hangup(call_id)
    await caller.wait_for("disconnected", call_id=call_id, timeout=10)
    await bed.engine.start()
    item = await _latest(bed, api, "ended", timeout=15)
    # The agent's leg, left alone in the bridge, is hung up by the restarted engine.
    await agent_phone.wait_for("disconnected", timeout=10)
    for _ in range(50):
        _, me = await api.call("GET", "/api/v1/agents/me")
        if me["state"] == "ready":
            break
        await asyncio.sleep(0.1)
    assert item["id"] == answered["id"]
    ended = next(e for e in item["events"] if e["type"] == "ended")
    assert ended["data"]["reason"] == "ended_while_engine_down"
    assert item["state"] == "ended" and item["ended_at"] is not None
    assert me["state"] == "ready"


async def test_a_call_arriving_while_the_engine_is_down_is_routed_after_restart(
    bed: CallBed,
) -> None:
    alice = bed.agent("Sales")
    agent_phone = await bed.agent_phone(alice, AGENT_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(api)
    bed.engine.kill()
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await asyncio.sleep(1.5)
    await bed.engine.start()
    await agent_phone.wait_for("confirmed", timeout=15)
    item = await _latest(bed, api, "answered")
    await caller.hangup(call_id)
    item = await _latest(bed, api, "ended")
    assert _types(item)[:4] == ["created", "queued", "offered", "answered"]
    assert item["wait_s"] >= 1.0
