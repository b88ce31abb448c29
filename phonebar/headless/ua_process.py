"""A headless pjsua2 SIP user agent driven by JSON lines (commands on stdin, events on stdout).

Run as ``python -m phonebar.headless.ua_process --bind 127.0.0.1 --port 0 --log FILE``.
pjsua2 owns this process's main thread: every callback runs from ``libHandleEvents``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import shutil
import signal
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pjsua2 as pj

from phonebar.tones import write_sine_wav

Cmd = dict[str, Any]
POLL_MS = 10
FINALIZE_TIMEOUT_S = 3.0
TONE_FILE_S = 10.0
STATE_EVENTS = {
    pj.PJSIP_INV_STATE_CALLING: "calling",
    pj.PJSIP_INV_STATE_EARLY: "progress",  # "ringing" when the code is 180
    pj.PJSIP_INV_STATE_CONNECTING: "connecting",
    pj.PJSIP_INV_STATE_CONFIRMED: "confirmed",
    pj.PJSIP_INV_STATE_DISCONNECTED: "disconnected",
}


class CommandError(Exception):
    """A command that cannot be carried out; reported as an ``error`` event."""


@dataclass
class CallSlot:
    """One call's pjsua2 objects and the options that drive its media."""

    call_id: str
    direction: str
    tone: float | None = None
    record: str | None = None
    call: Any = None
    answer_at: float | None = None
    media: Any = None
    player: Any = None
    player_freq: float | None = None
    recorder: Any = None
    record_path: str | None = None
    ended: bool = False


def _opt_float(value: Any) -> float | None:
    return None if value in (None, 0, False) else float(value)


def _op(code: int = 0) -> Any:
    prm = pj.CallOpParam(True)
    prm.statusCode = code
    return prm


def _sip_headers(whole_msg: str) -> dict[str, str]:
    """Parse the header block of a raw SIP message (repeated headers are comma-joined)."""
    headers: dict[str, str] = {}
    for line in whole_msg.replace("\r\n", "\n").split("\n")[1:]:
        if not line.strip():
            break
        name, sep, value = line.partition(":")
        if sep:
            name, value = name.strip(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _message(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"malformed JSON: {exc}"
    if isinstance(exc, CommandError):
        return str(exc)
    if isinstance(exc, pj.Error):
        return f"{exc.title}: {exc.reason} (status {exc.status})"
    return f"{type(exc).__name__}: {exc}"


def _wav_ok(path: str) -> bool:
    """Return whether ``path`` holds a readable WAV yet (pjmedia writes the header last)."""
    try:
        with wave.open(path, "rb") as wav:
            wav.getnframes()
    except (OSError, EOFError, wave.Error):
        return False
    return True


class _Call(pj.Call):  # type: ignore[misc]
    # An exception escaping a SWIG director callback would abort pjsip, hence ua.guard.
    def __init__(self, ua: UAProcess, call_id: str, pj_id: int) -> None:
        super().__init__(ua.acc, pj_id)
        self.ua, self.call_id = ua, call_id

    def onCallState(self, prm: Any) -> None:
        self.ua.guard(self.ua.on_call_state, self.call_id)

    def onCallMediaState(self, prm: Any) -> None:
        self.ua.guard(self.ua.on_media_state, self.call_id)

    def onDtmfDigit(self, prm: Any) -> None:
        self.ua.guard(lambda: self.ua.emit("dtmf", call_id=self.call_id, digit=prm.digit))


class _Account(pj.Account):  # type: ignore[misc]
    def __init__(self, ua: UAProcess) -> None:
        super().__init__()
        self.ua = ua

    def onRegState(self, prm: Any) -> None:
        self.ua.guard(self.ua.on_reg_state, prm.code, prm.reason, prm.expiration)

    def onIncomingCall(self, prm: Any) -> None:
        self.ua.guard(self.ua.on_incoming, prm.callId, prm.rdata.wholeMsg)


class UAProcess:
    """The user agent: owns the pjsua2 endpoint, one account and the calls."""

    def __init__(self, out: TextIO, args: argparse.Namespace) -> None:
        self.out, self.args = out, args
        self.bind: str = args.bind
        self.port: int = args.port
        self.ep: Any = None
        self.acc: Any = None
        self.defaults: Cmd = {}  # auto_answer, answer_delay_ms, tone, record from register
        self.slots: dict[str, CallSlot] = {}
        self.pending: list[tuple[str, str, float]] = []  # (call_id, path, deadline)
        self.quitting = False
        self.seq = 0
        self.rtp_base = random.randrange(10000, 58000, 2)
        self.tmp = Path(tempfile.mkdtemp(prefix="headless-ua-"))
        self.handlers: dict[str, Callable[[Cmd], object]] = {
            "register": self.cmd_register,
            "unregister": lambda _: self.acc.setRegistration(False),
            "call": self.cmd_call,
            "answer": lambda c: self.answer(self.slot(c), int(c.get("code", 200))),
            "reject": lambda c: self.hangup(self.slot(c), int(c.get("code", 486))),
            "hangup": lambda c: self.hangup(self.slot(c), int(c.get("code", 0))),
            "play_tone": lambda c: self.set_media(self.slot(c), tone=_opt_float(c.get("freq"))),
            "record": lambda c: self.set_media(self.slot(c), record=str(self.need(c, "path"))),
            "dtmf": lambda c: self.slot(c).call.dialDtmf(str(self.need(c, "digits"))),
            "ping": lambda _: self.emit("pong"),
            "quit": lambda _: setattr(self, "quitting", True),
        }

    def emit(self, event: str, **fields: Any) -> None:
        """Write one event line; a vanished controller means there is nobody left to serve."""
        try:
            self.out.write(json.dumps({"event": event, "ts": time.time(), **fields}) + "\n")
            self.out.flush()
        except (BrokenPipeError, ValueError):
            self.quitting = True

    def guard(self, fn: Callable[..., None], *args: Any) -> None:
        """Run a callback body, turning any exception into an error event."""
        try:
            fn(*args)
        except Exception as exc:
            self.emit("error", cmd=None, message=f"callback failed: {_message(exc)}")

    def start(self) -> None:
        """Create the endpoint, UDP transport and a registrar-less default account."""
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.medConfig.noVad = True
        cfg.medConfig.clockRate = cfg.medConfig.sndClockRate = self.args.clock_rate
        cfg.logConfig.consoleLevel = 1
        cfg.logConfig.level = 5 if self.args.log else 1
        if self.args.log:
            cfg.logConfig.filename = self.args.log
        self.ep.libInit(cfg)
        self.ep.audDevManager().setNullDev()
        if self.args.codecs != "all":
            wanted = [c.strip().lower() for c in self.args.codecs.split(",") if c.strip()]
            for info in self.ep.codecEnum2():
                keep = any(info.codecId.lower().startswith(w) for w in wanted)
                self.ep.codecSetPriority(info.codecId, 255 if keep else 0)
        tcfg = pj.TransportConfig()
        tcfg.boundAddress = self.bind
        tcfg.port = self.port
        tid = self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        self.port = int(self.ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
        self.ep.libStart()
        self.acc = _Account(self)
        self.acc.create(self.account_config({"id": f"sip:ua@{self.bind}:{self.port}"}))
        self.acc.setDefault()
        self.emit("ready", port=self.port, address=self.bind, pid=os.getpid())

    def pump(self, seconds: float, done: Callable[[], bool] = lambda: False) -> None:
        """Handle pjsua2 events for up to ``seconds`` or until ``done()``."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not done():
            self.ep.libHandleEvents(POLL_MS)
            self.tick()

    def tick(self) -> None:
        """Timers and deferred work that must not run inside a pjsua2 callback."""
        now = time.monotonic()
        for slot in list(self.slots.values()):
            if slot.answer_at is not None and now >= slot.answer_at and not slot.ended:
                self.guard(self.answer, slot, 200)
            if slot.ended:
                # Deleting a Call from inside its own callback is unsafe, so it happens here.
                slot.player = slot.player_freq = slot.media = None
                self.stop_recorder(slot)
                slot.call = None
                del self.slots[slot.call_id]
        for item in list(self.pending):
            call_id, path, deadline = item
            saved = _wav_ok(path)
            if saved or now > deadline:
                self.pending.remove(item)
                if saved:
                    self.emit("recording_saved", call_id=call_id, path=path)
                else:
                    self.emit("error", cmd="record", call_id=call_id, message=f"{path} unfinished")

    def shutdown(self) -> None:
        """Hang up, finalise recordings, drop calls and account, then destroy the library."""
        for slot in list(self.slots.values()):
            try:
                slot.call.hangup(_op())
            except pj.Error:
                slot.ended = True
        self.pump(2.0, lambda: not self.slots)
        for slot in self.slots.values():
            slot.ended = True
        self.tick()
        # Freed conference ports are destroyed asynchronously (pjmedia 2.15), so keep polling.
        self.pump(FINALIZE_TIMEOUT_S, lambda: not self.pending)
        self.pump(0.1)
        self.acc.shutdown()
        self.acc = None
        self.ep.libDestroy()
        self.ep = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    def handle_line(self, line: str) -> None:
        """Parse and run one command line, reporting failures as ``error`` events."""
        if not line.strip():
            return
        cmd: Cmd = {}
        try:
            parsed = json.loads(line)
            if not isinstance(parsed, dict):
                raise CommandError("a command must be a JSON object")
            cmd = parsed
            name = cmd.get("cmd")
            handler = self.handlers.get(name) if isinstance(name, str) else None
            if handler is None:
                raise CommandError(f"unknown command {name!r}")
            handler(cmd)
        except Exception as exc:
            extra = {k: cmd[k] for k in ("req", "call_id") if k in cmd}
            self.emit("error", cmd=cmd.get("cmd"), message=_message(exc), **extra)
            return
        if "req" in cmd:
            extra = {"call_id": cmd["call_id"]} if "call_id" in cmd else {}
            self.emit("ok", cmd=cmd["cmd"], req=cmd["req"], **extra)

    @staticmethod
    def need(cmd: Cmd, key: str) -> Any:
        """Return a required command field."""
        if cmd.get(key) in (None, ""):
            raise CommandError(f"missing {key!r}")
        return cmd[key]

    def slot(self, cmd: Cmd) -> CallSlot:
        """Return the live call a command refers to."""
        call_id = str(self.need(cmd, "call_id"))
        slot = self.slots.get(call_id)
        if slot is None or slot.ended:
            raise CommandError(f"no active call {call_id!r}")
        return slot

    def account_config(self, cmd: Cmd) -> Any:
        """Build an AccountConfig from a register command."""
        cfg = pj.AccountConfig()
        cfg.idUri = str(self.need(cmd, "id"))
        cfg.regConfig.registrarUri = cmd.get("registrar") or ""
        cfg.regConfig.registerOnAdd = bool(cmd.get("registrar"))
        cfg.regConfig.timeoutSec = int(cmd.get("expires", 300))
        rtp = cfg.mediaConfig.transportConfig
        # pjsua's fixed RTP base (4000) makes UAs sharing a host collide, and a reused port
        # can receive a stale peer's stream; a random base keeps concurrent UAs apart.
        rtp.port, rtp.portRange = self.rtp_base, 2000
        if self.bind not in ("", "0.0.0.0", "::"):
            rtp.boundAddress = self.bind  # also what the SDP advertises
        if cmd.get("proxy"):
            cfg.sipConfig.proxies.append(str(cmd["proxy"]))
        if cmd.get("username"):
            realm, user = str(cmd.get("realm", "*")), str(cmd["username"])
            cred = pj.AuthCredInfo("digest", realm, user, 0, str(cmd.get("password", "")))
            cfg.sipConfig.authCreds.append(cred)
        return cfg

    def cmd_register(self, cmd: Cmd) -> None:
        """Reconfigure the account; registers when a registrar is given."""
        self.acc.modify(self.account_config(cmd))
        self.defaults = {
            "auto_answer": bool(cmd.get("auto_answer", False)),
            "answer_delay_ms": int(cmd.get("answer_delay_ms", 0)),
            "tone": _opt_float(cmd.get("tone")),
            "record": cmd.get("record") or None,
        }
        self.emit("account_created", id=cmd["id"], registrar=cmd.get("registrar") or None)

    def cmd_call(self, cmd: Cmd) -> None:
        """Place an outgoing call."""
        uri = str(self.need(cmd, "uri"))
        self.seq += 1
        call_id = str(cmd.get("call_id") or f"c{self.seq}")
        if call_id in self.slots:
            raise CommandError(f"call_id {call_id!r} is already in use")
        cmd["call_id"] = call_id  # echoed in the ``ok`` so callers learn a generated id
        tone = _opt_float(cmd.get("tone", self.defaults.get("tone")))
        slot = CallSlot(call_id, "out", tone, cmd.get("record", self.defaults.get("record")))
        slot.call = _Call(self, call_id, pj.PJSUA_INVALID_ID)
        self.slots[call_id] = slot
        prm = _op()
        for name, value in (cmd.get("headers") or {}).items():
            hdr = pj.SipHeader()
            hdr.hName, hdr.hValue = str(name), str(value)
            prm.txOption.headers.append(hdr)
        try:
            slot.call.makeCall(uri, prm)
        except Exception:
            del self.slots[call_id]
            raise

    def answer(self, slot: CallSlot, code: int) -> None:
        """Answer an incoming call (a manual answer supersedes a pending auto-answer)."""
        slot.answer_at = None
        slot.call.answer(_op(code))

    def hangup(self, slot: CallSlot, code: int) -> None:
        """Hang up, cancel or reject a call (code 0 lets pjsua pick)."""
        slot.answer_at = None
        slot.call.hangup(_op(code))

    def on_reg_state(self, code: int, reason: str, expires: int) -> None:
        """Report a registration outcome."""
        if code // 100 == 2:
            self.emit("registered" if expires > 0 else "unregistered", code=code, reason=reason)
        else:
            self.emit("registration_failed", code=code, reason=reason)

    def on_incoming(self, pj_id: int, whole_msg: str) -> None:
        """Announce an incoming call, ring, and schedule auto-answer."""
        self.seq += 1
        call_id = f"i{self.seq}"
        slot = CallSlot(call_id, "in", self.defaults.get("tone"), self.defaults.get("record"))
        slot.call = _Call(self, call_id, pj_id)
        self.slots[call_id] = slot
        ci = slot.call.getInfo()
        peers = {"from": ci.remoteUri, "to": ci.localUri}
        headers = _sip_headers(whole_msg)
        self.emit(
            "incoming", call_id=call_id, sip_call_id=ci.callIdString, headers=headers, **peers
        )
        slot.call.answer(_op(180))
        if self.defaults.get("auto_answer"):
            slot.answer_at = time.monotonic() + self.defaults["answer_delay_ms"] / 1000

    def on_call_state(self, call_id: str) -> None:
        """Translate an INVITE session state change into an event."""
        slot = self.slots.get(call_id)
        if slot is None or slot.call is None:
            return
        ci = slot.call.getInfo()
        name = STATE_EVENTS.get(ci.state)
        if name is None:
            return
        if name == "progress" and ci.lastStatusCode == 180:
            name = "ringing"
        fields: Cmd = {"code": ci.lastStatusCode, "reason": ci.lastReason}
        if name == "disconnected":
            slot.ended = True
            fields["duration"] = ci.connectDuration.sec + ci.connectDuration.msec / 1000
        self.emit(name, call_id=call_id, direction=slot.direction, **fields)

    def on_media_state(self, call_id: str) -> None:
        """Hook up tone and recorder once the call's audio is active."""
        slot = self.slots.get(call_id)
        if slot is None or slot.call is None:
            return
        ci = slot.call.getInfo()  # the media vector dies with a temporary CallInfo
        for mi in ci.media:
            if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                slot.media = slot.call.getAudioMedia(mi.index)
                self.set_media(slot)
                self.emit("media_active", call_id=call_id)
                return

    def set_media(self, slot: CallSlot, **changes: Any) -> None:
        """Update a call's tone/record options and, once media is up, its player/recorder."""
        for key, value in changes.items():
            setattr(slot, key, value)
        if slot.media is None:
            return
        if slot.tone != slot.player_freq:
            slot.player, slot.player_freq = None, slot.tone  # pjmedia frees it asynchronously
            if slot.tone:
                tone_file = self.tmp / f"tone-{slot.tone:g}.wav"
                if not tone_file.exists():
                    # Whole seconds keep integer-Hz loops seamless; pjmedia adds a silent frame
                    # at each wrap-around, so a long file keeps those rare.
                    write_sine_wav(tone_file, slot.tone, duration_s=TONE_FILE_S)
                slot.player = pj.AudioMediaPlayer()
                slot.player.createPlayer(str(tone_file), 0)
                slot.player.startTransmit(slot.media)
        path = slot.record.replace("{call_id}", slot.call_id) if slot.record else None
        if path != slot.record_path:
            self.stop_recorder(slot)
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                slot.recorder = pj.AudioMediaRecorder()
                slot.recorder.createRecorder(path)
                slot.media.startTransmit(slot.recorder)
                slot.record_path = path
                self.emit("recording", call_id=slot.call_id, path=path)

    def stop_recorder(self, slot: CallSlot) -> None:
        """Free a recorder; ``tick`` reports the WAV once pjmedia has written its header."""
        if slot.recorder is not None and slot.record_path:
            slot.recorder = None
            deadline = time.monotonic() + FINALIZE_TIMEOUT_S
            self.pending.append((slot.call_id, slot.record_path, deadline))
        slot.record_path = None


def _claim_stdout() -> TextIO:
    """Keep the real stdout for events and point fd 1 at stderr so C-level prints can't leak."""
    sys.stdout.flush()
    events = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return events


def main(argv: list[str] | None = None) -> int:
    """Run the user agent until ``quit``, stdin EOF, SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", default=None, help="pjsua2 log file (verbose)")
    # speex (pjsua's first choice) intermittently garbles received audio while the same side
    # sends RFC 4733 DTMF; G.711 is also what Asterisk speaks, so it is the default.
    parser.add_argument("--codecs", default="PCMU,PCMA", help="codec prefixes, or 'all'")
    parser.add_argument("--clock-rate", type=int, default=8000, help="conference bridge rate")
    ua = UAProcess(_claim_stdout(), parser.parse_args(argv))

    def request_quit(*_: object) -> None:
        ua.quitting = True

    signal.signal(signal.SIGTERM, request_quit)
    signal.signal(signal.SIGINT, request_quit)
    try:
        ua.start()
    except Exception as exc:
        ua.emit("error", cmd="start", message=_message(exc))
        shutil.rmtree(ua.tmp, ignore_errors=True)
        return 1
    try:
        _serve(ua)
    finally:
        ua.shutdown()
        ua.emit("exited")
    return 0


def _serve(ua: UAProcess) -> None:
    """Poll pjsua2 and stdin on this (main) thread until asked to quit."""
    fd, buf = sys.stdin.fileno(), b""
    while not ua.quitting:
        ua.ep.libHandleEvents(POLL_MS)
        # select() with a zero timeout reads stdin on the pjsua2 thread without blocking it.
        while not ua.quitting and select.select([fd], [], [], 0)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                ua.handle_line(buf.decode("utf-8", "replace"))
                ua.quitting = True
                break
            *lines, buf = (buf + chunk).split(b"\n")
            for line in lines:
                ua.handle_line(line.decode("utf-8", "replace"))
        ua.tick()


if __name__ == "__main__":
    sys.exit(main())
