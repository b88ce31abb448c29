"""`phones run`: the product in the foreground until Ctrl-C or `phones stop`.

Ctrl-C (SIGINT) and SIGTERM are a deliberate stop: the engine stops taking calls, then
stops everything it started, Asterisk included. SIGKILL leaves Asterisk and its calls up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from pbx.carrier import CarrierPhone, carrier_plan
from pbx.config import Ports
from pbx.instance import AsteriskInstance, InstanceSettings
from pbx.runtime import find_runtime
from server.app import Engine
from server.config import Config
from server.db.engine import create_engine
from server.db.migrate import upgrade_async as migrate
from server.demo import DemoData, ensure_demo
from server.engine_info import read_engine_info

log = logging.getLogger(__name__)


def carrier_instance(config: Config) -> AsteriskInstance:
    """The demo carrier Asterisk (a PSTN stand-in) beside the platform's."""
    runtime = find_runtime(config.asterisk.binary)
    directory = config.state_dir.resolve() / "carrier"
    cfg = config.asterisk
    ports = Ports(
        cfg.sip_port + 10, cfg.http_port + 10, cfg.ami_port + 10, cfg.rtp_end + 1, cfg.rtp_end + 400
    )
    return AsteriskInstance(
        runtime, InstanceSettings("carrier", directory, bind=cfg.bind, ports=ports)
    )


async def serve(config: Config, demo: bool, with_carrier: bool) -> int:
    """Run until a stop signal; return the exit code."""
    carrier = carrier_instance(config) if with_carrier else None
    data: DemoData | None = None
    if demo:
        await migrate(config.database.url)
        db = create_engine(config.database.url)
        try:
            data = await ensure_demo(
                async_sessionmaker(db),
                config.state_dir.resolve(),
                carrier.ports.sip if carrier else None,
            )
        finally:
            await db.dispose()
    engine = Engine(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[None]] = set()

    def reload() -> None:
        # SIGHUP: provisioning changed behind our back (the CLI); re-render and reload.
        task = asyncio.create_task(engine.apply_provisioning())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload)
    try:
        await engine.start()
        if carrier is not None:
            phones = [CarrierPhone("pstn-caller", data.caller.sip_password if data else "x")]
            await carrier.start(
                carrier_plan(config.asterisk.bind, config.asterisk.sip_port, phones)
            )
        print(banner(engine, data, carrier), flush=True)
        await stop.wait()
        print("\n[phones] stopping…", flush=True)
    finally:
        await engine.stop(stop_asterisk=True)
        if carrier is not None:
            await carrier.stop()
    return 0


def banner(engine: Engine, data: DemoData | None, carrier: AsteriskInstance | None) -> str:
    """What a newcomer needs after `make run`."""
    assert engine.asterisk is not None
    sip = f"{engine.config.asterisk.bind}:{engine.asterisk.ports.sip}"
    out = [
        "",
        "phones is running",
        f"  API:      {engine.api_url}   (OpenAPI: {engine.api_url}/openapi.json)",
        f"  Health:   {engine.api_url}/healthz",
        f"  PhoneBar: {engine.api_url}/phonebar/   (log in as an agent below)",
        f"  SIP:      udp {sip}",
    ]
    if data is not None:
        out.append(f"  Tenant:   {data.tenant}")
        for staff in data.staff:
            out.append(f"  {staff.role:<9} {staff.username} / {staff.password}")
        for agent in data.agents:
            out.append(
                f"  agent     {agent.username} / {agent.password}   SIP "
                f"{agent.sip_username} / {agent.sip_password}   ({agent.service})"
            )
        out.append(f"  caller    SIP {data.caller.sip_username} / {data.caller.sip_password}")
        for line in data.lines:
            out.append(f"  line      {line['number']} → {line['service']}")
        out += [
            "",
            "Try it (in another terminal):",
            "  .venv/bin/phones demo call --line 2001     # a simulated caller and agent",
            f"  or register a softphone as an agent ({sip}), go ready with the API,",
            f"  and call 2001 from a second softphone registered as {data.caller.sip_username}.",
        ]
    if carrier is not None:
        out.append(
            f"  Carrier:  udp {engine.config.asterisk.bind}:{carrier.ports.sip} "
            "(register pstn-caller with the caller's SIP password; dial 390212345001)"
        )
    out.append("Ctrl-C stops everything.")
    return "\n".join(out)


def stop_running(state_dir: Path, timeout: float = 30.0) -> int:
    """Send SIGTERM to the running engine and wait for it to exit."""
    info = read_engine_info(state_dir.resolve())
    if info is None:
        print("phones: no engine is running here", file=sys.stderr)
        return 1
    with contextlib.suppress(ProcessLookupError):
        os.kill(info.pid, signal.SIGTERM)
    for _ in range(int(timeout * 10)):
        try:
            os.kill(info.pid, 0)
        except ProcessLookupError:
            return 0
        time.sleep(0.1)
    print(f"phones: engine {info.pid} did not stop in {timeout:.0f}s", file=sys.stderr)
    return 1
