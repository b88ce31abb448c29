"""Calls routed end to end through real Asterisk: carrier → trunk → engine → agent phone."""

from __future__ import annotations

import asyncio

from phonebar.tones import has_tone
from tests.callbed import CallBed
from tests.calls.scenario import latest as _latest
from tests.calls.scenario import ready as _ready
from tests.calls.scenario import types as _types

CALLER_TONE, AGENT_TONE, OTHER_AGENT_TONE = 700.0, 1300.0, 1900.0


async def test_trunk_call_reaches_ready_agent_with_two_way_audio(bed: CallBed) -> None:
    alice = bed.agent("Sales")
    agent_phone = await bed.agent_phone(alice, AGENT_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(api)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=call_id, timeout=15)
    incoming = await agent_phone.wait_for("incoming", timeout=5)
    await agent_phone.wait_for("confirmed", call_id=incoming["call_id"], timeout=5)
    await asyncio.sleep(2.5)
    _, me = await api.call("GET", "/api/v1/agents/me")
    assert me["state"] == "busy"
    await caller.hangup(call_id)
    caller_saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
    agent_saved = await agent_phone.wait_for("recording_saved", timeout=10)
    item = await _latest(bed, api, "wrap_up_started")
    assert has_tone(caller_saved["path"], AGENT_TONE), "the caller did not hear the agent"
    assert not has_tone(caller_saved["path"], CALLER_TONE), "the caller heard its own echo"
    assert has_tone(agent_saved["path"], CALLER_TONE), "the agent did not hear the caller"
    assert item["dnis"] == "5551001"
    assert item["ani"] == "pstn1"
    assert item["service"] == "Sales"
    assert item["state"] == "ended"
    types = _types(item)
    assert types[:4] == ["created", "queued", "offered", "answered"], types
    ended = next(e for e in item["events"] if e["type"] == "ended")
    assert ended["data"]["side"] == "caller"
    assert types.index("ended") < types.index("wrap_up_started")
    assert all(e["at"].endswith(("Z", "+00:00")) for e in item["events"])


async def test_call_waits_in_queue_until_an_agent_is_ready(bed: CallBed) -> None:
    alice = bed.agent("Sales")
    agent_phone = await bed.agent_phone(alice, AGENT_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    # Logged in but on a break: the call must wait, not fall back to "nobody logged in".
    status, body = await api.call(
        "PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"}
    )
    assert status == 200, body
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=call_id, timeout=15)  # answered: hears MOH
    item = await _latest(bed, api, "queued")
    await asyncio.sleep(1.0)
    _, queues = await api.call("GET", "/api/v1/live/queues")
    sales = next(q for q in queues["items"] if q["service"] == "Sales")
    assert sales["waiting"] == 1 and sales["longest_wait_s"] >= 1.0
    assert "offered" not in _types(await _latest(bed, api))
    await _ready(api)
    await agent_phone.wait_for("confirmed", timeout=10)
    item = await _latest(bed, api, "answered")
    await caller.hangup(call_id)
    await _latest(bed, api, "ended")
    assert item["wait_s"] >= 1.0


async def test_unanswered_offer_moves_on_and_the_agent_goes_not_ready(bed: CallBed) -> None:
    alice, carol = bed.agent("Sales"), await bed.carol()
    silent = await bed.agent_phone(alice, AGENT_TONE)  # rings, never answers
    answering = await bed.agent_phone(carol, OTHER_AGENT_TONE, auto_answer=True)
    alice_api, carol_api = await bed.agent_api(alice), await bed.agent_api(carol)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(alice_api)
    await asyncio.sleep(0.2)
    await _ready(carol_api)  # alice has idled longest: she is offered first
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await silent.wait_for("incoming", timeout=10)
    await answering.wait_for("confirmed", timeout=15)
    item = await _latest(bed, carol_api, "answered")
    _, alice_state = await alice_api.call("GET", "/api/v1/agents/me")
    await caller.hangup(call_id)
    await _latest(bed, carol_api, "ended")
    offers = [e for e in item["events"] if e["type"] == "offered"]
    assert [o["data"]["agent"] for o in offers] == ["alice", "carol"]
    assert "offer_timeout" in _types(item)
    assert alice_state["state"] == "not_ready" and alice_state["reason"] == "missed"


async def test_caller_hanging_up_in_queue_is_an_abandon(bed: CallBed) -> None:
    api = await bed.agent_api(bed.agent("Sales"))
    caller = await bed.pstn_phone(0, CALLER_TONE)
    status, body = await api.call(
        "PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"}
    )
    assert status == 200, body
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await caller.wait_for("confirmed", call_id=call_id, timeout=15)
    await asyncio.sleep(1.0)
    await caller.hangup(call_id)
    item = await _latest(bed, api, "abandoned")
    assert item["state"] == "abandoned"
    abandoned = next(e for e in item["events"] if e["type"] == "abandoned")
    assert abandoned["data"]["wait_s"] >= 1.0
    assert "answered" not in _types(item)


async def test_skills_route_a_support_call_to_the_support_agent(bed: CallBed) -> None:
    alice, bob = bed.agent("Sales"), bed.agent("Support")
    sales_phone = await bed.agent_phone(alice, AGENT_TONE, auto_answer=True)
    support_phone = await bed.agent_phone(bob, OTHER_AGENT_TONE, auto_answer=True)
    alice_api, bob_api = await bed.agent_api(alice), await bed.agent_api(bob)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(alice_api)  # longest idle, but without the support skill
    await asyncio.sleep(0.2)
    await _ready(bob_api)
    call_id = await caller.call(bed.carrier_uri("Support"))
    await support_phone.wait_for("confirmed", timeout=15)
    item = await _latest(bed, bob_api, "answered")
    await caller.hangup(call_id)
    assert item["service"] == "Support"
    assert [e["data"]["agent"] for e in item["events"] if e["type"] == "offered"] == ["bob"]
    assert "incoming" not in sales_phone.events()


async def test_a_rejected_offer_is_recorded_and_the_agent_goes_not_ready(bed: CallBed) -> None:
    alice = bed.agent("Sales")
    agent_phone = await bed.agent_phone(alice, AGENT_TONE)
    api = await bed.agent_api(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(api)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    incoming = await agent_phone.wait_for("incoming", timeout=15)
    await agent_phone.reject(incoming["call_id"], 486)
    item = await _latest(bed, api, "rejected")
    _, me = await api.call("GET", "/api/v1/agents/me")
    await caller.hangup(call_id)
    await _latest(bed, api, "abandoned")
    rejected = next(e for e in item["events"] if e["type"] == "rejected")
    assert rejected["data"]["cause"] == 17
    assert me["state"] == "not_ready" and me["reason"] == "missed"


async def test_the_agent_records_a_disposition_from_the_services_codes(bed: CallBed) -> None:
    alice, bob = bed.agent("Sales"), bed.agent("Support")
    agent_phone = await bed.agent_phone(alice, AGENT_TONE, auto_answer=True)
    api, other = await bed.agent_api(alice), await bed.agent_api(bob)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    await _ready(api)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await agent_phone.wait_for("confirmed", timeout=15)
    await _latest(bed, api, "answered")  # bridged by the engine, not just picked up
    await caller.hangup(call_id)
    item = await _latest(bed, api, "wrap_up_started")
    path = f"/api/v1/interactions/{item['id']}/disposition"
    bad = await api.call("POST", path, {"code": "bogus"})
    foreign = await other.call("POST", path, {"code": "sale"})
    good = await api.call("POST", path, {"code": "sale", "note": "two licences"})
    missing = await api.call("POST", "/api/v1/interactions/999999/disposition", {"code": "sale"})
    item = await _latest(bed, api, "disposition")
    assert bad[0] == 400 and bad[1]["fields"][0]["field"] == "code"
    assert foreign[0] == 403
    assert missing[0] == 404
    assert good[0] == 201 and good[1]["data"] == {"code": "sale", "note": "two licences"}
    assert item["disposition"] == "sale"
