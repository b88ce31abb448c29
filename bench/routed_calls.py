"""Routed calls: our engine (ARI) against Asterisk's own app_queue, on the same platform.

Prints figures, never pass/fail. Run it inside the test network namespace:

    scripts/in-test-netns .venv/bin/python bench/routed_calls.py [--calls N] [--agents M]
        [--rates 2,5,10,20,40] [--talk-s T] [--keep]

Setup: a carrier Asterisk (the PSTN) and the engine (`phones run --demo`, SQLite) with its
platform Asterisk. Through the API: a carrier trunk, a line to the Sales service (wrap-up 0),
and M agents, logged in and ready. The agents' phones are the carrier itself: it registers
to the platform as every agent and answers their calls at once, holds 0.5-1.5 x `talk_s`
(uniformly random), hangs up.
The engine runs with the bench-only switch `[asterisk] bench_app_queue` on, so a reserved
number goes to a native app_queue whose members are the same agents.

For each rate, each path gets the same bounded load: the carrier originates N callers at a
fixed rate, to the line (ours) or to the reserved number (app_queue). Setup latency is timed
on the carrier from its AMI events: caller leg created (INVITE to the platform) → agent leg
answered (200 OK to the platform). CPU is read from /proc for the engine and the platform
Asterisk before and after each run (wrap-up and hang-ups included), per routed call.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform as host
import shlex
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._carrier_load import CarrierLoad, RunResult, cpu_seconds  # noqa: E402
from pbx.ami import AmiClient  # noqa: E402
from pbx.carrier import AgentAccount, carrier_plan  # noqa: E402
from pbx.config import BENCH_APP_QUEUE_NUMBER  # noqa: E402
from pbx.instance import AsteriskInstance, InstanceSettings, allocate_ports, free_port  # noqa: E402
from pbx.runtime import AsteriskRuntime, find_runtime  # noqa: E402
from tests.testbed import ApiClient, EngineProcess  # noqa: E402

LINE = "5551001"
SERVICE = "Sales"
PATHS = ("ours", "app_queue")
P99_LIMIT_MS = 50.0
OFFER_TIMEOUT_S = 5
WARM_UP_CALLS = 10
# In the private network namespace nothing else uses these: room for many concurrent calls.
PLATFORM_RTP = (20000, 29999)
CARRIER_RTP = (30000, 39999)


@dataclass
class Agent:
    """A bench agent: API login and SIP account."""

    username: str
    password: str
    sip_username: str
    sip_password: str


@dataclass
class Bed:
    """Everything a run needs."""

    engine: EngineProcess
    carrier: AsteriskInstance
    platform: AsteriskInstance
    admin: ApiClient
    agents: list[Agent]
    carrier_ami: AmiClient
    load: CarrierLoad

    def engine_pid(self) -> int:
        """The engine's pid, as it publishes it."""
        info: dict[str, Any] = json.loads((self.engine.directory / "engine.json").read_text())
        return int(info["pid"])


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="calls per rate and path")
    parser.add_argument("--agents", type=int, default=60, help="agents (carrier registrations)")
    parser.add_argument("--rates", default="2,5,10,20,40", help="calls per second, comma-separated")
    parser.add_argument("--talk-s", type=float, default=1.0, help="mean hold time of an agent (s)")
    parser.add_argument("--paths", default=",".join(PATHS), help="ours and/or app_queue")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)
    args.rate_list = [float(r) for r in args.rates.split(",") if r.strip()]
    args.path_list = [p for p in PATHS if p in args.paths.split(",")]
    if not args.path_list:
        parser.error(f"--paths: choose from {', '.join(PATHS)}")
    if args.calls < 1 or args.agents < 1 or not args.rate_list or min(args.rate_list) <= 0:
        parser.error("calls, agents and rates must be positive")
    return args


async def setup(
    runtime: AsteriskRuntime,
    workdir: Path,
    args: argparse.Namespace,
    stack: contextlib.AsyncExitStack,
) -> Bed:
    """Engine, carrier, trunk, line, agents registered (by the carrier) and ready.

    Whatever starts is stopped by `stack` (the engine stops its platform Asterisk).
    """
    engine_ports = replace(allocate_ports(), rtp_start=PLATFORM_RTP[0], rtp_end=PLATFORM_RTP[1])
    carrier_ports = replace(allocate_ports(), rtp_start=CARRIER_RTP[0], rtp_end=CARRIER_RTP[1])
    taken = {engine_ports.sip, carrier_ports.sip}
    agents_port = free_port(kind=socket.SOCK_DGRAM)
    while agents_port in taken:
        agents_port = free_port(kind=socket.SOCK_DGRAM)
    engine = EngineProcess(
        workdir / "engine",
        engine_ports,
        f"sqlite+aiosqlite:///{workdir / 'engine' / 'phones.sqlite3'}",
        env={"PHONES_ASTERISK_BENCH_APP_QUEUE": "true"},
    )
    engine.directory.mkdir(parents=True)
    stack.push_async_callback(engine.stop)
    await engine.start()
    admin = ApiClient(engine.api)
    stack.push_async_callback(admin.close)
    staff = next(s for s in engine.demo().staff if s.role == "admin")
    await admin.login("demo", staff.username, staff.password)
    trunk_body = {"name": "carrier", "host": "127.0.0.1", "port": carrier_ports.sip}
    status, trunk = await admin.call("POST", "/api/v1/trunks", trunk_body)
    assert status == 201, trunk
    _, services = await admin.call("GET", "/api/v1/services")
    service_id = next(s["id"] for s in services["items"] if s["name"] == SERVICE)
    status, body = await admin.call(
        "POST",
        "/api/v1/lines",
        {"number": LINE, "name": "bench", "service_id": service_id, "trunk_id": trunk["id"]},
    )
    assert status == 201, body
    status, body = await admin.call(
        "PATCH",
        f"/api/v1/services/{service_id}",
        {
            "offer_timeout_s": OFFER_TIMEOUT_S,
            "wrap_up_s": 0,
            "max_wait_s": None,
            "no_answer_rule": "ready",
        },
    )
    assert status == 200, body
    started = time.monotonic()
    agents = []
    for i in range(1, args.agents + 1):
        password = f"bench-password-{i}"
        status, user = await admin.call(
            "POST",
            "/api/v1/users",
            {
                "username": f"bench{i:04d}",
                "display_name": f"Bench Agent {i}",
                "role": "agent",
                "password": password,
                "skills": {"sales": 5},
            },
        )
        assert status == 201, user
        agents.append(Agent(user["username"], password, user["sip_username"], user["sip_password"]))
    print(f"# {len(agents)} agents created through the API in {time.monotonic() - started:.1f}s")
    carrier = AsteriskInstance(
        runtime, InstanceSettings("carrier", workdir / "carrier", ports=carrier_ports)
    )
    accounts = [
        AgentAccount(a.sip_username, a.sip_password, f"agent{i}") for i, a in enumerate(agents)
    ]
    stack.push_async_callback(carrier.stop)
    await carrier.start(carrier_plan("127.0.0.1", engine_ports.sip, (), accounts, agents_port))
    platform = AsteriskInstance(
        runtime, InstanceSettings("platform", engine.directory / "asterisk", ports=engine_ports)
    )
    await wait_agents(admin, agents, reachable=True, timeout_s=60)
    started = time.monotonic()
    for agent in agents:
        client = ApiClient(engine.api)
        try:
            await client.login("demo", agent.username, agent.password)
            status, body = await client.call("PUT", "/api/v1/agents/me/state", {"state": "ready"})
            assert status == 200, body
        finally:
            await client.close()
    await wait_agents(admin, agents, ready=True, timeout_s=30)
    print(f"# {len(agents)} agents logged in and ready in {time.monotonic() - started:.1f}s")
    carrier_ami = carrier.ami_client(events=True)
    await carrier_ami.connect()
    stack.push_async_callback(carrier_ami.close)
    await carrier_ami.action("Setvar", Variable="BENCH_TALK_S", Value=f"{args.talk_s:g}")
    load = CarrierLoad(carrier_ami)
    await load.subscribe()
    return Bed(engine, carrier, platform, admin, agents, carrier_ami, load)


async def wait_agents(
    admin: ApiClient,
    agents: list[Agent],
    timeout_s: float,
    reachable: bool = False,
    ready: bool = False,
) -> bool:
    """Wait until every bench agent is reachable (and/or ready) in the engine."""
    names = {a.username for a in agents}
    deadline = time.monotonic() + timeout_s
    missing: list[str] = []
    while time.monotonic() < deadline:
        _, body = await admin.call("GET", "/api/v1/live/agents")
        missing = [
            a["username"]
            for a in body["items"]
            if a["username"] in names
            and ((reachable and not a["reachable"]) or (ready and a["state"] != "ready"))
        ]
        if not missing:
            return True
        await asyncio.sleep(0.25)
    what = "reachable" if reachable else "ready"
    print(f"# warning: {len(missing)} agents not {what} after {timeout_s:.0f}s: {missing[:5]}")
    return False


async def run_one(
    bed: Bed, path: str, rate: float, count: int, talk_s: float, record: bool = True
) -> RunResult:
    """One bounded run of `count` calls at `rate` through one path."""
    dnis = LINE if path == "ours" else BENCH_APP_QUEUE_NUMBER
    await wait_agents(bed.admin, bed.agents, ready=True, timeout_s=20)
    await asyncio.sleep(0.5)  # let the idle engine and Asterisk settle
    if record:
        print(f"# running {path} at {rate:g}/s ({count} calls)", flush=True)
    pids = (bed.engine_pid(), bed.platform.pid(), bed.carrier.pid())
    before = [cpu_seconds(pid) for pid in pids]
    started = time.monotonic()
    calls = await bed.load.run(dnis, rate, count, answer_timeout_s=15)
    left = await bed.load.drain(calls, timeout_s=1.5 * talk_s + 15)
    await asyncio.sleep(0.5)  # the last hang-ups and wrap-ups reach the engine
    after = [cpu_seconds(pid) for pid in pids]
    wall = time.monotonic() - started
    engine_cpu, asterisk_cpu, carrier_cpu = (b - a for a, b in zip(before, after, strict=True))
    result = RunResult(path, rate, calls, engine_cpu, asterisk_cpu, carrier_cpu, wall)
    if left:
        result.extra["hung_up_by_bench"] = str(left)
    if record:
        print_progress(result)
    return result


def print_progress(r: RunResult) -> None:
    """One line per run as it finishes."""
    reasons: dict[str, int] = {}
    for call in r.calls:
        if call.setup_ms is None or call.failed:
            reasons[call.failed or "unknown"] = reasons.get(call.failed or "unknown", 0) + 1
    failures = "; ".join(f"{n} x {why}" for why, n in reasons.items())
    answer, route, pick_up = r.phases_p50()
    print(
        f"# {r.path:<9} {r.rate:>5g}/s: {len(r.routed)}/{r.attempted} routed, "
        f"p50 {r.percentile(50):.1f} ms (caller answered {answer:.1f} + agent INVITE "
        f"{route:.1f} + agent answered {pick_up:.1f}), p99 {r.percentile(99):.1f} ms, "
        f"{r.wall_s:.1f}s"
        + (f"; failed: {failures}" if failures else "")
        + (f"; the bench hung up {r.extra['hung_up_by_bench']} channels" if r.extra else ""),
        flush=True,
    )


def fmt(value: float, digits: int = 1) -> str:
    """A number, or '-' for NaN."""
    return "-" if value != value else f"{value:.{digits}f}"


def print_tables(results: list[RunResult]) -> None:
    """A table per path, then the ratios at the best clean rate and the best throughput."""
    titles = {
        "ours": "ours: trunk → Stasis → engine (router, history in SQLite) → ARI originate",
        "app_queue": "app_queue: trunk → dialplan → Queue(bench), leastrecent, autofill",
    }
    header = (
        f"{'rate/s':>7} {'attempted':>9} {'routed':>6} {'failed':>6} {'calls/s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'engine ms/call':>14} {'asterisk ms/call':>16}"
    )
    for path in (p for p in PATHS if any(r.path == p for r in results)):
        print(f"\n{titles[path]}")
        print(header)
        for r in (r for r in results if r.path == path):
            print(
                f"{r.rate:>7g} {r.attempted:>9} {len(r.routed):>6} {r.failed:>6} "
                f"{fmt(r.achieved_rate):>7} {fmt(r.percentile(50)):>7} "
                f"{fmt(r.percentile(99)):>7} {fmt(r.cpu_ms_per_call(r.engine_cpu_s)):>14} "
                f"{fmt(r.cpu_ms_per_call(r.asterisk_cpu_s)):>16}"
            )
    print(
        "\n(calls/s: routed calls over the span of agent answers; engine ms/call under "
        "app_queue: what the idle engine spent meanwhile on AMI and ARI endpoint events; "
        "app_queue's setup includes ~20 ms of the dialplan's Answer() waiting for the "
        "caller's first audio frame, which ARI's answer does not wait for)"
    )
    paths = [p for p in PATHS if any(r.path == p for r in results)]
    highest = max(r.rate for r in results)
    print(f"\nhighest rate with no failure and p99 ≤ {P99_LIMIT_MS:.0f} ms:")
    clean: dict[str, float] = {}
    for path in paths:
        rates = [r.rate for r in results if r.path == path and r.clean(P99_LIMIT_MS)]
        if rates:
            clean[path] = max(rates)
            cap = " (the highest rate tried: a lower bound)" if clean[path] == highest else ""
            print(f"  {path:<9} {clean[path]:g} calls/s{cap}")
        else:
            lowest = min((r for r in results if r.path == path), key=lambda r: r.rate)
            print(
                f"  {path:<9} none of the rates tried (at {lowest.rate:g}/s: "
                f"{lowest.failed} failed, p99 {fmt(lowest.percentile(99))} ms)"
            )
    if len(clean) == 2:
        print(f"ratio ours/app_queue: {clean['ours'] / clean['app_queue']:.2f}")
    elif len(paths) == 2:
        print("ratio ours/app_queue: n/a (a path was clean at none of the rates tried)")
    print("highest calls/s achieved in a run with no failure (throughput, latency aside):")
    throughput: dict[str, float] = {}
    for path in paths:
        achieved = [r.achieved_rate for r in results if r.path == path and r.failed == 0]
        achieved = [a for a in achieved if a == a]
        if achieved:
            throughput[path] = max(achieved)
            print(f"  {path:<9} {throughput[path]:.1f} calls/s")
        else:
            print(f"  {path:<9} none")
    if len(throughput) == 2:
        print(f"ratio ours/app_queue: {throughput['ours'] / throughput['app_queue']:.2f}")
    for rate in sorted({r.rate for r in results}):
        pair = {r.path: r for r in results if r.rate == rate}
        if len(pair) == 2:
            o, q = pair["ours"], pair["app_queue"]
            ours_total = o.cpu_ms_per_call(o.engine_cpu_s + o.asterisk_cpu_s)
            print(
                f"  at {rate:g}/s: p99 ours/app_queue {fmt(o.percentile(99) / q.percentile(99), 2)}"
                f", CPU per call ours (engine + Asterisk) {fmt(ours_total, 2)} ms vs app_queue "
                f"(Asterisk) {fmt(q.cpu_ms_per_call(q.asterisk_cpu_s), 2)} ms"
            )


def describe(args: argparse.Namespace, runtime: AsteriskRuntime) -> None:
    """The command line, parameters and machine."""
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", "bench/routed_calls.py"])
    command += "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print(f"# routed calls — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# command: scripts/in-test-netns {command}")
    print(
        f"# calls per rate and path {args.calls}, agents {args.agents}, rates "
        f"{','.join(f'{r:g}' for r in args.rate_list)}/s, talk {args.talk_s:g}s (mean; 0.5-1.5x), "
        f"offer timeout {OFFER_TIMEOUT_S}s, wrap-up 0s, warm-up {WARM_UP_CALLS} calls per path"
    )
    print(
        f"# machine: {os.cpu_count()} CPUs ({cpu}), Python {host.python_version()}, "
        f"Asterisk {runtime.version}{' (chroot)' if runtime.chroot else ''}, engine DB SQLite"
    )
    print(f"# load average at start: {_loadavg()}")
    peak = max(args.rate_list) * args.talk_s
    if peak > 0.8 * args.agents:
        print(
            f"# warning: at {max(args.rate_list):g}/s the load is ~{peak:.0f} erlangs for "
            f"{args.agents} agents: calls will wait for free agents, and that wait is measured"
        )


async def main(argv: list[str]) -> int:
    """Set up, run every rate on both paths (interleaved), print the figures, clean up."""
    args = parse_args(argv)
    runtime = find_runtime()
    describe(args, runtime)
    workdir = Path(tempfile.mkdtemp(prefix="phones-routed-calls-"))
    try:
        async with contextlib.AsyncExitStack() as stack:
            try:
                bed = await setup(runtime, workdir, args, stack)
            except BaseException:
                print(f"# setup failed; logs in {workdir}", file=sys.stderr)
                args.keep = True
                raise
            for path in args.path_list:  # warm-up: first calls pay for imports, caches, the DB
                await run_one(bed, path, 10, WARM_UP_CALLS, args.talk_s, record=False)
            results = []
            for rate in args.rate_list:
                for path in args.path_list:
                    results.append(await run_one(bed, path, rate, args.calls, args.talk_s))
            if bed.load.unmatched_agent_legs:
                print(f"# warning: {bed.load.unmatched_agent_legs} agent legs had no known caller")
            print_tables(results)
            print(f"\n# load average at the end: {_loadavg()}")
    finally:
        if args.keep:
            print(f"# work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _loadavg() -> str:
    # Other work on the machine shares the CPUs with the engine and both Asterisks.
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
