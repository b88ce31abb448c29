"""The contract of the step function: a call's state, the events it reacts to, its actions.

`CallState` is what the executor persists per call after every step (small, JSON). Events are
what happened outside (a key pressed, an HTTP answer, an agent answering); actions are what
the executor must do, in order. Visits say which node did what, for the dry-run path and the
live monitor. See step.py for the transitions and docs/ivr.md for the whole contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from ivr_messenger.expression_tree import Value
from ivr_messenger.node_parts import Model, TransferTarget

Awaiting = Literal["digits", "http", "queue", "recording", "transfer"]

# ---- Outcomes: how a call left the flow (kept in the state once it has). ----


class Queued(Model):
    """The call went to a service's queue and an agent answered it."""

    kind: Literal["queued"] = "queued"
    service_id: int
    priority: int


class Transferred(Model):
    """The call was handed to a number, an agent or another line, which answered."""

    kind: Literal["transferred"] = "transferred"
    target: TransferTarget


class VoicemailLeft(Model):
    """The caller left a message, now an interaction of the service."""

    kind: Literal["voicemail"] = "voicemail"
    service_id: int
    recording_id: str


class CallbackRequested(Model):
    """The caller asked to be called back on `number` from `due_at`."""

    kind: Literal["callback"] = "callback"
    service_id: int
    number: str
    due_at: datetime


class HungUp(Model):
    """The call ended in the flow: "caller", "flow" (a hang-up node or an open branch),
    "error", "loop", "no_message"."""

    kind: Literal["hung_up"] = "hung_up"
    reason: str


Outcome = Annotated[
    Queued | Transferred | VoicemailLeft | CallbackRequested | HungUp, Field(discriminator="kind")
]


class ReturnPoint(Model):
    """Where a sub-flow's `return` goes: a flow (None: the line's) and a node (None: hang up)."""

    flow_id: int | None
    node: str | None


class CallState(Model):
    """One call's place in its flow; JSON-serialisable, persisted by the executor per step.

    `flow_id` is the flow being run (None: the line's own flow, else a sub-flow), `node` the
    node in it. `retries` counts failed inputs at the current node (or phase); `phase` and
    `pending` are the call-back node's sub-steps ("confirm", "number", "slot") and the number
    being confirmed. `awaiting` says which event the call waits for; `outcome` is set once
    the call has left the flow, after which every event is ignored.
    """

    flow_id: int | None = None
    node: str
    returns: list[ReturnPoint] = []
    language: str
    variables: dict[str, Value]
    retries: int = 0
    phase: Literal["confirm", "number", "slot"] | None = None
    pending: str | None = None
    awaiting: Awaiting | None = None
    outcome: Outcome | None = None

    @property
    def ended(self) -> bool:
        """Whether the call has left the flow."""
        return self.outcome is not None


# ---- Events: what the executor reports. ----


@dataclass(frozen=True, slots=True)
class Start:
    """The call entered the flow (answered, on a line pointing at this flow)."""


@dataclass(frozen=True, slots=True)
class Digits:
    """Keys pressed: one for a menu, the collected string (without terminator) for a collect."""

    digits: str


@dataclass(frozen=True, slots=True)
class Timeout:
    """Nothing came in time: no key, no HTTP answer, the queue's max wait, no message."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """The lookup's answer: its status and decoded JSON body."""

    status: int
    body: Any


@dataclass(frozen=True, slots=True)
class HttpFailed:
    """The lookup could not be made or its body was not JSON."""

    reason: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """The voicemail recording finished."""

    recording_id: str


@dataclass(frozen=True, slots=True)
class AgentAnswered:
    """An agent answered the queued call: it leaves the flow."""


@dataclass(frozen=True, slots=True)
class TransferResult:
    """Whether the transfer target answered."""

    answered: bool


@dataclass(frozen=True, slots=True)
class CallerHungUp:
    """The caller hung up."""


@dataclass(frozen=True, slots=True)
class Resume:
    """The engine restarted; the call is still up and waits where `state` says."""


Event = (
    Start
    | Digits
    | Timeout
    | HttpResponse
    | HttpFailed
    | Recorded
    | AgentAnswered
    | TransferResult
    | CallerHungUp
    | Resume
)

# ---- Actions: what the executor does, in order. ----


@dataclass(frozen=True, slots=True)
class Say:
    """One thing to play: text to speak, a recorded prompt, or digits read one by one."""

    kind: Literal["tts", "recording", "digits"]
    value: str
    language: str


@dataclass(frozen=True, slots=True)
class Play:
    """Play these to the end (no barge-in) before the next action."""

    node: str
    prompts: tuple[Say, ...]


@dataclass(frozen=True, slots=True)
class AwaitDigits:
    """Play `prompts` interruptibly, then collect keys; report Digits or Timeout.

    Up to `max_digits` keys, ended early by `terminator` (not reported); `timeout_s` runs
    from the end of the prompts and again after each key.
    """

    node: str
    prompts: tuple[Say, ...]
    max_digits: int
    terminator: str | None
    timeout_s: int


@dataclass(frozen=True, slots=True)
class SetLanguage:
    """The caller's language changed (for the channel's own sounds, too)."""

    language: str


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """Make the lookup; report HttpResponse, HttpFailed or Timeout."""

    node: str
    method: Literal["GET", "POST"]
    url: str
    params: dict[str, Value]
    timeout_s: int


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Queue the call to a service; report AgentAnswered, Timeout (max wait) or the offer key."""

    node: str
    service_id: int
    priority: int
    announce_position: bool
    announce_wait: bool
    announce_every_s: int
    max_wait_s: int | None
    callback_key: str | None
    callback_prompts: tuple[Say, ...]


@dataclass(frozen=True, slots=True)
class LeaveQueue:
    """Take the call out of the queue (max wait reached, or the caller chose a call-back)."""

    node: str


@dataclass(frozen=True, slots=True)
class RecordMessage:
    """Play the greeting, beep, record; report Recorded or Timeout (nothing said)."""

    node: str
    prompts: tuple[Say, ...]
    max_duration_s: int


@dataclass(frozen=True, slots=True)
class CreateVoicemail:
    """Make the recording an interaction of the service, in agents' queues."""

    node: str
    service_id: int
    recording_id: str
    caller: str
    language: str


@dataclass(frozen=True, slots=True)
class CreateCallback:
    """Schedule a call-back interaction of the service."""

    node: str
    service_id: int
    number: str
    due_at: datetime
    language: str


@dataclass(frozen=True, slots=True)
class Transfer:
    """Transfer the call; report TransferResult (or Timeout)."""

    node: str
    target: TransferTarget


@dataclass(frozen=True, slots=True)
class Hangup:
    """Hang up the caller."""

    reason: str


@dataclass(frozen=True, slots=True)
class FlowError:
    """Something in the flow failed at run time (for logs and the monitor); the call goes on
    at the fallback node or is hung up, as the following actions say."""

    node: str
    message: str


Action = (
    Play
    | AwaitDigits
    | SetLanguage
    | HttpRequest
    | Enqueue
    | LeaveQueue
    | RecordMessage
    | CreateVoicemail
    | CreateCallback
    | Transfer
    | Hangup
    | FlowError
)


@dataclass(frozen=True, slots=True)
class Visit:
    """What one step did at one node: prompts, the input it took, what it decided or asked the
    executor for (`note`), the branch and where it led."""

    flow_id: int | None
    node: str
    type: str
    prompts: tuple[Say, ...] = ()
    input: str | None = None
    note: str | None = None
    branch: str | None = None
    target: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """The result of one step: the new state, the actions to run in order, the visits made."""

    state: CallState
    actions: tuple[Action, ...] = ()
    visits: tuple[Visit, ...] = field(default=())
