"""Nodes that wait for the outside world: what they ask for on arrival and how they react.

Menus, digit collection and the language choice re-prompt on a wrong or missing key until
`max_retries` is used up, then take their invalid/timeout branch. An event a node does not
expect (a late HTTP answer, a key while a transfer rings) changes nothing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ivr_messenger.expression_tree import Value
from ivr_messenger.expressions import compile_pattern
from ivr_messenger.nodes import (
    CallbackNode,
    CollectNode,
    HttpLookupNode,
    LanguageNode,
    MenuNode,
    NodeBase,
    QueueNode,
    TransferNode,
    VoicemailNode,
)
from ivr_messenger.schedule import next_time_of_day
from ivr_messenger.session import (
    AgentAnswered,
    AwaitDigits,
    CallbackRequested,
    CreateCallback,
    CreateVoicemail,
    Digits,
    Enqueue,
    Event,
    HttpFailed,
    HttpRequest,
    HttpResponse,
    HungUp,
    LeaveQueue,
    Queued,
    Recorded,
    RecordMessage,
    Say,
    SetLanguage,
    Timeout,
    Transfer,
    Transferred,
    TransferResult,
    VoicemailLeft,
)
from ivr_messenger.step_run import Run

_KEYS = re.compile(r"[0-9*#]*")
_PHONE = re.compile(r"\+?[0-9]+")
_DIGITS = re.compile(r"[0-9]+")


def enter_waiting(run: Run, node: NodeBase) -> str | None:
    """Arrive at a node that waits: ask the executor for what it needs."""
    match node:
        case MenuNode() | CollectNode() | LanguageNode():
            _ask(run, node, ())
        case HttpLookupNode():
            params = {name: run.variables.get(name, "") for name in node.send}
            request = HttpRequest(run.node_id, node.method, node.url, params, node.timeout_s)
            run.wait("http", request)
            run.visit(note=f"{node.method} {node.url}")
        case QueueNode():
            run.play(node.prompt)
            run.wait("queue", _enqueue(run, node))
            run.visit(note=f"queued to service {node.service_id}, priority {node.priority}")
        case VoicemailNode():
            record = RecordMessage(run.node_id, run.say(node.prompt), node.max_duration_s)
            run.wait("recording", record)
            run.visit(note=f"records up to {node.max_duration_s} s for service {node.service_id}")
        case CallbackNode():
            caller = str(run.variables.get("caller", ""))
            plausible = _PHONE.fullmatch(caller) and _number_fits(node, caller.lstrip("+"))
            _callback_phase(run, node, "confirm" if plausible else "number", caller or None, ())
        case TransferNode():
            run.play(node.prompt)
            run.wait("transfer", Transfer(run.node_id, node.target))
            run.visit(note=f"transfers to {node.target.describe()}")
        case _:  # pragma: no cover - every node kind is handled in step._enter or here
            raise AssertionError(f"no handler for {node!r}")
    return None


def resume_waiting(run: Run) -> bool:
    """After a restart, ask again for what the call waited for; False if that cannot be."""
    node = run.node
    run.begin_visit()
    run.visit(note="resumed after a restart")
    match node:
        case MenuNode() | CollectNode() | LanguageNode():
            _ask(run, node, ())
        case CallbackNode() if run.phase is not None:
            _callback_phase(run, node, run.phase, run.pending, ())
        case QueueNode():
            run.wait("queue", _enqueue(run, node))
        case HttpLookupNode() if node.method == "GET":  # only a GET is safe to repeat
            enter_waiting(run, node)
        case _:
            return False
    return True


def react(run: Run, event: Event) -> str | None:
    """Apply an event at the node the call waits at; the next node to enter, if any."""
    node = run.node
    run.begin_visit()
    match node:
        case MenuNode():
            return _menu(run, node, event)
        case CollectNode():
            return _collect(run, node, event)
        case LanguageNode():
            return _language(run, node, event)
        case HttpLookupNode():
            return _http(run, node, event)
        case QueueNode():
            return _queue(run, node, event)
        case VoicemailNode():
            return _voicemail(run, node, event)
        case CallbackNode():
            return _callback(run, node, event)
        case TransferNode():
            return _transfer(run, node, event)
    return None  # pragma: no cover - only waiting nodes have `awaiting` set


def _ask(run: Run, node: MenuNode | CollectNode | LanguageNode, before: tuple[Say, ...]) -> None:
    said = before + run.say(node.prompt)
    if isinstance(node, CollectNode):
        ask = AwaitDigits(run.node_id, said, node.max_length, node.terminator, node.timeout_s)
    else:
        ask = AwaitDigits(run.node_id, said, 1, None, node.timeout_s)
    run.wait("digits", ask)


def _input(event: Event) -> str | None:
    """The keys of a Digits event; None for a timeout (or nothing typed)."""
    if isinstance(event, Digits) and event.digits:
        return event.digits
    return None


def _retry(run: Run, node: MenuNode | CollectNode, failure: str, target: str | None) -> str | None:
    """A wrong or missing input: prompt again, or take the failure branch once out of tries."""
    run.retries += 1
    if run.retries > node.max_retries:
        return run.follow(failure, target)
    extra = node.invalid_prompt if failure == "invalid" else getattr(node, "timeout_prompt", None)
    run.visit(branch=f"retry {run.retries} of {node.max_retries} ({failure})", target=run.node_id)
    _ask(run, node, run.say(extra))
    return None


def _menu(run: Run, node: MenuNode, event: Event) -> str | None:
    if not isinstance(event, Digits | Timeout):
        return None
    keys = _input(event)
    run.visit(input=keys or "timeout")
    if keys is None:
        return _retry(run, node, "timeout", node.timeout)
    for i, option in enumerate(node.options):
        if option.key == keys:
            return run.follow(f"options[{i}]", option.next)
    return _retry(run, node, "invalid", node.invalid)


def _collect(run: Run, node: CollectNode, event: Event) -> str | None:
    if not isinstance(event, Digits | Timeout):
        return None
    keys = _input(event)
    run.visit(input=keys or "timeout")
    if keys is None:
        return _retry(run, node, "timeout", node.timeout)
    fits = node.min_length <= len(keys) <= node.max_length and _KEYS.fullmatch(keys) is not None
    if fits and node.pattern is not None:
        fits = compile_pattern(node.pattern).fullmatch(keys) is not None
    if not fits:
        return _retry(run, node, "invalid", node.invalid)
    run.variables[node.into] = keys
    return run.follow("next", node.next)


def _language(run: Run, node: LanguageNode, event: Event) -> str | None:
    if not isinstance(event, Digits | Timeout):
        return None
    keys = _input(event)
    run.visit(input=keys or "timeout")
    chosen = next((o.language for o in node.options if o.key == keys), None)
    if chosen is not None:
        run.language = chosen
        run.variables["language"] = chosen
        run.act(SetLanguage(chosen))
        return run.follow(f"language {chosen}", node.next)
    run.retries += 1
    if run.retries > node.max_retries:
        return run.follow(f"keep {run.language}", node.next)
    run.visit(branch=f"retry {run.retries} of {node.max_retries}", target=run.node_id)
    _ask(run, node, ())
    return None


def _http(run: Run, node: HttpLookupNode, event: Event) -> str | None:
    match event:
        case HttpResponse(status=status, body=body):
            run.visit(input=f"HTTP {status}")
            if not 200 <= status < 300:
                return run.follow("failure", node.failure)
            values: dict[str, Value] = {}
            for name, path in node.fields.items():
                value = _field(body, path)
                if value is None:
                    run.visit(note=f"no usable {path!r} in the answer")
                    return run.follow("failure", node.failure)
                values[name] = value
            run.variables.update(values)
            return run.follow("next", node.next)
        case HttpFailed(reason=reason):
            run.visit(input=f"failed: {reason}")
            return run.follow("failure", node.failure)
        case Timeout():
            run.visit(input="timeout")
            return run.follow("failure", node.failure)
    return None


def _field(body: object, path: str) -> Value | None:
    """A scalar at a dotted path of decoded JSON ("items.0.id"), or None."""
    current = body
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    if isinstance(current, str | int | float | bool):
        return current
    return None


def _enqueue(run: Run, node: QueueNode) -> Enqueue:
    offer = node.callback_offer
    return Enqueue(
        run.node_id,
        node.service_id,
        node.priority,
        node.announce_position,
        node.announce_wait,
        node.announce_every_s,
        node.max_wait_s,
        offer.key if offer else None,
        run.say(offer.prompt) if offer else (),
    )


def _queue(run: Run, node: QueueNode, event: Event) -> str | None:
    match event:
        case AgentAnswered():
            run.visit(input="agent answered")
            run.end_call(Queued(service_id=node.service_id, priority=node.priority), None)
        case Timeout() if node.max_wait_s is not None:
            run.visit(input=f"waited {node.max_wait_s} s")
            run.act(LeaveQueue(run.node_id))
            return run.follow("overflow", node.overflow)
        case Digits(digits=keys) if node.callback_offer and keys == node.callback_offer.key:
            run.visit(input=keys)
            run.act(LeaveQueue(run.node_id))
            return run.follow("callback", node.callback)
    return None


def _voicemail(run: Run, node: VoicemailNode, event: Event) -> str | None:
    caller = str(run.variables.get("caller", ""))
    match event:
        case Recorded(recording_id=recording):
            run.visit(input=f"recorded {recording}")
            run.act(CreateVoicemail(run.node_id, node.service_id, recording, caller, run.language))
            run.play(node.goodbye)
            run.end_call(VoicemailLeft(service_id=node.service_id, recording_id=recording), "done")
        case Timeout():
            run.visit(input="nothing recorded")
            run.end_call(HungUp(reason="no_message"), "no_message")
    return None


def _transfer(run: Run, node: TransferNode, event: Event) -> str | None:
    match event:
        case TransferResult(answered=True):
            run.visit(input="answered")
            run.end_call(Transferred(target=node.target), None)
        case TransferResult() | Timeout():
            run.visit(input="not answered")
            return run.follow("failure", node.failure)
    return None


def _number_fits(node: CallbackNode, digits: str) -> bool:
    return node.number_min_length <= len(digits) <= node.number_max_length


def _callback_phase(
    run: Run, node: CallbackNode, phase: str, number: str | None, before: tuple[Say, ...]
) -> None:
    """Ask for the phase's input: confirm `number`, type another, or choose a slot."""
    if phase == "confirm" and number is not None:
        run.phase, run.pending = "confirm", number
        said = before + run.say(node.confirm_prompt) + (Say("digits", number, run.language),)
        run.wait("digits", AwaitDigits(run.node_id, said, 1, None, node.timeout_s))
    elif phase == "slot":
        run.phase = "slot"
        said = before + run.say(node.slot_prompt)
        run.wait("digits", AwaitDigits(run.node_id, said, 1, None, node.timeout_s))
    else:
        run.phase, run.pending = "number", None
        said = before + run.say(node.number_prompt)
        ask = AwaitDigits(run.node_id, said, node.number_max_length, "#", node.timeout_s)
        run.wait("digits", ask)


def _callback(run: Run, node: CallbackNode, event: Event) -> str | None:
    if not isinstance(event, Digits | Timeout) or run.phase is None:
        return None
    keys = _input(event)
    run.visit(input=keys or "timeout")
    phase, number = run.phase, run.pending
    if phase == "confirm" and keys == node.confirm_key and number is not None:
        if not node.slots:
            _schedule(run, node, number, run.now)
            return None
        run.retries = 0
        _callback_phase(run, node, "slot", number, ())
        return None
    if phase == "confirm" and keys == node.change_key:
        run.retries = 0
        _callback_phase(run, node, "number", None, ())
        return None
    if phase == "number" and keys and _DIGITS.fullmatch(keys) and _number_fits(node, keys):
        run.retries = 0
        _callback_phase(run, node, "confirm", keys, ())
        return None
    if phase == "slot" and number is not None:
        slot = next((s for s in node.slots if s.key == keys), None)
        if slot is not None:
            if slot.at is not None:
                due = next_time_of_day(slot.at, node.time_zone, run.now)
            else:
                due = run.now + timedelta(minutes=slot.after_minutes or 0)
            _schedule(run, node, number, due)
            return None
    run.retries += 1
    if run.retries > node.max_retries:
        return run.follow("failure", node.failure)
    run.visit(branch=f"retry {run.retries} of {node.max_retries}", target=run.node_id)
    _callback_phase(run, node, phase, number, ())
    return None


def _schedule(run: Run, node: CallbackNode, number: str, due: datetime) -> None:
    """Create the call-back, thank the caller and hang up."""
    run.act(CreateCallback(run.node_id, node.service_id, number, due, run.language))
    run.play(node.done_prompt)
    outcome = CallbackRequested(service_id=node.service_id, number=number, due_at=due)
    run.end_call(outcome, "done")
