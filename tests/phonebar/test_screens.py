"""The PhoneBar's main screens in both languages, at the 1366x768 the issue asks for.

Each screen is checked for what a human would check first (no horizontal scroll, the state
and call controls on screen, the right language) and saved as a PNG; with
PHONES_SCREENSHOTS=<dir> they are also copied there (docs/screenshots/ is made this way).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.async_api import Playwright, expect

from tests.browser import BrowserAgent, open_phonebar
from tests.callbed import CallBed

CALLER_TONE, ALICE_TONE = 700.0, 1100.0
WORDS = {"en": ("Ready", "Answer"), "it": ("Disponibile", "Rispondi")}


async def _shot(agent: BrowserAgent, directory: Path, name: str) -> None:
    path = directory / f"{name}.png"
    await agent.page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, f"{name}: an empty screen?"
    width = await agent.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, f"{name}: {width}px wide scrolls sideways at 1366x768"
    target = os.environ.get("PHONES_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


@pytest.mark.parametrize("language", ["en", "it"])
async def test_main_screens(
    bed: CallBed, playwright: Playwright, tmp_path: Path, language: str
) -> None:
    status, body = await bed.admin.call(
        "PATCH", f"/api/v1/services/{bed.services['Sales']}", {"wrap_up_s": 60}
    )
    assert status == 200, body
    agent = await open_phonebar(
        playwright, f"{bed.engine.api}/phonebar/", bed.agent("Sales"), ALICE_TONE, tmp_path
    )
    bed.cleanups.append(agent.close)
    await agent.by("lang-select").select_option(language)
    ready_word, answer_word = WORDS[language]
    await _shot(agent, tmp_path, f"login-{language}")
    await agent.login()
    await agent.by("state-ready").click()
    await agent.state_is("ready")
    await expect(agent.by("state-ready")).to_contain_text(ready_word)
    await _shot(agent, tmp_path, f"ready-{language}")
    caller = await bed.pstn_phone(0, CALLER_TONE)
    call_id = await caller.call(bed.carrier_uri("Sales"))
    await agent.call_is("ringing")
    await expect(agent.by("call-answer")).to_contain_text(answer_word)
    await _shot(agent, tmp_path, f"ringing-{language}")
    await agent.by("call-answer").click()
    await agent.call_is("connected")
    await _shot(agent, tmp_path, f"call-{language}")
    await caller.hangup(call_id)
    await agent.state_is("wrap_up")
    await _shot(agent, tmp_path, f"wrap-up-{language}")
