"""What agents do with calls, driven through the API with agents on SIP phones (pjsua2).

The same commands drive the browser softphone (tests/phonebar); here the agent's device is a
plain SIP phone, which the PhoneBar also controls.
"""

from __future__ import annotations

import asyncio
from typing import Any

from phonebar.headless import HeadlessUA
from phonebar.tones import has_tone
from tests.callbed import CAROL_EXTENSION, CallBed
from tests.calls.scenario import latest, ready, types
from tests.testbed import DIALABLE_PHONE, ApiClient

CALLER_TONE, ALICE_TONE, CAROL_TONE = 700.0, 1300.0, 1900.0


async def _connected_call(bed: CallBed) -> tuple[HeadlessUA, str, HeadlessUA, ApiClient, int]:
    """A carrier caller talking to Alice (Sales), who answered on her SIP phone."""
    alice = bed.agent("Sales")
    alice_phone = await bed.agent_phone(alice, ALICE_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await ready(api)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=call_id, timeout=15)
    item = await latest(bed, api, "answered")
    return caller, call_id, alice_phone, api, item["id"]


async def _carol(bed: CallBed, auto_answer: bool = True) -> tuple[HeadlessUA, ApiClient]:
    carol = await bed.carol()
    carol_phone = await bed.agent_phone(carol, CAROL_TONE, auto_answer=auto_answer)
    api = await bed.agent_api(carol)
    return carol_phone, api


async def _state(api: ApiClient) -> str:
    _, me = await api.call("GET", "/api/v1/agents/me")
    return str(me["state"])


async def _until(check: Any, timeout: float = 10.0) -> None:
    for _ in range(int(timeout * 20)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


async def _command(api: ApiClient, path: str, body: dict[str, Any] | None = None) -> None:
    status, reply = await api.call("POST", path, body or {})
    assert status == 200, (path, status, reply)


async def _bridge_sizes(bed: CallBed) -> list[int]:
    return sorted(len(b) for b in await bed.bridges())


async def test_hold_and_resume_take_the_agent_out_of_the_bridge_and_back(bed: CallBed) -> None:
    caller, call_id, _, api, interaction = await _connected_call(bed)
    assert await _bridge_sizes(bed) == [2]
    await _command(api, f"/api/v1/calls/{interaction}/hold")
    assert await _bridge_sizes(bed) == [1]  # the caller alone, with music
    status, body = await api.call("POST", f"/api/v1/calls/{interaction}/hold", {})
    assert status == 409, body
    await _command(api, f"/api/v1/calls/{interaction}/resume")
    assert await _bridge_sizes(bed) == [2]
    await _command(api, f"/api/v1/calls/{interaction}/mute", {"muted": True})
    await _command(api, f"/api/v1/calls/{interaction}/dtmf", {"digits": "12#"})
    status, body = await api.call("POST", f"/api/v1/calls/{interaction}/dtmf", {"digits": "x"})
    assert status == 400 and "digits" in str(body), body
    await _command(api, f"/api/v1/calls/{interaction}/hangup")
    await caller.wait_for("disconnected", call_id=call_id, timeout=10)
    item = await latest(bed, api, "wrap_up_started")
    got = types(item)
    assert got.index("held") < got.index("resumed") < got.index("ended"), got
    assert {"muted", "dtmf"} <= set(got), got
    ended = next(e for e in item["events"] if e["type"] == "ended")
    assert ended["data"]["side"] == "agent"


async def test_blind_transfer_to_an_agent(bed: CallBed) -> None:
    carol_phone, carol_api = await _carol(bed)
    await carol_api.call(
        "PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"}
    )
    caller, call_id, _, api, interaction = await _connected_call(bed)
    _, carol_me = await carol_api.call("GET", "/api/v1/agents/me")
    await _command(
        api, f"/api/v1/calls/{interaction}/transfer", {"to": {"agent_id": carol_me["agent_id"]}}
    )
    incoming = await carol_phone.wait_for("incoming", timeout=10)
    await carol_phone.wait_for("confirmed", call_id=incoming["call_id"], timeout=10)
    assert await _state(api) == "wrap_up"
    await _until(lambda: _is(carol_api, "busy"))
    await asyncio.sleep(2.0)
    await caller.hangup(call_id)
    saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
    assert has_tone(saved["path"], CAROL_TONE), "the caller never heard Carol"
    item = await latest(bed, api, "wrap_up_started")
    transferred = next(e for e in item["events"] if e["type"] == "transferred")
    assert transferred["data"]["mode"] == "blind"
    assert types(item).count("answered") == 2
    assert item["agent_id"] == carol_me["agent_id"]
    # Carol took the contact: she wraps it up, then is ready as after any contact.
    await _until(lambda: _is(carol_api, "ready"), timeout=10)


async def _is(api: ApiClient, state: str) -> bool:
    return await _state(api) == state


async def test_blind_transfer_to_a_service_queues_the_caller_there(bed: CallBed) -> None:
    bob = bed.agent("Support")
    bob_phone = await bed.agent_phone(bob, CAROL_TONE, auto_answer=True)
    bob_api = await bed.agent_api(bob)
    await ready(bob_api)
    caller, call_id, _, api, interaction = await _connected_call(bed)
    await _command(
        api,
        f"/api/v1/calls/{interaction}/transfer",
        {"to": {"service_id": bed.services["Support"]}},
    )
    incoming = await bob_phone.wait_for("incoming", timeout=10)
    await bob_phone.wait_for("confirmed", call_id=incoming["call_id"], timeout=10)
    await caller.hangup(call_id)
    item = await latest(bed, api, "ended")
    assert item["service"] == "Support"
    got = types(item)
    assert got.count("queued") == 2 and got.count("offered") == 2, got


async def test_attended_transfer_complete(bed: CallBed) -> None:
    carol_phone, carol_api = await _carol(bed)
    await ready(carol_api)
    # Carol is ready but the call goes to Alice: Carol only answers her consult.
    await carol_api.call(
        "PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"}
    )
    caller, call_id, _, api, interaction = await _connected_call(bed)
    await _command(
        api, f"/api/v1/calls/{interaction}/consult", {"to": {"extension": CAROL_EXTENSION}}
    )
    incoming = await carol_phone.wait_for("incoming", timeout=10)
    await carol_phone.wait_for("confirmed", call_id=incoming["call_id"], timeout=10)
    await _until(lambda: _has_bridges(bed, [1, 2]))  # caller held alone; Alice with Carol
    await _command(api, f"/api/v1/calls/{interaction}/consult/complete")
    assert await _bridge_sizes(bed) == [2]
    await asyncio.sleep(2.0)
    await caller.hangup(call_id)
    saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
    assert has_tone(saved["path"], CAROL_TONE), "the caller never heard Carol"
    item = await latest(bed, api, "ended")
    got = types(item)
    assert got.index("consult_started") < got.index("consult_answered"), got
    assert got.index("consult_answered") < got.index("transferred"), got
    assert await _state(api) in ("wrap_up", "ready")


async def _has_bridges(bed: CallBed, sizes: list[int]) -> bool:
    return await _bridge_sizes(bed) == sizes


async def test_attended_transfer_cancel_returns_to_the_caller(bed: CallBed) -> None:
    carol_phone, carol_api = await _carol(bed)
    await carol_api.call(
        "PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"}
    )
    caller, call_id, _, api, interaction = await _connected_call(bed)
    _, carol_me = await carol_api.call("GET", "/api/v1/agents/me")
    await _command(
        api, f"/api/v1/calls/{interaction}/consult", {"to": {"agent_id": carol_me["agent_id"]}}
    )
    incoming = await carol_phone.wait_for("incoming", timeout=10)
    await carol_phone.wait_for("confirmed", call_id=incoming["call_id"], timeout=10)
    await _until(lambda: _is(carol_api, "busy"))
    await _command(api, f"/api/v1/calls/{interaction}/consult/swap")
    await _until(lambda: _has_bridges(bed, [1, 2]))
    await _command(api, f"/api/v1/calls/{interaction}/consult/cancel")
    await carol_phone.wait_for("disconnected", call_id=incoming["call_id"], timeout=10)
    assert await _bridge_sizes(bed) == [2]  # Alice back with the caller
    await _until(lambda: _is(carol_api, "not_ready"))
    await caller.hangup(call_id)
    item = await latest(bed, api, "ended")
    got = types(item)
    assert "consult_cancelled" in got and "transferred" not in got, got
    assert item["agent_id"] != carol_me["agent_id"]


async def test_three_way_conference_and_drop(bed: CallBed) -> None:
    carol_phone, carol_api = await _carol(bed)
    await carol_api.call(
        "PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"}
    )
    caller, call_id, _, api, interaction = await _connected_call(bed)
    await _command(
        api, f"/api/v1/calls/{interaction}/consult", {"to": {"extension": CAROL_EXTENSION}}
    )
    incoming = await carol_phone.wait_for("incoming", timeout=10)
    await carol_phone.wait_for("confirmed", call_id=incoming["call_id"], timeout=10)
    await _until(lambda: _is(carol_api, "busy"))
    await _command(api, f"/api/v1/calls/{interaction}/consult/conference")
    assert await _bridge_sizes(bed) == [3]
    await asyncio.sleep(2.0)
    party = await _party_id(bed, api, interaction)
    await _command(api, f"/api/v1/calls/{interaction}/parties/{party}/drop")
    await carol_phone.wait_for("disconnected", call_id=incoming["call_id"], timeout=10)
    assert await _bridge_sizes(bed) == [2]
    await caller.hangup(call_id)
    saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
    assert has_tone(saved["path"], CAROL_TONE) and has_tone(saved["path"], ALICE_TONE)
    item = await latest(bed, api, "ended")
    assert {"conference", "party_dropped"} <= set(types(item))


async def _party_id(bed: CallBed, api: ApiClient, interaction: int) -> str:
    # The hub's view lists parties; here we read the one non-customer channel of the bridge.
    del api, interaction
    (channels,) = await bed.bridges()
    parties = [c for c in channels if "-consult-" in c]
    assert len(parties) == 1, channels
    return parties[0]


async def test_outbound_call_through_the_trunk(bed: CallBed) -> None:
    alice = bed.agent("Sales")
    alice_phone = await bed.agent_phone(alice, ALICE_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    callee = await bed.pstn_phone(-1, CALLER_TONE)
    await api.call("PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"})
    status, placed = await api.call(
        "POST", "/api/v1/calls", {"to": {"number": DIALABLE_PHONE.username}}
    )
    assert status == 201, placed
    own = await alice_phone.wait_for("incoming", timeout=10)  # auto-answered: she placed it
    incoming = await callee.wait_for("incoming", timeout=10)
    await callee.answer(incoming["call_id"])
    await callee.wait_for("confirmed", call_id=incoming["call_id"], timeout=10)
    await asyncio.sleep(2.0)
    await callee.hangup(incoming["call_id"])
    saved = await alice_phone.wait_for("recording_saved", call_id=own["call_id"], timeout=10)
    assert has_tone(saved["path"], CALLER_TONE), "Alice never heard the callee"
    item = await latest(bed, api, "ended")
    assert item["id"] == placed["interaction_id"]
    assert item["direction"] == "outbound" and item["dnis"] == DIALABLE_PHONE.username
    assert item["ani"] == "5551001"  # the tenant's line on that trunk
    assert {"dialing", "answered", "ended"} <= set(types(item))
    # An outbound contact gets its wrap-up, then Alice is back to where she was.
    await _until(lambda: _is(api, "not_ready"), timeout=10)


async def test_outbound_needs_permission(bed: CallBed) -> None:
    carol_phone, carol_api = await _carol(bed)
    del carol_phone
    await ready(carol_api)
    status, body = await carol_api.call("POST", "/api/v1/calls", {"to": {"number": "5559001"}})
    assert status == 403, body
    status, body = await carol_api.call("POST", "/api/v1/calls", {"to": {"number": "12a"}})
    assert status == 400 and "number" in str(body), body
    status, body = await carol_api.call("POST", "/api/v1/calls", {"to": {}})
    assert status == 400, body


async def test_agent_to_agent_call_by_extension_from_the_desk_phone(bed: CallBed) -> None:
    alice = bed.agent("Sales")
    alice_phone = await bed.agent_phone(alice, ALICE_TONE)
    alice_api = await bed.agent_api(alice)
    carol_phone, carol_api = await _carol(bed, auto_answer=True)
    await ready(carol_api)
    await alice_api.call(
        "PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"}
    )
    call_id = await alice_phone.call(f"sip:{CAROL_EXTENSION}@{bed.sip}")
    incoming = await carol_phone.wait_for("incoming", timeout=10)
    await alice_phone.wait_for("confirmed", call_id=call_id, timeout=10)
    await _until(lambda: _is(carol_api, "busy"))
    assert await _state(alice_api) == "busy"
    await asyncio.sleep(2.0)
    await alice_phone.hangup(call_id)
    saved = await carol_phone.wait_for("recording_saved", call_id=incoming["call_id"], timeout=10)
    assert has_tone(saved["path"], ALICE_TONE)
    item = await latest(bed, alice_api, "ended")
    assert item["direction"] == "internal" and item["dnis"] == CAROL_EXTENSION
    # No wrap-up between colleagues: both go back to what they were doing.
    await _until(lambda: _is(carol_api, "ready"))
    await _until(lambda: _is(alice_api, "not_ready"))


async def test_desk_phone_cannot_dial_out_without_permission(bed: CallBed) -> None:
    carol = await bed.carol()
    carol_phone = await bed.agent_phone(carol, CAROL_TONE)
    carol_api = await bed.agent_api(carol)
    await ready(carol_api)
    call_id = await carol_phone.call(f"sip:{DIALABLE_PHONE.username}@{bed.sip}")
    ended = await carol_phone.wait_for("disconnected", call_id=call_id, timeout=10)
    assert ended["code"] >= 400 and ended["duration"] == 0, ended
    assert await _state(carol_api) == "ready"


async def test_take_a_waiting_call_from_the_queue(bed: CallBed) -> None:
    alice = bed.agent("Sales")
    alice_phone = await bed.agent_phone(alice, ALICE_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    await api.call("PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"})
    caller = await bed.pstn_phone(0, CALLER_TONE)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=call_id, timeout=15)
    item = await latest(bed, api, "queued")
    status, body = await api.call("POST", "/api/v1/queue/999999/take", {})
    assert status == 404, body
    await _command(api, f"/api/v1/queue/{item['id']}/take")
    await alice_phone.wait_for("incoming", timeout=10)
    await latest(bed, api, "answered")
    status, body = await api.call("POST", f"/api/v1/queue/{item['id']}/take", {})
    assert status == 409, body
    await caller.hangup(call_id)


async def test_call_back_from_the_list(bed: CallBed) -> None:
    alice = bed.agent("Sales")
    alice_phone = await bed.agent_phone(alice, ALICE_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    callee = await bed.pstn_phone(-1, CALLER_TONE)
    await api.call("PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"})
    status, callback = await api.call(
        "POST",
        "/api/v1/callbacks",
        {"number": DIALABLE_PHONE.username, "due_at": "2026-01-01T10:00:00Z", "name": "Ada"},
    )
    assert status == 201, callback
    status, body = await api.call("POST", f"/api/v1/callbacks/{callback['id']}/call", {})
    assert status == 202, body
    await alice_phone.wait_for("incoming", timeout=10)
    incoming = await callee.wait_for("incoming", timeout=10)
    await callee.answer(incoming["call_id"])
    await callee.wait_for("confirmed", call_id=incoming["call_id"], timeout=10)
    await callee.hangup(incoming["call_id"])
    item = await latest(bed, api, "ended")
    dialing = next(e for e in item["events"] if e["type"] == "dialing")
    assert dialing["data"]["callback_id"] == callback["id"]
    status, body = await api.call("POST", f"/api/v1/callbacks/{callback['id']}/done", {})
    assert status == 200 and body["state"] == "done", body


async def test_a_recording_service_records_its_calls_for_supervisors(bed: CallBed) -> None:
    status, body = await bed.admin.call(
        "PATCH", f"/api/v1/services/{bed.services['Sales']}", {"recording": True}
    )
    assert status == 200 and body["recording"] is True, body
    caller, call_id, _, api, interaction = await _connected_call(bed)
    await asyncio.sleep(2.5)
    await caller.hangup(call_id)
    item = await latest(bed, api, "ended")
    assert "recording_started" in types(item)
    status, body = await api.call("GET", f"/api/v1/interactions/{interaction}/recording")
    assert status == 403, body  # agents do not get recordings; supervisors do
    path = bed.directory / f"recording-{interaction}.wav"
    for _ in range(50):  # Asterisk finishes the file when the bridge goes away
        status, audio = await bed.admin.download(f"/api/v1/interactions/{interaction}/recording")
        if status == 200:
            break
        await asyncio.sleep(0.1)
    assert status == 200, audio
    path.write_bytes(audio)
    assert has_tone(path, CALLER_TONE, threshold=0.15) and has_tone(path, ALICE_TONE, 0.15)
