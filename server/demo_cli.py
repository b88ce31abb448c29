"""`phones demo info`, `phones demo call` and `phones agent`: trying the demo from a terminal.

The simulated caller and the headless agent are pjsua2 user agents, each in its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from phonebar.headless import HeadlessUA, HeadlessUAError
from phonebar.tones import has_sound, has_tone
from server.config import Config
from server.demo import DemoAccount, DemoData
from server.engine_info import EngineInfo, read_engine_info

CALLER_TONE, AGENT_TONE = 700.0, 1300.0


class DemoNotRunning(RuntimeError):
    """No running demo engine was found."""


def _running(config: Config) -> tuple[EngineInfo, DemoData]:
    state_dir = config.state_dir.resolve()
    info = read_engine_info(state_dir)
    demo_file = state_dir / "demo.json"
    if info is None or not demo_file.exists():
        raise DemoNotRunning(f"no demo is running with state in {state_dir}: start `make run`")
    return info, DemoData.load(demo_file)


def demo_info(config: Config) -> dict[str, Any]:
    """The running demo as the acceptance contract describes it."""
    info, data = _running(config)
    return {
        "api": info.api,
        "sip": {"host": info.sip_host, "port": info.sip_port, "transport": "udp"},
        "tenant": data.tenant,
        "agents": [
            {
                "username": a.username,
                "password": a.password,
                "sip_username": a.sip_username,
                "sip_password": a.sip_password,
                "service": a.service,
            }
            for a in data.agents
        ],
        "staff": [
            {"username": s.username, "password": s.password, "role": s.role} for s in data.staff
        ],
        "caller": {
            "sip_username": data.caller.sip_username,
            "sip_password": data.caller.sip_password,
        },
        "lines": data.lines,
    }


async def _api(
    http: aiohttp.ClientSession, method: str, url: str, token: str | None = None, body: Any = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.request(method, url, json=body, headers=headers) as response:
        payload = await response.json()
        if response.status >= 400:
            raise RuntimeError(f"{method} {url}: {response.status} {payload}")
        return payload


async def _agent_phone(info: EngineInfo, agent: DemoAccount, workdir: Path) -> HeadlessUA:
    ua = HeadlessUA(f"agent-{agent.username}", log_path=workdir / f"{agent.username}.log")
    await ua.start()
    registrar = f"sip:{info.sip_host}:{info.sip_port}"
    await ua.register(
        f"sip:{agent.sip_username}@{info.sip_host}",
        registrar=registrar,
        username=agent.sip_username,
        password=agent.sip_password,
        auto_answer=True,
        answer_delay_ms=300,
        tone=AGENT_TONE,
        record=str(workdir / "agent-{call_id}.wav"),
    )
    return ua


def _heard(workdir: Path, pattern: str, freq: float) -> bool:
    return any(has_tone(path, freq) for path in workdir.glob(pattern))


def _sounded(workdir: Path, pattern: str) -> bool:
    return any(has_sound(path) for path in workdir.glob(pattern))


async def demo_call(
    config: Config, line: str | None, seconds: float, with_agent: bool = True
) -> int:
    """Call a line as the demo caller, answered by the line's headless agent; print it all.

    Without the headless agent, a person answers (in the PhoneBar, or on a softphone): the
    call waits up to two minutes for them, and only the caller's side of the audio is checked.
    """
    try:
        info, data = _running(config)
    except DemoNotRunning as exc:
        print(f"phones: {exc}")
        return 1
    target = next((x for x in data.lines if line is None or x["number"] == line), None)
    if target is None:
        print(f"phones: no demo line {line}; lines: {', '.join(x['number'] for x in data.lines)}")
        return 1
    agent = next(a for a in data.agents if a.service == target["service"])
    workdir = Path(tempfile.mkdtemp(prefix="phones-demo-call-"))
    async with aiohttp.ClientSession() as http:
        token = (
            await _api(
                http,
                "POST",
                f"{info.api}/api/v1/auth/login",
                body={
                    "tenant": data.tenant,
                    "username": agent.username,
                    "password": agent.password,
                },
            )
        )["token"]
        agent_ua = await _agent_phone(info, agent, workdir) if with_agent else None
        caller = HeadlessUA("caller", log_path=workdir / "caller.log")
        try:
            await caller.start()
            await caller.register(
                f"sip:{data.caller.sip_username}@{info.sip_host}",
                registrar=f"sip:{info.sip_host}:{info.sip_port}",
                username=data.caller.sip_username,
                password=data.caller.sip_password,
            )
            if agent_ua is not None:
                print(f"agent {agent.username} registered; going ready")
                await _api(
                    http, "PUT", f"{info.api}/api/v1/agents/me/state", token, {"state": "ready"}
                )
            else:
                print(f"answer it as {agent.username} in the PhoneBar: {info.api}/phonebar/")
            print(f"calling {target['number']} ({target['service']}) as the demo caller…")
            call_id = await caller.call(
                f"sip:{target['number']}@{info.sip_host}:{info.sip_port}",
                tone=CALLER_TONE,
                record=str(workdir / "caller-{call_id}.wav"),
            )
            await caller.wait_for("confirmed", call_id=call_id, timeout=30 if agent_ua else 120)
            print(
                f"connected; talking for {seconds:.0f}s (caller {CALLER_TONE:.0f} Hz, "
                f"agent {AGENT_TONE:.0f} Hz)"
            )
            await asyncio.sleep(seconds)
            await caller.hangup(call_id)
            await caller.wait_for("disconnected", call_id=call_id, timeout=10)
        except HeadlessUAError as exc:
            print(f"phones: the call failed: {exc}")
            return 1
        finally:
            await caller.stop()
            if agent_ua is not None:
                await agent_ua.stop()
        # A person answering sends their voice, not our tone: check that sound arrived at all.
        heard_agent = (
            _heard(workdir, "caller-*.wav", AGENT_TONE)
            if agent_ua
            else _sounded(workdir, "caller-*.wav")
        )
        heard_caller = _heard(workdir, "agent-*.wav", CALLER_TONE) if agent_ua else True
        print(
            f"audio: caller heard the agent: {'yes' if heard_agent else 'NO'}; "
            f"agent heard the caller: {'yes' if heard_caller else 'NO'}"
        )
        await asyncio.sleep(0.5)
        page = await _api(http, "GET", f"{info.api}/api/v1/interactions?limit=1", token)
        if agent_ua is not None:
            await _api(
                http, "PUT", f"{info.api}/api/v1/agents/me/state", token, {"state": "offline"}
            )
    if page["items"]:
        item = page["items"][0]
        print(
            f"interaction {item['id']}: {item['ani']} → {item['dnis']} ({item['service']}), "
            f"{item['state']}, {item['end_reason'] or ''}"
        )
        for event in item["events"]:
            extra = json.dumps(event["data"]) if event["data"] else ""
            print(f"  {event['at']}  {event['type']:<16} {extra}")
    return 0 if heard_agent and heard_caller else 1


async def run_agent(config: Config, username: str) -> int:
    """A headless demo agent: register, log in, go ready, auto-answer until Ctrl-C."""
    info, data = _running(config)
    agent = next((a for a in data.agents if a.username == username), None)
    if agent is None:
        print(
            f"phones: no demo agent {username!r}; agents: "
            f"{', '.join(a.username for a in data.agents)}"
        )
        return 1
    workdir = Path(tempfile.mkdtemp(prefix=f"phones-agent-{username}-"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession() as http:
        token = (
            await _api(
                http,
                "POST",
                f"{info.api}/api/v1/auth/login",
                body={"tenant": data.tenant, "username": username, "password": agent.password},
            )
        )["token"]
        ua = await _agent_phone(info, agent, workdir)
        try:
            await _api(http, "PUT", f"{info.api}/api/v1/agents/me/state", token, {"state": "ready"})
            print(f"agent {username} is ready and answers automatically; Ctrl-C to stop")
            seen = 0
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
                for event in ua.history[seen:]:
                    if event["event"] in ("incoming", "confirmed", "disconnected"):
                        print(f"  {event['event']}: {event.get('from', '')}")
                seen = len(ua.history)
        finally:
            with contextlib.suppress(Exception):
                await _api(
                    http, "PUT", f"{info.api}/api/v1/agents/me/state", token, {"state": "offline"}
                )
            await ua.stop()
    return 0
