"""Real Chromium (Debian's) driven by Playwright, with a fake microphone playing a tone.

Each browser agent gets its own Chromium: the fake capture file is a browser-wide flag, and
every agent must send a tone of its own so a test cannot pass on someone else's audio. The
suite runs in its network namespace, where Chromium and Asterisk both gather the veth address
(192.0.2.1) as an ICE host candidate — loopback never is one.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright, expect

from phonebar.tones import write_sine_wav
from server.demo import DemoAccount

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
# Grants the microphone without a prompt (without it, headless Chromium denies it).
GRANT_MICROPHONE = "--use-fake-ui-for-media-stream"
TIMEOUT_MS = 15_000

# The numbers a PhoneBar's RTCPeerConnection reports about its audio, both ways.
STATS_JS = """async () => {
  const pc = window.phonebar && window.phonebar.pc();
  if (!pc) return null;
  const out = {sent: 0, received: 0, energyIn: 0, levelIn: 0};
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'audio') out.sent += s.packetsSent || 0;
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.received += s.packetsReceived || 0;
      out.energyIn += s.totalAudioEnergy || 0;
      out.levelIn = Math.max(out.levelIn, s.audioLevel || 0);
    }
  });
  return out;
}"""


@dataclass
class BrowserAgent:
    """One agent's PhoneBar in its own Chromium."""

    browser: Browser
    page: Page
    account: DemoAccount

    def by(self, test_id: str) -> Any:
        """The element with this data-testid."""
        return self.page.get_by_test_id(test_id)

    async def login(self, tenant: str = "demo") -> None:
        """Log in and wait until the softphone is registered and the hub connected."""
        await self.by("login-tenant").fill(tenant)
        await self.by("login-username").fill(self.account.username)
        await self.by("login-password").fill(self.account.password)
        await self.by("login-submit").click()
        await expect(self.by("hub-status")).to_have_attribute(
            "data-connected", "true", timeout=TIMEOUT_MS
        )
        await expect(self.by("sip-status")).to_have_attribute(
            "data-registered", "true", timeout=TIMEOUT_MS
        )

    async def state_is(self, state: str) -> None:
        """Wait until the PhoneBar shows this agent state."""
        await expect(self.by("agent-state")).to_have_attribute(
            "data-state", state, timeout=TIMEOUT_MS
        )

    async def call_is(self, state: str) -> None:
        """Wait until the call panel shows this call state."""
        await expect(self.by("call-panel")).to_have_attribute(
            "data-state", state, timeout=TIMEOUT_MS
        )

    async def stats(self) -> dict[str, float]:
        """Audio packets and levels of the current call's RTCPeerConnection."""
        result = await self.page.evaluate(STATS_JS)
        assert result is not None, "no RTCPeerConnection"
        return dict(result)

    async def close(self) -> None:
        """Close the browser (like an agent closing it)."""
        await self.browser.close()


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    """The Playwright driver (it starts no browser by itself)."""
    async with async_playwright() as driver:
        yield driver


async def open_phonebar(
    driver: Playwright,
    url: str,
    account: DemoAccount,
    tone: float,
    directory: Path,
    microphone: bool = True,
) -> BrowserAgent:
    """A new Chromium whose microphone plays `tone`, on the PhoneBar's login screen.

    With `microphone=False` the page is refused the microphone, as when an agent says no.
    """
    wav = write_sine_wav(directory / f"mic-{tone:.0f}.wav", tone, duration_s=10, rate=16000)
    grant = [GRANT_MICROPHONE] if microphone else []
    browser = await driver.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[*FLAGS, *grant, f"--use-file-for-fake-audio-capture={wav}"],
    )
    context = await browser.new_context(viewport={"width": 1366, "height": 768})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(url)
    return BrowserAgent(browser, page, account)
