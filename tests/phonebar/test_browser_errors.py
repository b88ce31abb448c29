"""What the agent is told when the browser softphone cannot work: no microphone, SIP refused."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.async_api import Playwright, Route, expect

from tests.browser import open_phonebar
from tests.callbed import CallBed
from tests.calls.scenario import latest, types

CALLER_TONE, BROWSER_TONE = 700.0, 1100.0


async def test_missing_microphone_permission_is_explained_and_the_call_moves_on(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    agent = await open_phonebar(
        playwright,
        f"{bed.engine.api}/phonebar/",
        bed.agent("Sales"),
        BROWSER_TONE,
        tmp_path,
        microphone=False,
    )
    bed.cleanups.append(agent.close)
    await agent.login()
    await agent.by("state-ready").click()
    await agent.state_is("ready")
    caller = await bed.pstn_phone(0, CALLER_TONE)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await agent.call_is("ringing")
    await agent.by("call-answer").click()
    await expect(agent.by("mic-error")).to_be_visible()
    await expect(agent.by("mic-error")).to_have_attribute("data-kind", "denied")
    # The caller is not left with a dead line: the offer ends and the call goes back to the queue.
    api = await bed.agent_api(bed.agent("Sales"))
    item = await latest(bed, api, "offered")
    for _ in range(100):
        item = await latest(bed, api, "offered")
        if {"rejected", "offer_timeout"} & set(types(item)):
            break
        await agent.page.wait_for_timeout(100)
    assert {"rejected", "offer_timeout"} & set(types(item)), types(item)
    assert "answered" not in types(item)
    await caller.hangup(call_id)


async def test_a_refused_sip_registration_is_explained(
    bed: CallBed, playwright: Playwright, tmp_path: Path
) -> None:
    agent = await open_phonebar(
        playwright, f"{bed.engine.api}/phonebar/", bed.agent("Sales"), BROWSER_TONE, tmp_path
    )
    bed.cleanups.append(agent.close)

    async def wrong_secret(route: Route) -> None:
        # The engine's answer with the SIP password changed: Asterisk must refuse it.
        response = await route.fetch()
        config = await response.json()
        config["sip"]["password"] = "not-the-password"
        await route.fulfill(response=response, body=json.dumps(config))

    await agent.page.route("**/api/v1/phonebar/config", wrong_secret)
    await agent.by("login-tenant").fill("demo")
    await agent.by("login-username").fill(agent.account.username)
    await agent.by("login-password").fill(agent.account.password)
    await agent.by("login-submit").click()
    await expect(agent.by("sip-error")).to_have_attribute("data-kind", "auth")
    await expect(agent.by("sip-status")).to_have_attribute("data-registered", "false")
