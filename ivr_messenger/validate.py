"""The flow validator: every semantic problem of a flow at once, each in a plain sentence.

Pure: what the flow may refer to (services, agents, lines, recorded prompts, sub-flows) comes
in a FlowContext the caller fills from the database. A flow with problems can be saved as a
draft but not published (versions.can_publish).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ivr_messenger.expressions import (
    KEYWORDS,
    ExpressionError,
    PatternError,
    compile_pattern,
    parse,
)
from ivr_messenger.flow import BUILTIN_VARIABLES, Flow
from ivr_messenger.graph import endless_loops, reachable
from ivr_messenger.node_parts import Prompts
from ivr_messenger.nodes import (
    BusinessHoursNode,
    CallbackNode,
    CollectNode,
    ConditionNode,
    HttpLookupNode,
    LanguageNode,
    MenuNode,
    NodeBase,
    QueueNode,
    ReturnNode,
    SetVariableNode,
    StartNode,
    SubflowNode,
    TransferNode,
    VoicemailNode,
)
from ivr_messenger.schedule import clock_problem, schedule_problems, zone_problem

_DTMF = re.compile(r"[0-9*#]")
_FIELD_PATH = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")

# Every problem code, with what it means; docs/ivr.md lists the same.
CODES: dict[str, str] = {
    "missing_start": "the flow's start names no node",
    "bad_start": "the flow's start node is not of type start",
    "bad_languages": "a language is listed twice",
    "unreachable": "no call can reach the node",
    "dangling_edge": "an edge leads to a node that does not exist",
    "missing_edge": "a required edge is not connected",
    "missing_prompt": "a prompt lacks a language of the flow, or is empty",
    "unknown_language": "a prompt or choice names a language the flow does not list",
    "unknown_prompt": "a recorded prompt id that does not exist",
    "duplicate_dtmf": "two choices of one node share a key",
    "invalid_dtmf": "a key that is not one of 0-9 * #",
    "no_options": "a menu or language choice offers nothing",
    "loop_without_input": "a cycle never waits for the caller and can never be left",
    "unknown_service": "a service that does not exist",
    "unknown_agent": "an agent that does not exist",
    "unknown_line": "a line that does not exist",
    "unknown_subflow": "a sub-flow that does not exist",
    "bad_schedule": "a time zone, time of day, range or holiday that cannot be read",
    "bad_pattern": "a regular expression that is too long or does not compile",
    "bad_expression": "an expression that does not parse",
    "unknown_variable": "an expression or lookup reads a variable nobody sets",
    "bad_variable_name": "a variable name that is a keyword or is set by the engine",
    "bad_length": "a minimum length above the maximum",
    "bad_url": "a lookup URL that is not http(s) with a host",
    "bad_field_path": "a lookup field path that cannot be read",
    "return_outside_subflow": "a return node in a flow that is not a sub-flow",
}


@dataclass(frozen=True, slots=True)
class FlowContext:
    """What a flow may refer to, looked up by the caller so that validation stays pure."""

    services: Mapping[int, str] = field(default_factory=dict)  # id -> name
    agents: frozenset[int] = frozenset()
    lines: frozenset[str] = frozenset()
    prompts: frozenset[str] = frozenset()  # recorded prompt ids
    subflows: frozenset[int] = frozenset()  # ids of flows of kind "subflow"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem: the node (None for the flow itself), the field, a sentence and a code."""

    node_id: str | None
    field: str
    message: str
    code: str


def validate(flow: Flow, context: FlowContext) -> list[Problem]:
    """Every problem of `flow`, flow-level first, then by node id, field and code."""
    problems = list(_flow_problems(flow))
    known = known_variables(flow)
    for node_id, node in flow.nodes.items():
        for where, message, code in _node_problems(flow, node, context, known):
            problems.append(Problem(node_id, where, message, code))
    problems = list(dict.fromkeys(problems))
    return sorted(problems, key=lambda p: (p.node_id is not None, p.node_id or "", p.field, p.code))


def known_variables(flow: Flow) -> set[str]:
    """The variables a flow may read: built in, declared, or set by one of its nodes."""
    return set(BUILTIN_VARIABLES) | set(flow.variables) | set(_assigned(flow))


def _assigned(flow: Flow) -> Iterator[str]:
    for node in flow.nodes.values():
        if isinstance(node, CollectNode):
            yield node.into
        elif isinstance(node, SetVariableNode):
            yield node.variable
        elif isinstance(node, HttpLookupNode):
            yield from node.fields


def _flow_problems(flow: Flow) -> Iterator[Problem]:
    for i, language in enumerate(flow.languages):
        if language in flow.languages[:i]:
            yield Problem(
                None,
                f"languages[{i}]",
                f"The language {language!r} is listed twice.",
                "bad_languages",
            )
    start = flow.nodes.get(flow.start)
    if start is None:
        message = f"The start node {flow.start!r} does not exist."
        yield Problem(None, "start", message, "missing_start")
    elif not isinstance(start, StartNode):
        message = f"The start node {flow.start!r} is a {start.type} node, not a start node."
        yield Problem(None, "start", message, "bad_start")
    if flow.fallback is not None and flow.fallback not in flow.nodes:
        message = f"The fallback node {flow.fallback!r} does not exist."
        yield Problem(None, "fallback", message, "dangling_edge")
    for name in flow.variables:
        if (why := _name_problem(name)) is not None:
            yield Problem(None, f"variables.{name}", why, "bad_variable_name")
    if start is not None:
        roots = [flow.start] + ([flow.fallback] if flow.fallback else [])
        seen = reachable(flow, roots)
        for node_id in flow.nodes:
            if node_id not in seen:
                message = "No call can reach this node."
                yield Problem(node_id, "", message, "unreachable")
    for loop, reason in endless_loops(flow):
        path = " → ".join([*loop, loop[0]])
        message = f"The nodes {path} form a loop that never waits for the caller {reason}."
        yield Problem(loop[0], "", message, "loop_without_input")


def _name_problem(name: str) -> str | None:
    if name in KEYWORDS:
        return f"The name {name!r} is a keyword of the expression language."
    if name in BUILTIN_VARIABLES:
        return f"The variable {name!r} is set by the engine; choose another name."
    return None


Found = tuple[str, str, str]  # (field, message, code)


def _node_problems(
    flow: Flow, node: NodeBase, context: FlowContext, known: set[str]
) -> Iterator[Found]:
    for edge in node.edges():
        if edge.target is None:
            if edge.required:
                yield edge.field, "This edge must lead to a node.", "missing_edge"
        elif edge.target not in flow.nodes:
            message = f"This edge leads to {edge.target!r}, which does not exist."
            yield edge.field, message, "dangling_edge"
    for where, prompts in node.prompts():
        yield from _prompt_problems(flow, where, prompts, context)
    yield from _specific_problems(flow, node, context, known)


def _prompt_problems(
    flow: Flow, where: str, prompts: Prompts, context: FlowContext
) -> Iterator[Found]:
    for language in flow.languages:
        prompt = prompts.get(language)
        if prompt is None:
            yield f"{where}.{language}", f"No prompt in {language!r}.", "missing_prompt"
    for language, prompt in prompts.items():
        if language not in flow.languages:
            message = f"The language {language!r} is not one of the flow's languages."
            yield f"{where}.{language}", message, "unknown_language"
        if prompt.tts is not None and not prompt.tts.strip():
            yield f"{where}.{language}", f"The {language!r} text is empty.", "missing_prompt"
        if prompt.recording is not None and prompt.recording not in context.prompts:
            message = f"There is no recorded prompt {prompt.recording!r}."
            yield f"{where}.{language}", message, "unknown_prompt"


def _keys(keys: Iterable[tuple[str, str]]) -> Iterator[Found]:
    """invalid_dtmf and duplicate_dtmf over (field, key) pairs sharing one moment of input."""
    seen: dict[str, str] = {}
    for where, key in keys:
        if not _DTMF.fullmatch(key):
            yield where, f"The key {key!r} is not a phone key (0-9, * or #).", "invalid_dtmf"
        elif key in seen:
            message = f"Key {key!r} is already used by {seen[key]}."
            yield where, message, "duplicate_dtmf"
        else:
            seen[key] = where


def _expression_problems(where: str, text: str, known: set[str]) -> Iterator[Found]:
    try:
        expression = parse(text)
    except ExpressionError as exc:
        message = f"{exc.message[0].upper()}{exc.message[1:]} at column {exc.column}."
        yield where, message, "bad_expression"
        return
    for name in sorted(expression.variables - known):
        yield where, f"No variable {name!r} is declared or set in this flow.", "unknown_variable"


def _specific_problems(
    flow: Flow, node: NodeBase, context: FlowContext, known: set[str]
) -> Iterator[Found]:
    match node:
        case MenuNode():
            if not node.options:
                yield "options", "The menu offers no option.", "no_options"
            yield from _keys((f"options[{i}].key", o.key) for i, o in enumerate(node.options))
        case LanguageNode():
            if not node.options:
                yield "options", "The language choice offers no option.", "no_options"
            yield from _keys((f"options[{i}].key", o.key) for i, o in enumerate(node.options))
            for i, option in enumerate(node.options):
                if option.language not in flow.languages:
                    language = option.language
                    message = f"The language {language!r} is not one of the flow's languages."
                    yield f"options[{i}].language", message, "unknown_language"
        case CollectNode():
            yield from _collect_problems(node)
        case BusinessHoursNode():
            for where, message in schedule_problems(node.schedule):
                yield f"schedule.{where}", message[0].upper() + message[1:] + ".", "bad_schedule"
        case ConditionNode():
            for i, branch in enumerate(node.branches):
                yield from _expression_problems(f"branches[{i}].when", branch.when, known)
        case SetVariableNode():
            if node.variable in BUILTIN_VARIABLES:
                why = _name_problem(node.variable) or ""
                yield "variable", why, "bad_variable_name"
            yield from _expression_problems("value", node.value, known)
        case HttpLookupNode():
            yield from _http_problems(node, known)
        case QueueNode():
            yield from _service_problems(node.service_id, context)
            if node.callback_offer is not None:
                yield from _keys([("callback_offer.key", node.callback_offer.key)])
        case VoicemailNode():
            yield from _service_problems(node.service_id, context)
        case CallbackNode():
            yield from _callback_problems(node, context)
        case TransferNode():
            target = node.target
            if target.agent_id is not None and target.agent_id not in context.agents:
                yield "target.agent_id", f"There is no agent {target.agent_id}.", "unknown_agent"
            if target.line is not None and target.line not in context.lines:
                yield "target.line", f"There is no line {target.line!r}.", "unknown_line"
        case SubflowNode():
            if node.flow_id not in context.subflows:
                message = f"There is no sub-flow {node.flow_id}."
                yield "flow_id", message, "unknown_subflow"
        case ReturnNode():
            if flow.kind != "subflow":
                message = "Only a sub-flow can return; this flow is a main flow."
                yield "type", message, "return_outside_subflow"
        case _:
            pass


def _collect_problems(node: CollectNode) -> Iterator[Found]:
    if node.into in BUILTIN_VARIABLES:
        yield "into", _name_problem(node.into) or "", "bad_variable_name"
    if node.min_length > node.max_length:
        message = f"The minimum length {node.min_length} is above the maximum {node.max_length}."
        yield "min_length", message, "bad_length"
    if node.terminator is not None and node.terminator not in ("#", "*"):
        yield "terminator", "The terminator must be # or *.", "invalid_dtmf"
    if node.pattern is not None:
        try:
            compile_pattern(node.pattern)
        except PatternError as exc:
            yield "pattern", f"The pattern {exc}.", "bad_pattern"


def _http_problems(node: HttpLookupNode, known: set[str]) -> Iterator[Found]:
    url = urlsplit(node.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        message = f"The URL {node.url!r} is not an http:// or https:// address with a host."
        yield "url", message, "bad_url"
    for i, name in enumerate(node.send):
        if name not in known:
            message = f"No variable {name!r} is declared or set in this flow."
            yield f"send[{i}]", message, "unknown_variable"
    for name, path in node.fields.items():
        if name in BUILTIN_VARIABLES:
            yield f"fields.{name}", _name_problem(name) or "", "bad_variable_name"
        if not _FIELD_PATH.fullmatch(path):
            message = f"The path {path!r} is not a dotted path like 'customer.name' or 'items.0'."
            yield f"fields.{name}", message, "bad_field_path"


def _service_problems(service_id: int, context: FlowContext) -> Iterator[Found]:
    if service_id not in context.services:
        yield "service_id", f"There is no service {service_id}.", "unknown_service"


def _callback_problems(node: CallbackNode, context: FlowContext) -> Iterator[Found]:
    yield from _service_problems(node.service_id, context)
    yield from _keys([("confirm_key", node.confirm_key), ("change_key", node.change_key)])
    yield from _keys((f"slots[{i}].key", s.key) for i, s in enumerate(node.slots))
    if node.number_min_length > node.number_max_length:
        message = (
            f"The minimum length {node.number_min_length} is above the maximum "
            f"{node.number_max_length}."
        )
        yield "number_min_length", message, "bad_length"
    if node.slots and node.slot_prompt is None:
        yield "slot_prompt", "Slots are offered, so they need a prompt.", "missing_prompt"
    if (zone := zone_problem(node.time_zone)) is not None:
        yield "time_zone", zone[0].upper() + zone[1:] + ".", "bad_schedule"
    for i, slot in enumerate(node.slots):
        if slot.at is not None and (clock := clock_problem(slot.at)) is not None:
            yield f"slots[{i}].at", clock[0].upper() + clock[1:] + ".", "bad_schedule"
