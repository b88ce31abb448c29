"""The agent's workflow in the PhoneBar, in real Chromium, against real Asterisk.

Every step is a click in the page; the engine's history and the callers' recordings say
whether it really happened.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Playwright, expect

from phonebar.headless import HeadlessUA
from phonebar.tones import has_tone
from server.demo import DemoAccount
from tests.browser import BrowserAgent, open_phonebar
from tests.callbed import CallBed
from tests.calls.scenario import latest, types
from tests.testbed import DIALABLE_PHONE, PHONEBAR_GRACE_S

CALLER_TONE, ALICE_TONE, CAROL_TONE = 700.0, 1100.0, 1700.0


async def _open(
    bed: CallBed, playwright: Playwright, account: DemoAccount, tone: float, tmp_path: Path
) -> BrowserAgent:
    agent = await open_phonebar(
        playwright, f"{bed.engine.api}/phonebar/?audio=raw", account, tone, tmp_path
    )
    bed.cleanups.append(agent.close)
    await agent.login()
    return agent


async def _not_ready(agent: BrowserAgent) -> None:
    await agent.by("not-ready-reason").select_option("break")
    await agent.by("state-not-ready").click()
    await agent.state_is("not_ready")


async def _ready(agent: BrowserAgent) -> None:
    await agent.by("state-ready").click()
    await agent.state_is("ready")


async def _agent_id(bed: CallBed, username: str) -> str:
    _, users = await bed.admin.call("GET", "/api/v1/users")
    return str(next(u["id"] for u in users["items"] if u["username"] == username))


async def _answered_sales_call(bed: CallBed, alice: BrowserAgent) -> tuple[HeadlessUA, str, int]:
    caller = await bed.pstn_phone(0, CALLER_TONE)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await alice.call_is("ringing")
    await alice.by("call-answer").click()
    await alice.call_is("connected")
    await caller.wait_for("confirmed", call_id=call_id, timeout=10)
    interaction = int(await alice.by("call-panel").get_attribute("data-interaction") or 0)
    return caller, call_id, interaction


async def test_hold_resume_and_blind_transfer_to_a_second_browser(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    carol = await _open(bed, playwright, await bed.carol(), CAROL_TONE, tmp_path)
    await _not_ready(carol)
    alice = await _open(bed, playwright, bed.agent("Sales"), ALICE_TONE, tmp_path)
    await _ready(alice)
    caller, call_id, _ = await _answered_sales_call(bed, alice)
    await alice.by("call-hold").click()
    await alice.call_is("held")
    assert sorted(len(b) for b in await bed.bridges()) == [1]
    await alice.by("call-resume").click()
    await alice.call_is("connected")
    await alice.by("transfer-kind").select_option("agent")
    await alice.by("transfer-target").select_option(await _agent_id(bed, "carol"))
    await alice.by("transfer-blind").click()
    await alice.state_is("wrap_up")
    await carol.call_is("ringing")
    await carol.by("call-answer").click()
    await carol.call_is("connected")
    await asyncio.sleep(2.5)
    stats = await carol.stats()
    assert stats["received"] > 50 and stats["energyIn"] > 0, stats
    await caller.hangup(call_id)
    saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
    assert has_tone(saved["path"], CAROL_TONE), "the caller never heard Carol's browser"
    await carol.state_is("wrap_up")
    api = await bed.agent_api(bed.agent("Sales"))
    item = await latest(bed, api, "ended")
    got = types(item)
    assert got.index("held") < got.index("resumed") < got.index("transferred"), got


async def test_attended_transfer_conference_and_drop_in_the_browser(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    carol = await _open(bed, playwright, await bed.carol(), CAROL_TONE, tmp_path)
    await _not_ready(carol)
    alice = await _open(bed, playwright, bed.agent("Sales"), ALICE_TONE, tmp_path)
    await _ready(alice)
    caller, call_id, _ = await _answered_sales_call(bed, alice)
    # Consult Carol, then cancel: Alice is back with the caller.
    await alice.by("transfer-kind").select_option("agent")
    await alice.by("transfer-target").select_option(await _agent_id(bed, "carol"))
    await alice.by("consult-start").click()
    await carol.call_is("ringing")
    await carol.by("call-answer").click()
    await carol.call_is("connected")
    await expect(alice.by("consult-cancel")).to_be_visible()
    await alice.by("consult-cancel").click()
    await expect(alice.by("consult-cancel")).to_be_hidden()
    await carol.state_is("not_ready")
    assert sorted(len(b) for b in await bed.bridges()) == [2]
    # Consult again, then make it a three-way conference and drop Carol.
    await alice.by("transfer-kind").select_option("agent")
    await alice.by("transfer-target").select_option(await _agent_id(bed, "carol"))
    await alice.by("consult-start").click()
    await carol.call_is("ringing")
    await carol.by("call-answer").click()
    await expect(alice.by("consult-conference")).to_be_enabled()
    await alice.by("consult-conference").click()
    await expect(alice.page.locator("[data-testid$='-drop']")).to_have_count(1)
    assert sorted(len(b) for b in await bed.bridges()) == [3]
    await asyncio.sleep(2.0)
    await alice.page.locator("[data-testid$='-drop']").click()
    await carol.state_is("not_ready")
    # Consult a third time and complete: Carol takes the caller.
    await alice.by("transfer-kind").select_option("agent")
    await alice.by("transfer-target").select_option(await _agent_id(bed, "carol"))
    await alice.by("consult-start").click()
    await carol.call_is("ringing")
    await carol.by("call-answer").click()
    await expect(alice.by("consult-complete")).to_be_enabled()
    await alice.by("consult-complete").click()
    await alice.state_is("wrap_up")
    await carol.call_is("connected")
    await caller.hangup(call_id)
    saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
    assert has_tone(saved["path"], CAROL_TONE) and has_tone(saved["path"], ALICE_TONE)
    api = await bed.agent_api(bed.agent("Sales"))
    item = await latest(bed, api, "ended")
    got = types(item)
    for kind in ("consult_cancelled", "conference", "party_dropped", "transferred"):
        assert kind in got, got


async def test_outbound_and_agent_to_agent_calls_from_the_browser(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    carol = await _open(bed, playwright, await bed.carol(), CAROL_TONE, tmp_path)
    await _ready(carol)
    alice = await _open(bed, playwright, bed.agent("Sales"), ALICE_TONE, tmp_path)
    await _not_ready(alice)
    callee = await bed.pstn_phone(-1, CALLER_TONE)
    await alice.by("dial-input").fill(DIALABLE_PHONE.username)
    await alice.by("dial-call").click()
    incoming = await callee.wait_for("incoming", timeout=15)
    await callee.answer(incoming["call_id"])
    await alice.call_is("connected")
    await asyncio.sleep(2.5)
    stats = await alice.stats()
    assert stats["received"] > 50 and stats["energyIn"] > 0, stats
    await alice.by("call-hangup").click()
    saved = await callee.wait_for("recording_saved", call_id=incoming["call_id"], timeout=10)
    assert has_tone(saved["path"], ALICE_TONE), "the callee never heard Alice's browser"
    await alice.by("wrapup-end").click()
    await alice.state_is("ready")
    await _not_ready(alice)
    # Now Carol, from the agents list.
    await alice.by("agent-carol-call").click()
    await carol.call_is("ringing")
    await expect(carol.by("call-ani")).to_contain_text("Alice")
    await carol.by("call-answer").click()
    await carol.call_is("connected")
    await alice.call_is("connected")
    await carol.by("call-hangup").click()
    await carol.state_is("ready")
    await alice.state_is("not_ready")
    api = await bed.agent_api(bed.agent("Sales"))
    item = await latest(bed, api, "ended")
    assert item["direction"] == "internal"


async def test_take_a_waiting_call_from_the_queue_view(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    alice = await _open(bed, playwright, bed.agent("Sales"), ALICE_TONE, tmp_path)
    await _not_ready(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    api = await bed.agent_api(bed.agent("Sales"))
    item = await latest(bed, api, "queued")
    await expect(alice.by(f"queue-item-{item['id']}")).to_contain_text("pstn1")
    await alice.by(f"queue-take-{item['id']}").click()
    await alice.call_is("ringing")
    await alice.page.keyboard.press("Alt+a")  # the keyboard shortcuts: answer ...
    await alice.call_is("connected")
    await expect(alice.by(f"queue-item-{item['id']}")).to_have_count(0)
    await alice.page.keyboard.press("Alt+h")  # ... hang up ...
    await caller.wait_for("disconnected", call_id=call_id, timeout=10)
    await alice.state_is("wrap_up")
    await alice.page.keyboard.press("Alt+r")  # ... and ready, ending wrap-up early
    await alice.state_is("ready")


async def test_the_phonebar_controls_a_desk_phone(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    account = bed.agent("Sales")
    alice = await _open(bed, playwright, account, ALICE_TONE, tmp_path)
    await alice.by("device-select").select_option("phone")
    desk = await bed.agent_phone(account, ALICE_TONE)
    await _ready(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await alice.call_is("ringing")
    incoming = await desk.wait_for("incoming", timeout=10)
    await desk.answer(incoming["call_id"])
    await alice.call_is("connected")
    assert await alice.page.evaluate("window.phonebar.pc()") is None  # no browser media
    await alice.by("call-hold").click()
    await alice.call_is("held")
    await alice.by("call-resume").click()
    await alice.call_is("connected")
    await asyncio.sleep(2.0)
    await alice.by("call-hangup").click()
    await desk.wait_for("disconnected", call_id=incoming["call_id"], timeout=10)
    saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
    assert has_tone(saved["path"], ALICE_TONE), "the caller never heard the desk phone"
    await alice.state_is("wrap_up")


async def test_hub_drop_resyncs_the_whole_state(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    alice = await _open(bed, playwright, bed.agent("Sales"), ALICE_TONE, tmp_path)
    await _ready(alice)
    caller, call_id, interaction = await _answered_sales_call(bed, alice)
    bed.engine.kill()  # the hub goes away mid-call; Asterisk keeps the call
    await expect(alice.by("hub-status")).to_have_attribute("data-connected", "false")
    await bed.engine.start()
    await expect(alice.by("hub-status")).to_have_attribute("data-connected", "true", timeout=40_000)
    await alice.call_is("connected")
    assert await alice.by("call-panel").get_attribute("data-interaction") == str(interaction)
    await alice.by("call-hangup").click()
    await caller.wait_for("disconnected", call_id=call_id, timeout=10)
    await alice.state_is("wrap_up")


async def test_browser_closed_while_ringing_goes_to_the_next_agent(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    alice = await _open(bed, playwright, bed.agent("Sales"), ALICE_TONE, tmp_path)
    await _ready(alice)
    carol_account = await bed.carol()
    carol_phone = await bed.agent_phone(carol_account, CAROL_TONE, auto_answer=True)
    carol_api = await bed.agent_api(carol_account)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await alice.call_is("ringing")
    status, body = await carol_api.call("PUT", "/api/v1/agents/me/state", {"state": "ready"})
    assert status == 200, body
    await alice.close()  # the agent's browser vanishes while their softphone rings
    incoming = await carol_phone.wait_for("incoming", timeout=PHONEBAR_GRACE_S + 20)
    await carol_phone.wait_for("confirmed", call_id=incoming["call_id"], timeout=10)
    api = await bed.agent_api(bed.agent("Sales"))
    for _ in range(100):
        _, me = await api.call("GET", "/api/v1/agents/me")
        if me["state"] == "offline":
            break
        await asyncio.sleep(0.1)
    assert me["state"] == "offline" and me["reason"] == "disconnected", me
    await caller.hangup(call_id)
    item = await latest(bed, api, "ended")
    offered = [e["data"]["agent"] for e in item["events"] if e["type"] == "offered"]
    assert offered[-1] == "carol", offered
