"""PhoneBar hub: N agents' sessions on the engine's WebSocket hub, timed under load.

Prints figures, never pass/fail (the issue's target: p99 <= 50 ms for the event latency on
a 2-core machine). Run it inside the test network namespace:

    scripts/in-test-netns .venv/bin/python bench/hub.py [--sessions N] [--rate R]
        [--duration S] [--callers K] [--observers O] [--seed X] [--no-deflate] [--json]

Setup: the engine (`phones run --demo`, SQLite) with its managed Asterisk; N agents with the
Sales skill created through the provisioning API, logged in and not ready ("break"), each
with one hub socket (aiohttp), authenticated, that got its first view and directory.

1. State changes, R a second for S seconds (open loop): a random agent PUTs ready or not
   ready (the other of its state) with its own token. Event latency: just before the PUT →
   that agent's socket gets a view in the new state. Directory latency: → each of O observer
   sockets gets an "agents" message (whole or changes only) showing the change; throttled
   by design per tenant (docs/phonebar.md), so not held to the 50 ms target.
2. Queue updates: every agent not ready (so calls queue: nobody can take them, yet someone
   is logged in); K demo callers (pjsua2, the demo's caller account) call line 2001 (Sales)
   one after another, then hang up one after another. Each arrival and each abandon changes
   the queue in all N views: latency from the caller's INVITE (BYE) to each socket's view.

CPU is utime + stime from /proc of the engine, its Asterisk and this bench around each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform as host
import random
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._carrier_load import cpu_seconds  # noqa: E402
from bench._hub_load import (  # noqa: E402
    NOT_READY,
    STATE_PATH,
    HubClients,
    QueueWatch,
    Rest,
    Session,
    bounded,
    drive_state_changes,
    percentile,
)
from pbx.instance import AsteriskInstance, InstanceSettings, allocate_ports  # noqa: E402
from pbx.runtime import find_runtime  # noqa: E402
from phonebar.headless import HeadlessUA  # noqa: E402
from server.demo import DemoData  # noqa: E402
from tests.testbed import EngineProcess  # noqa: E402

P99_TARGET_MS = 50.0
SALES_LINE = "2001"
PASSWORD = "bench-hub-password"  # every bench agent's: logins are what is timed, not secrets
VIEW_TIMEOUT_S = 10.0  # a change not in its agent's view by then counts as lost
QUEUE_TIMEOUT_S = 15.0  # per arrival or abandon, for all N sockets to show it
IDLE_S = 2.0


@dataclass
class Bed:
    """What the phases need: the engine, the API, the sockets, the demo's accounts."""

    engine: EngineProcess
    rest: Rest
    hub: HubClients
    demo: DemoData
    pids: dict[str, int | None]
    workdir: Path
    setup: dict[str, float]  # how long each step took


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=500, help="agents, one socket each")
    parser.add_argument("--rate", type=float, default=20.0, help="state changes per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of state changes")
    parser.add_argument("--callers", type=int, default=5, help="queued callers (0: skip)")
    parser.add_argument("--observers", type=int, default=5, help="sockets timing the directory")
    parser.add_argument("--seed", type=int, default=1, help="random seed (agents picked)")
    parser.add_argument("--setup-concurrency", type=int, default=4, help="creates/logins at once")
    parser.add_argument(
        "--no-deflate",
        dest="deflate",
        action="store_false",
        help="do not offer permessage-deflate (browsers always do; the engine may refuse it)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work directory and logs")
    args = parser.parse_args(argv)
    if args.sessions < 2 or args.rate <= 0 or args.duration <= 0 or args.callers < 0:
        parser.error("sessions >= 2, rate and duration > 0, callers >= 0")
    if not 0 < args.observers < args.sessions or args.setup_concurrency < 1:
        parser.error("observers must be between 1 and sessions - 1; setup-concurrency >= 1")
    return args


def note(args: argparse.Namespace, text: str) -> None:
    """A progress line ("# ..."): on stderr under --json, so stdout stays one JSON document."""
    print(f"# {text}", file=sys.stderr if args.json else sys.stdout, flush=True)


def describe(args: argparse.Namespace) -> dict[str, Any]:
    """Date, command, code and machine, for the record."""
    command = "scripts/in-test-netns .venv/bin/python bench/hub.py"
    command += "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "command": command,
        "commit": _commit(),
        "machine": f"{os.cpu_count()} CPUs ({cpu}), Python {host.python_version()}",
        "load_average_start": _loadavg(),
    }


async def setup(workdir: Path, args: argparse.Namespace, stack: contextlib.AsyncExitStack) -> Bed:
    """Engine, N agents logged in and not ready, one authenticated socket each."""
    engine = EngineProcess(
        workdir / "engine",
        allocate_ports(),
        f"sqlite+aiosqlite:///{workdir / 'engine' / 'phones.sqlite3'}",
    )
    engine.directory.mkdir(parents=True)
    stack.push_async_callback(engine.stop)  # it stops its Asterisk too
    await engine.start()
    rest = Rest(engine.api)
    stack.push_async_callback(rest.close)
    demo = engine.demo()
    admin = next(s for s in demo.staff if s.role == "admin")
    admin_token = await rest.login(admin.username, admin.password)

    started = time.monotonic()
    created = await create_agents(rest, admin_token, args.sessions, args.setup_concurrency)
    created_s = time.monotonic() - started
    sessions = [session for session, _ in created]
    # Every create reloads a PJSIP config that grows with the agents: compare both ends.
    tenth = max(1, len(created) // 10)
    first = 1000 * sum(s for _, s in created[:tenth]) / tenth
    last = 1000 * sum(s for _, s in created[-tenth:]) / tenth
    note(
        args,
        f"{len(sessions)} agents created through the API in {created_s:.1f}s "
        f"(a request took {first:.0f} ms on average for the first tenth, {last:.0f} ms for "
        "the last)",
    )

    started = time.monotonic()
    await bounded(args.setup_concurrency, [partial(log_in, rest, s) for s in sessions])
    login_s = time.monotonic() - started
    note(args, f"{len(sessions)} agents logged in and not ready in {login_s:.1f}s")

    hub = HubClients(engine.api, args.deflate)
    stack.push_async_callback(hub.close)
    started = time.monotonic()
    # Before any socket opens nobody's view is computed; after, each open costs a hub pass.
    await bounded(50, [partial(hub.connect, s, VIEW_TIMEOUT_S) for s in sessions])
    connect_s = time.monotonic() - started
    note(
        args,
        f"{len(sessions)} hub sockets open with a first view and directory in {connect_s:.1f}s",
    )

    runtime = find_runtime()
    platform = AsteriskInstance(
        runtime, InstanceSettings("platform", engine.directory / "asterisk", ports=engine.ports)
    )
    info = json.loads((engine.directory / "engine.json").read_text())
    pids = {"engine": int(info["pid"]), "asterisk": platform.pid(), "bench": os.getpid()}
    setup = {
        "create_s": round(created_s, 1),
        "create_first_tenth_ms": round(first),
        "create_last_tenth_ms": round(last),
        "login_s": round(login_s, 1),
        "connect_s": round(connect_s, 1),
    }
    return Bed(engine, rest, hub, demo, pids, workdir, setup)


async def create_agents(
    rest: Rest, token: str, count: int, concurrency: int
) -> list[tuple[Session, float]]:
    """N Sales agents through `POST /api/v1/users`, with each request's seconds.

    Each create hashes a password (argon2) and reloads Asterisk's PJSIP: bounded concurrency.
    """

    async def create(i: int) -> tuple[Session, float]:
        body = {
            "username": f"hub{i:04d}",
            "display_name": f"Hub Agent {i}",
            "role": "agent",
            "password": PASSWORD,
            "skills": {"sales": 1},
        }
        started = time.monotonic()
        status, user = await rest.call("POST", "/api/v1/users", body, token)
        if status != 201:
            raise RuntimeError(f"creating agent {i} failed: {status} {user}")
        return Session(int(user["id"]), str(user["username"])), time.monotonic() - started

    return await bounded(concurrency, [partial(create, i) for i in range(1, count + 1)])


async def log_in(rest: Rest, session: Session) -> None:
    """Token, then not ready: logged in, so calls queue for the agent's service."""
    session.token = await rest.login(session.username, PASSWORD)
    status, body = await rest.call("PUT", STATE_PATH, NOT_READY, session.token)
    if status != 200:
        raise RuntimeError(f"{session.username} could not go not ready: {status} {body}")


class CpuWindow:
    """CPU seconds of the engine, its Asterisk and the bench over a stretch of time."""

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = pids
        self.before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self.started = time.monotonic()

    def close(self) -> dict[str, float]:
        """Seconds used by each since the window opened, and its wall time ("wall")."""
        used = {name: cpu_seconds(pid) - self.before[name] for name, pid in self.pids.items()}
        return used | {"wall": time.monotonic() - self.started}


def summary(values: list[float]) -> dict[str, float | int | None]:
    """Count and percentiles of latencies in ms (None where there is no value: valid JSON)."""
    figures: dict[str, float | int | None] = {"n": len(values)}
    for q in (50, 95, 99):
        figures[f"p{q}"] = _ms(percentile(values, q))
    figures["max"] = _ms(max(values, default=float("nan")))
    return figures


def _ms(value: float) -> float | None:
    return None if value != value else round(value, 2)


def _fmt(value: float | None, spec: str = "8.1f") -> str:
    return f"{'-':>{spec.split('.')[0]}}" if value is None else f"{value:{spec}}"


async def idle_cpu(bed: Bed) -> dict[str, float]:
    """What the engine spends with every socket open and nothing happening."""
    window = CpuWindow(bed.pids)
    await asyncio.sleep(IDLE_S)
    used = window.close()
    return {"engine_cpu_pct": round(100 * used["engine"] / used["wall"], 1)}


async def state_phase(bed: Bed, args: argparse.Namespace) -> dict[str, Any]:
    """State changes at the rate asked for; event, reply and directory latencies; CPU."""
    rng = random.Random(args.seed)
    bed.hub.observe_directory(args.observers, rng)
    count = max(1, round(args.rate * args.duration))
    note(args, f"state changes: {count} at {args.rate:g}/s")
    messages, characters = bed.hub.messages, bed.hub.characters
    bed.hub.timing_directory = True
    window = CpuWindow(bed.pids)
    changes = await drive_state_changes(bed.hub, bed.rest, args.rate, count, rng, VIEW_TIMEOUT_S)
    missed = await bed.hub.settle_directory(timeout_s=2.5)
    used = window.close()
    bed.hub.timing_directory = False
    wall = used["wall"]
    ok = [c for c in changes if c.status == 200]
    seen = [c.view_ms for c in ok if c.view_ms is not None]
    return {
        "rate": args.rate,
        "duration_s": args.duration,
        "asked": count,
        "sent": len(changes),
        "refused": len(changes) - len(ok),
        "lost": len(ok) - len(seen),
        "event_ms": summary(seen),
        "reply_ms": summary([c.reply_ms for c in ok if c.reply_ms is not None]),
        "directory_ms": _directory_summary(bed.hub.directory_samples)
        | {"superseded": bed.hub.directory_superseded, "missed": missed},
        "wall_s": round(wall, 2),
        "cpu_s": {k: round(v, 2) for k, v in used.items() if k != "wall"},
        "engine_cpu_ms_per_change": round(1000 * used["engine"] / max(1, len(ok)), 2),
        "messages_per_s": round((bed.hub.messages - messages) / wall, 1),
        "mb_per_s": round((bed.hub.characters - characters) / wall / 1e6, 2),
    }


def _directory_summary(samples: list[tuple[float, float]]) -> dict[str, Any]:
    # A directory that keeps up has the same median early and late in the run; one whose
    # broadcasts take longer than the throttle interval falls further behind as it goes.
    ordered = [ms for _, ms in sorted(samples)]
    third = max(1, len(ordered) // 3)
    return summary(ordered) | {
        "p50_first_third": _ms(percentile(ordered[:third], 50)),
        "p50_last_third": _ms(percentile(ordered[-third:], 50)),
    }


async def everyone_not_ready(bed: Bed) -> None:
    """Agents left ready by the state phase go back to not ready (and their views show it)."""
    ready = [s for s in bed.hub.sessions.values() if s.state == "ready"]

    async def flip(session: Session) -> None:
        change = bed.hub.begin_change(session)
        await bed.hub.send_change(bed.rest, session, change, VIEW_TIMEOUT_S)

    await bounded(16, [partial(flip, s) for s in ready])
    left = [s.username for s in bed.hub.sessions.values() if s.state != "not_ready"]
    if left:
        raise RuntimeError(f"{len(left)} agents not shown not ready: {left[:5]}")


async def start_callers(bed: Bed, count: int, stack: contextlib.AsyncExitStack) -> list[HeadlessUA]:
    """K pjsua2 UAs on the demo's caller account (it needs no registration to call)."""
    uas = []
    for i in range(count):
        log = bed.workdir / f"caller{i}.pjsua.log"
        ua = HeadlessUA(f"caller{i}", log_path=log)
        stack.push_async_callback(ua.stop)
        uas.append(ua)
    await asyncio.gather(*(ua.start() for ua in uas))
    caller = bed.demo.caller
    for ua in uas:
        await ua.register(
            f"sip:{caller.sip_username}@127.0.0.1",
            username=caller.sip_username,
            password=caller.sip_password,
        )
    return uas


async def timed_queue_change(watch: QueueWatch, sent: float) -> dict[str, Any]:
    """Wait (bounded) for every socket to show the change; latencies from `sent`."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(watch.complete.wait(), QUEUE_TIMEOUT_S)
    latencies = [(at - sent) * 1000.0 for at in watch.seen.values()]
    return {"latencies": latencies, "missing": watch.expected - len(latencies) + watch.untimeable}


async def queue_phase(
    bed: Bed, args: argparse.Namespace, stack: contextlib.AsyncExitStack
) -> dict[str, Any]:
    """K arrivals then K abandons, each timed at every socket."""
    if args.callers == 0:
        return {"skipped": "--callers 0"}
    await everyone_not_ready(bed)
    uas = await start_callers(bed, args.callers, stack)
    note(args, f"queue updates: {args.callers} callers to line {SALES_LINE}, one at a time")
    expected = len(bed.hub.sessions)
    uri = f"sip:{SALES_LINE}@127.0.0.1:{bed.engine.ports.sip}"
    window = CpuWindow(bed.pids)
    arrivals, abandons, calls = [], [], []
    queued: frozenset[int] = frozenset()
    for ua in uas:
        watch = bed.hub.watch_queue(QueueWatch("arrival", expected, before=queued))
        ack = await ua.command("call", uri=uri)  # its stamp: just after the INVITE went out
        arrivals.append(await timed_queue_change(watch, float(ack["ts"])))
        if watch.interaction_id is not None:
            queued |= {watch.interaction_id}
            calls.append((ua, str(ack["call_id"]), watch.interaction_id))
    for ua, call_id, interaction_id in calls:
        watch = bed.hub.watch_queue(QueueWatch("abandon", expected, interaction_id=interaction_id))
        ack = await ua.command("hangup", call_id=call_id, code=0)  # just after the BYE
        abandons.append(await timed_queue_change(watch, float(ack["ts"])))
    bed.hub.watch = None
    used = window.close()
    updates = len(arrivals) + len(abandons)
    return {
        "callers": args.callers,
        "fan_out": expected,
        "arrival_ms": _queue_summary(arrivals),
        "abandon_ms": _queue_summary(abandons),
        "cpu_s": {k: round(v, 2) for k, v in used.items() if k != "wall"},
        "engine_cpu_ms_per_update": round(1000 * used["engine"] / max(1, updates), 2),
    }


def _queue_summary(events: list[dict[str, Any]]) -> dict[str, Any]:
    everything = [ms for e in events for ms in e["latencies"]]
    # First socket: the engine's own path (SIP, ARI, database); first → last: the fan-out.
    first = [min(e["latencies"]) for e in events if e["latencies"]]
    last = [max(e["latencies"]) for e in events if e["latencies"]]
    return summary(everything) | {
        "events": len(events),
        "missing": sum(e["missing"] for e in events),
        "first_socket_p50": _ms(percentile(first, 50)),
        "last_socket_p50": _ms(percentile(last, 50)),
    }


def print_text(results: dict[str, Any]) -> None:
    """The figures as a table."""
    state, queue = results["state"], results["queue"]
    setup = results["setup"]
    print(
        f"\nPhoneBar hub: {results['sessions']} sessions "
        f"(permessage-deflate {'offered' if results['deflate'] else 'not offered'}, "
        f"{'on' if results['deflate_negotiated'] else 'off'}); setup: created "
        f"{setup['create_s']:.1f}s ({setup['create_first_tenth_ms']} → "
        f"{setup['create_last_tenth_ms']} ms per create, first → last tenth), logged in "
        f"{setup['login_s']:.1f}s, sockets {setup['connect_s']:.1f}s"
    )
    print(
        f"state changes: {state['sent']}/{state['asked']} sent at {state['rate']:g}/s over "
        f"{state['wall_s']:.1f}s, {state['refused']} refused, {state['lost']} never in the view"
    )
    print(f"{'latency (ms)':<37} {'n':>6} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    rows = [
        ("state change → own view (event)", state["event_ms"]),
        ("state change → HTTP reply", state["reply_ms"]),
        ("state change → directory (throttled)", state["directory_ms"]),
    ]
    if "skipped" not in queue:
        rows += [
            (f"call arrival → queue, x{queue['fan_out']}", queue["arrival_ms"]),
            (f"caller abandon → queue, x{queue['fan_out']}", queue["abandon_ms"]),
        ]
    for label, s in rows:
        print(
            f"{label:<37} {s['n']:>6} {_fmt(s['p50'])} {_fmt(s['p95'])} {_fmt(s['p99'])} "
            f"{_fmt(s['max'])}"
        )
    directory = state["directory_ms"]
    print(
        f"(directory: p50 {_fmt(directory['p50_first_third'], '.0f')} ms for the first third "
        f"of the changes, {_fmt(directory['p50_last_third'], '.0f')} ms for the last; "
        f"{directory['superseded']} samples dropped as superseded, {directory['missed']} never "
        "seen)"
    )
    if "skipped" not in queue:
        arrival, abandon = queue["arrival_ms"], queue["abandon_ms"]
        print(
            f"(queue: {arrival['missing'] + abandon['missing']} socket updates never seen; "
            f"p50 of an update's first → last socket: arrival "
            f"{_fmt(arrival['first_socket_p50'], '.1f')} → "
            f"{_fmt(arrival['last_socket_p50'], '.1f')} ms, abandon "
            f"{_fmt(abandon['first_socket_p50'], '.1f')} → "
            f"{_fmt(abandon['last_socket_p50'], '.1f')} ms)"
        )
    cpu = state["cpu_s"]
    print(
        f"CPU over the state changes: engine {cpu['engine']:.2f}s "
        f"({state['engine_cpu_ms_per_change']:.1f} ms per change, "
        f"{100 * cpu['engine'] / state['wall_s']:.0f}% of a core), "
        f"Asterisk {cpu['asterisk']:.2f}s, bench {cpu['bench']:.2f}s; "
        f"engine idle with every socket open: {results['idle']['engine_cpu_pct']:.1f}% of a core"
    )
    if "skipped" not in queue:
        print(
            f"CPU over the queue updates: engine {queue['cpu_s']['engine']:.2f}s "
            f"({queue['engine_cpu_ms_per_update']:.1f} ms per update fanned out to "
            f"{queue['fan_out']})"
        )
    print(
        f"messages received: {state['messages_per_s']:.0f}/s ({state['mb_per_s']:.1f} MB/s of "
        "JSON) during the state changes"
    )
    verdict = "met" if results["target_met"] else "NOT met"
    print(f"target p99 ≤ {P99_TARGET_MS:.0f} ms (state change → own view): {verdict}")
    for error in results["errors"][:10]:
        print(f"# error: {error}")


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Set up, run both phases, gather the figures; everything started is stopped."""
    results: dict[str, Any] = describe(args) | {"sessions": args.sessions, "deflate": args.deflate}
    async with contextlib.AsyncExitStack() as stack:
        bed = await setup(workdir, args, stack)
        results["setup"] = bed.setup
        results["deflate_negotiated"] = bed.hub.deflate_negotiated()
        results["idle"] = await idle_cpu(bed)
        results["state"] = await state_phase(bed, args)
        results["queue"] = await queue_phase(bed, args, stack)
        results["errors"] = list(bed.hub.errors)
    p99 = results["state"]["event_ms"]["p99"]
    lost = results["state"]["lost"]
    results["target_met"] = p99 is not None and p99 <= P99_TARGET_MS and lost == 0
    results["load_average_end"] = _loadavg()
    return results


async def main(argv: list[str]) -> int:
    """Parse, run, print; keep the logs when something failed."""
    args = parse_args(argv)
    if os.environ.get("PHONES_IN_NETNS") != "1":
        print("run it in the test network namespace: scripts/in-test-netns ...", file=sys.stderr)
        return 2
    _raise_file_limit()
    # `kill` (SIGTERM) unwinds like Ctrl-C does: every process started here is stopped.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    workdir = Path(tempfile.mkdtemp(prefix="phones-hub-bench-"))
    try:
        results = await run(args, workdir)
        # Something not seen is worth the engine's and the callers' logs.
        args.keep = args.keep or _anomalies(results)
    except BaseException:
        args.keep = True
        raise
    finally:
        if args.keep:
            note(args, f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key in ("date", "command", "commit", "machine", "load_average_start"):
            print(f"# {key.replace('_', ' ')}: {results[key]}")
        print_text(results)
        print(f"# load average at the end: {results['load_average_end']}")
    return 0


def _anomalies(results: dict[str, Any]) -> bool:
    queue = results["queue"]
    missing = 0
    if "skipped" not in queue:
        missing = queue["arrival_ms"]["missing"] + queue["abandon_ms"]["missing"]
    return bool(results["errors"] or results["state"]["lost"] or missing)


def _raise_file_limit() -> None:
    # Two descriptors per session on this machine (ours and the engine's, which inherits it).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))


def _commit() -> str:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain") else ""
    return (git("rev-parse", "--short", "HEAD") or "unknown") + dirty


def _loadavg() -> str:
    # Other work on the machine shares the CPUs with the engine, Asterisk and the bench.
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main(sys.argv[1:])))
    except (KeyboardInterrupt, asyncio.CancelledError):
        sys.exit(130)
