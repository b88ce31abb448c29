"""The step function: a call's state plus one event gives the next state and the actions to run.

    step(flow, state, event, now=..., subflows=...) -> Step(state, actions, visits)

Pure and deterministic: no I/O and no clock of its own (`now` is given, for business hours
and call-back times). The dry-run walker drives it with scripted events; the executor over
ARI will drive it with real ones, persisting `Step.state` after each step, so a call resumes
where it was after an engine restart. From one event the call runs through nodes that need
nothing from outside until it must wait (a key, an HTTP answer, an agent...) or leaves the
flow; MAX_HOPS bounds that run, so even an unvalidated flow cannot spin.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache

from ivr_messenger.expression_eval import evaluate
from ivr_messenger.expression_tree import Value
from ivr_messenger.expressions import ExpressionError, parse
from ivr_messenger.flow import Flow
from ivr_messenger.nodes import (
    BusinessHoursNode,
    ConditionNode,
    HangupNode,
    NodeBase,
    PlayNode,
    ReturnNode,
    SetVariableNode,
    StartNode,
    SubflowNode,
)
from ivr_messenger.schedule import state_at
from ivr_messenger.session import (
    CallerHungUp,
    CallState,
    Event,
    HungUp,
    LeaveQueue,
    Resume,
    ReturnPoint,
    Start,
    Step,
)
from ivr_messenger.step_inputs import enter_waiting, react, resume_waiting
from ivr_messenger.step_run import Run
from ivr_messenger.validate import known_variables

# Nodes one event may run through; more means a loop that never waits (see validate).
MAX_HOPS = 100
# Sub-flows calling sub-flows: deeper than this is taken for a recursion.
MAX_SUBFLOW_DEPTH = 8

# A flow's expressions are few and reused by every call, so each is parsed once per process.
_parse = lru_cache(maxsize=4096)(parse)


def new_call(
    flow: Flow,
    *,
    caller: str = "",
    dialled: str = "",
    language: str | None = None,
    variables: Mapping[str, Value] | None = None,
) -> CallState:
    """The state of a call about to enter `flow` (feed it Start).

    Variables: every one a node sets starts as "", then the declared defaults, then the
    built-ins, then `variables` (the dry run's initial ones), so a valid flow never reads an
    unset variable.
    """
    chosen = language if language in flow.languages else flow.default_language
    values: dict[str, Value] = dict.fromkeys(sorted(known_variables(flow)), "")
    values.update(flow.variables)
    values.update({"caller": caller, "dialled": dialled, "language": chosen})
    values.update(variables or {})
    return CallState(node=flow.start, language=chosen, variables=values)


def step(
    flow: Flow,
    state: CallState,
    event: Event,
    *,
    now: datetime,
    subflows: Mapping[int, Flow] | None = None,
) -> Step:
    """Apply one event to a call: Start a new call, then the events its actions ask for.

    `flow` is the version the call started on; `subflows` the sub-flow versions pinned for
    it. An ended call, or an event the call does not wait for, changes nothing.
    """
    if state.ended:
        return Step(state)
    run = Run(flow, subflows or {}, state, now)
    if (lost := _lost(run, state)) is not None:
        # Only an executor passing the wrong versions gets here; the call must go on.
        _run_from(run, run.fail(lost))
        return run.finish()
    match event:
        case CallerHungUp():
            if state.awaiting == "queue":
                run.act(LeaveQueue(state.node))
            run.begin_visit()
            run.visit(input="caller hung up")
            run.end_call(HungUp(reason="caller"), None)
        case Start() if state.awaiting is None:
            _run_from(run, state.node)
        case Resume() if state.awaiting is None:
            _run_from(run, state.node)  # the call had not started its flow yet
        case Resume():
            if not resume_waiting(run):
                _run_from(run, run.fail("the call could not resume here after a restart"))
        case _ if state.awaiting is not None:
            target = react(run, event)
            if not run.took_input:
                return Step(state)  # not an event this node waits for
            _run_from(run, target)
        case _:
            return Step(state)
    return run.finish()


def _lost(run: Run, state: CallState) -> str | None:
    """Why the call's place cannot be found in the flows given (then it leaves for the
    fallback of the line's flow), or None."""
    if run.flow_id is not None and run.flow_id not in run.subflows:
        run.flow_id, run.returns = None, []
        return f"sub-flow {state.flow_id} is not available"
    if state.awaiting is not None and state.node not in run.flow.nodes:
        return f"the call waits at {state.node!r}, which this flow does not have"
    return None


def _run_from(run: Run, target: str | None) -> None:
    hops = 0
    while target is not None:
        hops += 1
        if hops > MAX_HOPS:
            run.error(f"more than {MAX_HOPS} nodes in a row without waiting for the caller")
            run.end_call(HungUp(reason="loop"), "loop")
            return
        if target not in run.flow.nodes:
            target = run.fail(f"there is no node {target!r}")
            continue
        run.enter(target)
        target = _enter(run, run.flow.nodes[target])


def _enter(run: Run, node: NodeBase) -> str | None:
    """Run a node on arrival; the next node to enter, or None when the call waits or ended."""
    match node:
        case StartNode():
            return run.follow("next", node.next)
        case PlayNode():
            run.play(node.prompt)
            return run.follow("next", node.next)
        case BusinessHoursNode():
            opening = state_at(node.schedule, run.now)
            run.visit(note=f"{opening} at {run.now.isoformat()}")
            if opening == "holiday" and node.holiday is None:
                return run.follow("closed", node.closed)
            return run.follow(opening, getattr(node, opening))
        case ConditionNode():
            return _condition(run, node)
        case SetVariableNode():
            try:
                value = evaluate(_parse(node.value), run.variables)
            except ExpressionError as exc:
                return run.fail(f"value: {exc}")
            run.variables[node.variable] = value
            run.visit(note=f"{node.variable} = {value!r}")
            return run.follow("next", node.next)
        case SubflowNode():
            return _enter_subflow(run, node)
        case ReturnNode():
            return _return(run)
        case HangupNode():
            run.play(node.prompt)
            run.end_call(HungUp(reason="flow"), "flow")
            return None
    return enter_waiting(run, node)


def _condition(run: Run, node: ConditionNode) -> str | None:
    for i, branch in enumerate(node.branches):
        try:
            value = evaluate(_parse(branch.when), run.variables)
        except ExpressionError as exc:
            return run.fail(f"branches[{i}].when: {exc}")
        if not isinstance(value, bool):
            return run.fail(f"branches[{i}].when gave {value!r}, not true or false")
        if value:
            run.visit(note=f"{branch.when} is true")
            return run.follow(f"branches[{i}]", branch.next)
    return run.follow("else", node.otherwise)


def _enter_subflow(run: Run, node: SubflowNode) -> str | None:
    sub = run.subflows.get(node.flow_id)
    if sub is None:
        return run.fail(f"sub-flow {node.flow_id} is not available")
    if len(run.returns) >= MAX_SUBFLOW_DEPTH:
        return run.fail(f"sub-flows nested more than {MAX_SUBFLOW_DEPTH} deep")
    run.visit(branch="subflow", target=f"{sub.start} in flow {node.flow_id}")
    run.returns.append(ReturnPoint(flow_id=run.flow_id, node=node.next))
    run.flow_id = node.flow_id
    for name, value in sub.variables.items():
        run.variables.setdefault(name, value)
    for name in known_variables(sub):
        run.variables.setdefault(name, "")
    if run.language not in sub.languages:
        run.language = sub.default_language
    return sub.start


def _return(run: Run) -> str | None:
    if not run.returns:
        # A sub-flow tried on its own: returning ends the call.
        run.visit(branch="return", target=None)
        run.end_call(HungUp(reason="flow"), "flow")
        return None
    back = run.returns.pop()
    run.follow("return", back.node)
    run.flow_id = back.flow_id
    return back.node
