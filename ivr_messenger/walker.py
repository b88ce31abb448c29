"""The dry run ("Try it"): walk a flow with scripted inputs and show the path a call takes.

A loop over step.step feeding scripted events, so the dry run decides exactly as a live call
would. The caller's inputs are consumed one per wait for keys; the world's answers (HTTP
lookups, transfers, recordings) come from the script or from defaults, never from I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ivr_messenger.expression_tree import Value
from ivr_messenger.flow import Flow
from ivr_messenger.session import (
    Action,
    AgentAnswered,
    AwaitDigits,
    Awaiting,
    CallbackRequested,
    CallerHungUp,
    CallState,
    Digits,
    Enqueue,
    Event,
    HttpFailed,
    HttpResponse,
    HungUp,
    Outcome,
    Queued,
    Recorded,
    Say,
    Start,
    Timeout,
    Transferred,
    TransferResult,
    Visit,
    VoicemailLeft,
)
from ivr_messenger.step import new_call, step

# Events one dry run may feed; HTTP lookups or transfers failing in a loop take no input, so
# without this bound a bad flow could keep the walker busy forever.
MAX_STEPS = 500
DRY_RUN_RECORDING = "dry-run-recording"


@dataclass(frozen=True, slots=True)
class Script:
    """What the caller and the outside world do during a dry run.

    `inputs`: one per wait for keys — keys ("1", "1234#"), "timeout" or "hangup"; while
    queued also "answer" (an agent answers) or "timeout" (max wait). `http`: lookup results
    by node id (an unscripted lookup fails). `failed_transfers`: transfer nodes whose target
    does not answer (others answer). Recordings always succeed. `clock`: the (aware) time of
    the whole call, for business hours and call-back slots.
    """

    clock: datetime
    inputs: Sequence[str] = ()
    http: Mapping[str, HttpResponse | HttpFailed] = field(default_factory=dict)
    failed_transfers: frozenset[str] = frozenset()
    caller: str = ""
    dialled: str = ""
    language: str | None = None
    variables: Mapping[str, Value] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WaitingForInput:
    """The script ran out while the call waited for the caller."""

    node: str
    flow_id: int | None
    awaiting: Awaiting | None
    kind: Literal["waiting"] = "waiting"


@dataclass(frozen=True, slots=True)
class StepLimitReached:
    """The walk was stopped after MAX_STEPS events (a loop through lookups or transfers)."""

    steps: int
    kind: Literal["step_limit"] = "step_limit"


WalkOutcome = Outcome | WaitingForInput | StepLimitReached


@dataclass(frozen=True, slots=True)
class Walk:
    """A dry run's result: the path, the actions in order, the final state and the outcome."""

    path: tuple[Visit, ...]
    actions: tuple[Action, ...]
    state: CallState
    outcome: WalkOutcome
    steps: int

    @property
    def variables(self) -> dict[str, Value]:
        """The variables at the end."""
        return dict(self.state.variables)

    @property
    def nodes(self) -> list[str]:
        """The node ids in the order the call met them (repeats included)."""
        return [visit.node for visit in self.path]

    def lines(self, services: Mapping[int, str] | None = None) -> list[str]:
        """The path and the outcome as sentences, for the designer's "Try it" panel."""
        return [describe_visit(v) for v in self.path] + [
            "Outcome: " + describe_outcome(self.outcome, services or {})
        ]


def walk(
    flow: Flow,
    script: Script,
    *,
    subflows: Mapping[int, Flow] | None = None,
    max_steps: int = MAX_STEPS,
) -> Walk:
    """Run `flow` from its start with `script`; stop when the call leaves the flow, waits
    for an input the script does not have, or after `max_steps` events."""
    if script.clock.tzinfo is None:
        raise ValueError("the dry run's clock must carry a time zone")
    state = new_call(
        flow,
        caller=script.caller,
        dialled=script.dialled,
        language=script.language,
        variables=script.variables,
    )
    inputs = deque(script.inputs)
    path: list[Visit] = []
    actions: list[Action] = []
    event: Event | None = Start()
    steps = 0
    while event is not None:
        if steps >= max_steps:
            return Walk(tuple(path), tuple(actions), state, StepLimitReached(steps), steps)
        result = step(flow, state, event, now=script.clock, subflows=subflows)
        steps += 1
        state = result.state
        path.extend(result.visits)
        actions.extend(result.actions)
        if state.outcome is not None:
            return Walk(tuple(path), tuple(actions), state, state.outcome, steps)
        event = _next_event(state, actions, inputs, script)
    outcome: WalkOutcome
    if state.awaiting == "queue":
        outcome = _still_queued(actions)
    else:
        outcome = WaitingForInput(state.node, state.flow_id, state.awaiting)
    return Walk(tuple(path), tuple(actions), state, outcome, steps)


def _next_event(
    state: CallState, actions: list[Action], inputs: deque[str], script: Script
) -> Event | None:
    """The scripted answer to what the call waits for; None when the script has none."""
    match state.awaiting:
        case "digits" | "queue":
            if not inputs:
                return None
            text = inputs.popleft()
            if text == "timeout":
                return Timeout()
            if text == "hangup":
                return CallerHungUp()
            if text == "answer" and state.awaiting == "queue":
                return AgentAnswered()
            ask = next((a for a in reversed(actions) if isinstance(a, AwaitDigits)), None)
            if ask is not None and ask.terminator and state.awaiting == "digits":
                text = text.removesuffix(ask.terminator)
            return Digits(text)
        case "http":
            return script.http.get(state.node, HttpFailed("no result in the script"))
        case "recording":
            return Recorded(DRY_RUN_RECORDING)
        case "transfer":
            return TransferResult(answered=state.node not in script.failed_transfers)
    return None


def _still_queued(actions: list[Action]) -> Queued:
    enqueue = next(a for a in reversed(actions) if isinstance(a, Enqueue))
    return Queued(service_id=enqueue.service_id, priority=enqueue.priority)


def describe_say(say: Say) -> str:
    """One prompt in words: [it] "Benvenuti" or [en] recording welcome-en."""
    if say.kind == "tts":
        return f'[{say.language}] "{say.value}"'
    if say.kind == "recording":
        return f"[{say.language}] recording {say.value}"
    return f"[{say.language}] digits {say.value}"


def describe_visit(visit: Visit) -> str:
    """A visit in words: node, prompts, input, branch."""
    where = visit.node if visit.flow_id is None else f"{visit.node} (flow {visit.flow_id})"
    parts = [f"{where} [{visit.type}]"]
    if visit.prompts:
        parts.append("plays " + ", ".join(describe_say(s) for s in visit.prompts))
    if visit.input is not None:
        parts.append(f"input: {visit.input}")
    if visit.note is not None:
        parts.append(visit.note)
    if visit.branch is not None:
        parts.append(f"{visit.branch} → {visit.target or 'hang up'}")
    return "; ".join(parts)


def describe_outcome(outcome: WalkOutcome, services: Mapping[int, str]) -> str:
    """An outcome in words, naming services when their names are known."""

    def service(service_id: int) -> str:
        name = services.get(service_id)
        return f"service {service_id}" + (f" ({name})" if name else "")

    match outcome:
        case Queued():
            return f"queued to {service(outcome.service_id)} with priority {outcome.priority}"
        case Transferred():
            return f"transferred to {outcome.target.describe()}"
        case VoicemailLeft():
            return f"voicemail for {service(outcome.service_id)}"
        case CallbackRequested():
            when = outcome.due_at.isoformat()
            by = service(outcome.service_id)
            return f"call-back requested for {outcome.number} at {when} by {by}"
        case HungUp():
            return f"hung up ({outcome.reason})"
        case WaitingForInput():
            return f"waiting for input at {outcome.node} ({outcome.awaiting})"
        case StepLimitReached():
            return f"stopped after {outcome.steps} steps"
    raise AssertionError(outcome)  # pragma: no cover
