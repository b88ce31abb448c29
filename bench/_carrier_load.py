"""Load generation and measurement at the carrier Asterisk for bench/routed_calls.py.

The carrier originates callers into the platform at a fixed rate and also answers the
platform's calls to agents (it registered as them). Everything is timed from the carrier's
own AMI events (`timestampevents = yes`), so the bench process's scheduling does not blur
the figures:

- t_invite: Newchannel of the caller leg (the carrier creating its channel to the platform,
  which it INVITEs at once). The leg's Uniqueid is ours (`ChannelId` of the Originate).
- t_answer: Newstate Up of the agent leg (the carrier's 200 OK to the platform's INVITE).
  The agent leg is matched to its caller by caller number: the platform presents the
  caller's number on the agent leg, and every call gets a unique one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pbx.ami import AmiClient, AmiError, Message
from pbx.carrier import FROM_PLATFORM_CONTEXT

CALLER_CONTEXT = "carrier-originate"
UP = "6"  # ast_channel_state AST_STATE_UP
ANSWER_TIMEOUT_S = 10.0  # a caller the platform has not answered by then is given up
_numbers = itertools.count(1)


@dataclass
class CallRecord:
    """One bench call as the carrier saw it."""

    number: str
    t_invite: float | None = None
    t_caller_up: float | None = None  # the platform answered the caller
    t_agent_invite: float | None = None  # the platform's INVITE to the agent reached us
    t_answer: float | None = None
    failed: str = ""
    ended: bool = False

    @property
    def setup_ms(self) -> float | None:
        """Caller INVITE to agent leg answered, in milliseconds."""
        if self.t_invite is None or self.t_answer is None:
            return None
        return (self.t_answer - self.t_invite) * 1000.0


@dataclass
class RunResult:
    """What one (path, rate) run measured."""

    path: str
    rate: float
    calls: list[CallRecord]
    engine_cpu_s: float
    asterisk_cpu_s: float
    carrier_cpu_s: float
    wall_s: float
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        """Calls the carrier originated."""
        return len(self.calls)

    @property
    def routed(self) -> list[CallRecord]:
        """Calls whose agent leg was answered and that then ended normally."""
        return [c for c in self.calls if c.setup_ms is not None and not c.failed]

    @property
    def failed(self) -> int:
        """Calls that never reached an agent."""
        return self.attempted - len(self.routed)

    @property
    def achieved_rate(self) -> float:
        """Routed calls per second, over the span of the agent answers."""
        answers = sorted(c.t_answer for c in self.routed if c.t_answer is not None)
        if len(answers) < 2 or answers[-1] <= answers[0]:
            return float("nan")
        return (len(answers) - 1) / (answers[-1] - answers[0])

    def percentile(self, q: float) -> float:
        """Setup latency percentile (nearest rank) in ms over routed calls."""
        return _percentile([c.setup_ms for c in self.routed if c.setup_ms is not None], q)

    def phases_p50(self) -> tuple[float, float, float]:
        """Median ms of: INVITE → caller answered, → agent INVITE received, → agent answered."""
        first, second, third = [], [], []
        for c in self.routed:
            if c.t_invite and c.t_caller_up and c.t_agent_invite and c.t_answer:
                first.append((c.t_caller_up - c.t_invite) * 1000.0)
                second.append((c.t_agent_invite - c.t_caller_up) * 1000.0)
                third.append((c.t_answer - c.t_agent_invite) * 1000.0)
        return _percentile(first, 50), _percentile(second, 50), _percentile(third, 50)

    def cpu_ms_per_call(self, seconds: float) -> float:
        """CPU seconds of a run as ms per routed call."""
        routed = len(self.routed)
        return seconds * 1000.0 / routed if routed else float("nan")

    def clean(self, p99_limit_ms: float) -> bool:
        """No failure and p99 within the limit."""
        return self.failed == 0 and self.percentile(99) <= p99_limit_ms


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100.0 * len(ordered))) - 1]


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process (all its threads), in seconds; 0 when unknown."""
    if pid is None:
        return 0.0
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = raw.rsplit(")", 1)[1].split()
    # After "pid (comm)" the state is field 3 of proc(5); utime and stime are 14 and 15.
    return (int(fields[11]) + int(fields[12])) / _TICK


class CarrierLoad:
    """Originates callers at the carrier and times them through the carrier's AMI events."""

    def __init__(self, ami: AmiClient) -> None:
        self.ami = ami
        self.calls: dict[str, CallRecord] = {}
        self._agent_legs: dict[str, str] = {}  # carrier Uniqueid of an agent leg → number
        self._caller_legs: dict[str, str] = {}  # our ChannelId → number
        self.unmatched_agent_legs = 0
        self._progress = asyncio.Event()  # set when a call is answered or lost
        ami.on_event(self._on_event)

    async def subscribe(self) -> None:
        """Receive only the call events we time (less work for both sides)."""
        await self.ami.action("Events", EventMask="call")
        for event in ("Newchannel", "Newstate", "Hangup", "OriginateResponse"):
            await self.ami.action("Filter", Operation="Add", Filter=f"Event: {event}")

    def _on_event(self, event: Message) -> None:
        kind = event.get("Event", "")
        uid = event.get("Uniqueid", "")
        stamp = float(event.get("Timestamp", "0") or 0) or time.time()
        if kind == "Newchannel":
            number = self._caller_legs.get(uid)
            if number is not None:
                self.calls[number].t_invite = stamp
            elif event.get("Context") == FROM_PLATFORM_CONTEXT and event.get(
                "Exten", ""
            ).startswith("agent"):
                number = event.get("CallerIDNum", "")
                if number in self.calls:
                    self._agent_legs[uid] = number
                    if self.calls[number].t_agent_invite is None:
                        self.calls[number].t_agent_invite = stamp
                else:
                    self.unmatched_agent_legs += 1
        elif kind == "Newstate" and event.get("ChannelState") == UP:
            number = self._agent_legs.get(uid)
            if uid in self._caller_legs:
                self.calls[self._caller_legs[uid]].t_caller_up = stamp
            elif number is not None:
                call = self.calls[number]
                if call.t_answer is None:
                    call.t_answer = stamp
                    self._progress.set()
        elif kind == "Hangup":
            number = self._caller_legs.get(uid)
            if number is not None:
                call = self.calls[number]
                call.ended = True
                if call.t_answer is None and not call.failed:
                    call.failed = f"caller hung up before an agent answered ({event.get('Cause')})"
                    self._progress.set()
        elif kind == "OriginateResponse" and event.get("Response", "").lower() == "failure":
            number = self._caller_legs.get(uid) or event.get("CallerIDNum", "")
            lost = self.calls.get(number)
            if lost is not None:
                lost.ended = True
                lost.failed = lost.failed or f"originate failed ({event.get('Reason')})"
                self._progress.set()

    async def originate(self, dnis: str) -> CallRecord:
        """Start one caller to `dnis` on the platform with a unique caller number."""
        number = f"39{next(_numbers):09d}"
        call = CallRecord(number)
        self.calls[number] = call
        channel_id = f"bench-{number}"
        self._caller_legs[channel_id] = number
        try:
            await self.ami.action(
                "Originate",
                Channel=f"PJSIP/{dnis}@platform",
                Context=CALLER_CONTEXT,
                Exten="caller",
                Priority="1",
                CallerID=f'"{number}" <{number}>',
                ChannelId=channel_id,
                Timeout=str(int(ANSWER_TIMEOUT_S * 1000)),
                Async="true",
            )
        except AmiError as exc:
            call.failed, call.ended = f"originate refused: {exc}", True
        return call

    async def run(
        self, dnis: str, rate: float, count: int, answer_timeout_s: float
    ) -> list[CallRecord]:
        """Originate `count` calls at `rate` per second; wait until each is answered or lost."""
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        tasks: list[asyncio.Task[CallRecord]] = []
        for i in range(count):
            delay = start + i / rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.originate(dnis)))
        calls = list(await asyncio.gather(*tasks))
        deadline = loop.time() + answer_timeout_s
        while not all(c.t_answer or c.failed for c in calls):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), remaining)
        for call in calls:
            if call.t_answer is None and not call.failed:
                call.failed = f"no agent answered within {answer_timeout_s:.0f}s"
        return calls

    async def drain(self, calls: Sequence[CallRecord], timeout_s: float) -> int:
        """Wait until the carrier has no channels left; hang up stragglers. Return how many."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if await self.active_channels() == 0:
                return 0
            await asyncio.sleep(0.1)
        left = await self.active_channels()
        for call in calls:
            if not call.ended and not call.failed:
                # An agent answered, yet the caller is still up long after every agent hung
                # up: the platform never connected them (or never let the caller go).
                call.failed = "caller still up at the end of the run (hung up by the bench)"
        with contextlib.suppress(AmiError):
            await self.ami.command("channel request hangup all")
        for _ in range(50):
            if await self.active_channels() == 0:
                break
            await asyncio.sleep(0.1)
        return left

    async def active_channels(self) -> int:
        """How many channels the carrier has now."""
        output = await self.ami.command("core show channels count")
        for line in output.splitlines():
            if "active channel" in line:
                return int(line.split()[0])
        return -1
