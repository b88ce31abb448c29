"""One step's working copy of a call's state, with the moves node handlers share.

Handlers change this mutable copy and append actions and visits; `finish` freezes it back
into a CallState, so the persisted state is only ever built in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ivr_messenger.expression_tree import Value
from ivr_messenger.flow import Flow
from ivr_messenger.node_parts import Prompts
from ivr_messenger.nodes import NodeBase
from ivr_messenger.session import (
    Action,
    AwaitDigits,
    Awaiting,
    CallState,
    FlowError,
    Hangup,
    HungUp,
    Outcome,
    Play,
    RecordMessage,
    ReturnPoint,
    Say,
    Step,
    Visit,
)


@dataclass
class _VisitDraft:
    flow_id: int | None
    node: str
    type: str
    prompts: list[Say] = field(default_factory=list)
    input: str | None = None
    note: str | None = None
    branch: str | None = None
    target: str | None = None


class Run:
    """The call's state while one event is applied, and what the step has done so far."""

    def __init__(
        self, flow: Flow, subflows: Mapping[int, Flow], state: CallState, now: datetime
    ) -> None:
        """Copy the state so handlers can change it freely."""
        self.main = flow
        self.subflows = subflows
        self.now = now
        self.flow_id = state.flow_id
        self.node_id = state.node
        self.returns: list[ReturnPoint] = list(state.returns)
        self.language = state.language
        self.variables: dict[str, Value] = dict(state.variables)
        self.retries = state.retries
        self.phase = state.phase
        self.pending = state.pending
        self.awaiting: Awaiting | None = state.awaiting
        self.outcome: Outcome | None = state.outcome
        self.actions: list[Action] = []
        self.visits: list[Visit] = []
        self._draft: _VisitDraft | None = None
        self._fell_back = False

    @property
    def flow(self) -> Flow:
        """The flow being run: the line's, or the sub-flow the call is in."""
        if self.flow_id is None:
            return self.main
        return self.subflows[self.flow_id]

    @property
    def node(self) -> NodeBase:
        """The node the call is at."""
        return self.flow.nodes[self.node_id]

    def enter(self, node_id: str) -> None:
        """Arrive at a node: its counters start afresh."""
        self.node_id = node_id
        self.retries = 0
        self.phase = None
        self.pending = None
        self.awaiting = None
        self.begin_visit()

    def begin_visit(self) -> None:
        """Start recording what this step does at the current node."""
        self._flush()
        node = self.flow.nodes.get(self.node_id)
        kind = getattr(node, "type", "?")
        self._draft = _VisitDraft(self.flow_id, self.node_id, kind)

    def visit(
        self,
        *,
        input: str | None = None,
        note: str | None = None,
        branch: str | None = None,
        target: str | None = None,
    ) -> None:
        """Record the input taken, a note, and the branch followed with its target."""
        if self._draft is None:
            self.begin_visit()
        assert self._draft is not None
        if input is not None:
            self._draft.input = input
        if note is not None:
            self._draft.note = note
        if branch is not None:
            self._draft.branch = branch
            self._draft.target = target

    @property
    def took_input(self) -> bool:
        """Whether a node took the event: every handler records what it took as `input`."""
        if self._draft is not None and self._draft.input is not None:
            return True
        return any(visit.input is not None for visit in self.visits)

    def act(self, action: Action) -> None:
        """Append an action for the executor."""
        self.actions.append(action)

    def say(self, prompts: Prompts | None) -> tuple[Say, ...]:
        """The prompt in the caller's language, else the flow's default, else any."""
        if not prompts:
            return ()
        for language in (self.language, self.flow.default_language, *prompts):
            prompt = prompts.get(language)
            if prompt is None:
                continue
            if prompt.tts is not None:
                return (Say("tts", prompt.tts, language),)
            assert prompt.recording is not None
            return (Say("recording", prompt.recording, language),)
        return ()  # pragma: no cover - the loop always finds one of `prompts`' own keys

    def play(self, prompts: Prompts | None) -> None:
        """Play a prompt to the end, if there is one."""
        said = self.say(prompts)
        if said:
            self.act(Play(self.node_id, said))
            self._noted(said)

    def wait(self, awaiting: Awaiting, action: Action) -> None:
        """Stop here until the executor reports what `action` asks for."""
        self.awaiting = awaiting
        self.act(action)
        if isinstance(action, AwaitDigits | RecordMessage):
            self._noted(action.prompts)

    def _noted(self, said: tuple[Say, ...]) -> None:
        if self._draft is None:
            self.begin_visit()
        assert self._draft is not None
        self._draft.prompts.extend(said)

    def follow(self, branch: str, target: str | None) -> str | None:
        """Leave by an edge; an open edge (null) hangs up."""
        self.visit(branch=branch, target=target)
        self.awaiting = None
        if target is None:
            self.end_call(HungUp(reason="flow"), "flow")
        return target

    def error(self, message: str) -> None:
        """Report a run-time failure of the flow."""
        self.act(FlowError(self.node_id, message))

    def fail(self, message: str) -> str | None:
        """A run-time failure: go to the fallback node (once per step), else hang up.

        The current flow's fallback is tried first, then the line's flow's, leaving any
        sub-flows; a failure at or after the fallback in the same step hangs up.
        """
        self.error(message)
        self.awaiting = None
        for flow_id, flow in ((self.flow_id, self.flow), (None, self.main)):
            if not self._fell_back and flow.fallback is not None:
                self._fell_back = True
                self.visit(branch="fallback", target=flow.fallback)
                if flow_id is None:
                    self.returns.clear()
                self.flow_id = flow_id
                return flow.fallback
        self.end_call(HungUp(reason="error"), "error")
        return None

    def end_call(self, outcome: Outcome, hangup_reason: str | None) -> None:
        """The call leaves the flow; `hangup_reason` None leaves the channel up (to an agent)."""
        if hangup_reason is not None:
            self.act(Hangup(hangup_reason))
        self.outcome = outcome
        self.awaiting = None

    def _flush(self) -> None:
        if self._draft is not None:
            draft = self._draft
            self.visits.append(
                Visit(
                    draft.flow_id,
                    draft.node,
                    draft.type,
                    tuple(draft.prompts),
                    draft.input,
                    draft.note,
                    draft.branch,
                    draft.target,
                )
            )
            self._draft = None

    def finish(self) -> Step:
        """Freeze the working copy into the next state."""
        self._flush()
        state = CallState(
            flow_id=self.flow_id,
            node=self.node_id,
            returns=self.returns,
            language=self.language,
            variables=self.variables,
            retries=self.retries,
            phase=self.phase,
            pending=self.pending,
            awaiting=None if self.outcome is not None else self.awaiting,
            outcome=self.outcome,
        )
        return Step(state, tuple(self.actions), tuple(self.visits))
