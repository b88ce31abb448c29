"""The headless pjsua2 user agent: two processes calling each other directly, plus tone maths."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from phonebar import tones
from phonebar.headless import HeadlessUA, HeadlessUAError

pytest.importorskip("pjsua2")

# Distinct frequencies per direction, so neither side can pass on its own echo.
TONE_A = 700.0
TONE_B = 1300.0


def _in_order(names: list[str], expected: list[str]) -> bool:
    """Return whether ``expected`` appears in ``names`` as an ordered subsequence."""
    it = iter(names)
    return all(name in it for name in expected)


def test_tones_generate_and_detect(tmp_path: Path) -> None:
    """A generated 1 kHz WAV reads back as 1 kHz and not 2 kHz."""
    path = tones.write_sine_wav(tmp_path / "1k.wav", 1000, duration_s=0.5)
    samples, rate = tones.read_wav(path)
    assert rate == 8000
    assert len(samples) == 4000
    assert tones.rms(samples) > 10000
    assert tones.tone_level(path, 1000) > 0.9
    assert tones.tone_level(path, 2000) < 0.01
    assert tones.has_tone(path, 1000)
    assert not tones.has_tone(path, 2000)


def test_tones_silence_and_mixture() -> None:
    """Silence scores zero; a two-tone mix splits its energy by amplitude squared."""
    assert tones.relative_power([0.0] * 800, 8000, 1000) == 0.0
    low = tones.generate_sine(700, 0.5, amplitude=0.4)
    high = tones.generate_sine(1300, 0.5, amplitude=0.2)
    mix = [a + b for a, b in zip(low, high, strict=True)]
    # Power scales with amplitude squared: 0.16 vs 0.04 of the total 0.2.
    assert tones.relative_power(mix, 8000, 700) == pytest.approx(0.8, abs=0.05)
    assert tones.relative_power(mix, 8000, 1300) == pytest.approx(0.2, abs=0.05)
    with pytest.raises(ValueError):
        tones.generate_sine(5000, 0.1)


async def test_direct_call_exchanges_tones(tmp_path: Path) -> None:
    """A calls B directly; each side records the other's tone, not its own."""
    rec_a = tmp_path / "a.wav"
    async with (
        HeadlessUA("A", log_path=tmp_path / "a.log") as a,
        HeadlessUA("B", log_path=tmp_path / "b.log") as b,
    ):
        assert a.port and b.port and a.port != b.port
        await a.register(f"sip:a@{a.uri_host}")
        await b.register(
            f"sip:b@{b.uri_host}",
            auto_answer=True,
            tone=TONE_B,
            record=str(tmp_path / "b-{call_id}.wav"),
        )

        # Bad input is reported, never fatal.
        await b.send_raw("{this is not json")
        assert "malformed JSON" in (await b.wait_for("error"))["message"]
        await b.send_raw('{"cmd": "no_such_command"}')
        assert (await b.wait_for("error"))["cmd"] == "no_such_command"
        with pytest.raises(HeadlessUAError, match="no active call"):
            await b.hangup("nope")
        await b.command("ping")

        call_id = await a.call(f"sip:b@{b.uri_host}", headers={"X-Phones-Test": "hello"})
        incoming = await b.wait_for("incoming")
        in_id = incoming["call_id"]
        # pjsip drops the port from From/To; the Contact keeps it.
        assert "sip:a@127.0.0.1" in incoming["from"]
        assert f"a@{a.uri_host}" in incoming["headers"]["Contact"]
        assert incoming["headers"]["X-Phones-Test"] == "hello"

        assert (await a.wait_for("ringing", call_id))["code"] == 180
        await a.wait_for("confirmed", call_id)
        await a.wait_for("media_active", call_id)
        await b.wait_for("media_active", in_id)
        await a.play_tone(call_id, TONE_A)
        await a.record(call_id, rec_a)

        await a.dtmf(call_id, "12#")
        digits = [(await b.wait_for("dtmf", in_id))["digit"] for _ in range(3)]
        assert digits == ["1", "2", "#"]

        await asyncio.sleep(2.0)
        await a.hangup(call_id)
        assert (await a.wait_for("disconnected", call_id))["code"] == 200
        await b.wait_for("disconnected", in_id)
        saved_a = await a.wait_for("recording_saved", call_id)
        saved_b = await b.wait_for("recording_saved", in_id)

    assert a.returncode == 0
    assert b.returncode == 0
    assert saved_a["path"] == str(rec_a)
    assert saved_b["path"] == str(tmp_path / f"b-{in_id}.wav")
    # Media comes up on the 200 OK, i.e. before or after CONFIRMED (the ACK), so check both chains.
    for mid in ("confirmed", "media_active"):
        chain_a = ["calling", "ringing", mid, "disconnected", "recording_saved"]
        assert _in_order(a.events(call_id), chain_a), a.events(call_id)
        chain_b = ["incoming", "ringing", mid, "dtmf", "disconnected", "recording_saved"]
        assert _in_order(b.events(in_id), chain_b), b.events(in_id)
    assert "exited" in a.events() and "exited" in b.events()

    for path, theirs, ours in ((rec_a, TONE_B, TONE_A), (Path(saved_b["path"]), TONE_A, TONE_B)):
        samples, rate = tones.read_wav(path)
        assert len(samples) / rate > 1.5, path
        assert tones.tone_level(path, theirs) > 0.5, path
        assert tones.tone_level(path, ours) < 0.1, path


async def test_reject_and_manual_answer() -> None:
    """Without auto-answer B can reject (486) or answer by command."""
    async with HeadlessUA("A") as a, HeadlessUA("B") as b:
        await b.register(f"sip:b@{b.uri_host}")
        first = await a.call(f"sip:b@{b.uri_host}")
        incoming = await b.wait_for("incoming")
        await a.wait_for("ringing", first)
        await b.reject(incoming["call_id"], 486)
        assert (await a.wait_for("disconnected", first))["code"] == 486

        second = await a.call(f"sip:b@{b.uri_host}", call_id="again")
        assert second == "again"
        incoming = await b.wait_for("incoming")
        await b.answer(incoming["call_id"])
        await a.wait_for("confirmed", second)
        await b.hangup(incoming["call_id"])
        await a.wait_for("disconnected", second)
    assert (a.returncode, b.returncode) == (0, 0)
