"""The PhoneBar in real Chromium: a carrier call rings the browser softphone and is answered.

Media flows both ways through Asterisk's WebRTC endpoint (DTLS-SRTP, ICE over the suite's
veth address): the browser's RTCPeerConnection counts packets and audio energy in both
directions, and the caller's recording holds the tone the browser's microphone plays.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from playwright.async_api import Playwright, expect

from phonebar.tones import has_tone
from tests.browser import BrowserAgent, open_phonebar
from tests.callbed import CallBed
from tests.calls.scenario import latest, types

CALLER_TONE, BROWSER_TONE, OTHER_BROWSER_TONE = 700.0, 1100.0, 1700.0


async def _phonebar(
    bed: CallBed, playwright: Playwright, service: str, tone: float, tmp_path: Path
) -> BrowserAgent:
    agent = await open_phonebar(
        playwright,
        f"{bed.engine.api}/phonebar/?audio=raw",
        bed.agent(service),
        tone,
        tmp_path,
    )
    bed.cleanups.append(agent.close)
    await agent.login()
    return agent


async def test_inbound_call_answered_in_the_browser_with_audio_both_ways(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    status, body = await bed.admin.call(
        "PATCH", f"/api/v1/services/{bed.services['Sales']}", {"wrap_up_s": 60}
    )
    assert status == 200, body
    agent = await _phonebar(bed, playwright, "Sales", BROWSER_TONE, tmp_path)
    await agent.by("state-ready").click()
    await agent.state_is("ready")
    caller = await bed.pstn_phone(0, CALLER_TONE)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await agent.call_is("ringing")
    await expect(agent.by("call-ani")).to_contain_text("pstn1")
    await expect(agent.by("call-service")).to_contain_text("Sales")
    await agent.by("call-answer").click()
    await agent.call_is("connected")
    await caller.wait_for("confirmed", call_id=call_id, timeout=10)
    await asyncio.sleep(3.0)
    stats = await agent.stats()
    assert stats["sent"] > 50 and stats["received"] > 50, stats
    assert stats["energyIn"] > 0, stats  # the caller's tone reached the browser's speaker
    await agent.by("call-hangup").click()
    saved = await caller.wait_for("recording_saved", call_id=call_id, timeout=10)
    assert has_tone(saved["path"], BROWSER_TONE), "the caller did not hear the browser"
    assert not has_tone(saved["path"], CALLER_TONE), "the caller heard its own echo"
    await expect(agent.by("wrapup-panel")).to_be_visible()
    await agent.by("wrapup-disposition").select_option("sale")
    await agent.by("wrapup-notes").fill("wants a quote")
    await agent.by("wrapup-save").click()
    api = await bed.agent_api(bed.agent("Sales"))
    item = await latest(bed, api, "disposition")
    assert item["disposition"] == "sale"
    await agent.state_is("wrap_up")
    await agent.by("wrapup-end").click()
    await agent.state_is("ready")
    # The same caller again: the screen pop shows the first call with its outcome.
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await agent.call_is("ringing")
    await expect(agent.by("call-history")).to_contain_text("sale")
    await caller.hangup(call_id)
    assert types(item)[:4] == ["created", "queued", "offered", "answered"]


async def test_readme_flow_demo_call_answered_in_the_phonebar(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    """The README's newcomer path: `phones demo call --no-agent`, answered in the browser."""
    agent = await _phonebar(bed, playwright, "Sales", BROWSER_TONE, tmp_path)
    await agent.by("state-ready").click()
    await agent.state_is("ready")
    command = [
        sys.executable, "-m", "server.cli", "--config", str(bed.engine.config_file()),
        "demo", "call", "--line", "2001", "--no-agent", "--seconds", "2",
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    await agent.call_is("ringing")
    await agent.by("call-answer").click()
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    text = output.decode()
    assert process.returncode == 0, text
    assert "caller heard the agent: yes" in text, text
    await agent.state_is("wrap_up")
