"""Request and reply models of the call-flow API (they also generate its OpenAPI document).

Kept apart from schemas.py, which holds the rest of the API, because flows bring many models
of their own; the documents themselves are ivr_messenger's and are passed as JSON objects.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field

from ivr_messenger import Flow, FlowDiff, Problem, Script, Walk
from ivr_messenger.session import HttpFailed, HttpResponse
from ivr_messenger.versions import ABSENT, FieldChange
from ivr_messenger.walker import describe_outcome
from server.api.schemas import Strict
from server.db.models import CallFlowVersion

# A dry run's inputs and variables: bounded so one request stays cheap.
MAX_SCRIPT = 500
# JSON has no NaN or infinity, so a reply could not carry them back.
VariableValue = str | int | Annotated[float, Field(allow_inf_nan=False)] | bool


class FlowIn(Strict):
    """A new flow: its name and first draft (saved even with problems)."""

    name: str = Field(min_length=1, max_length=100)
    document: dict[str, Any] = Field(description="a flow document (docs/ivr.md)")


class DraftIn(Strict):
    """A flow's new draft."""

    document: dict[str, Any] = Field(description="a flow document (docs/ivr.md)")


class ProblemOut(BaseModel):
    """One problem found by the validator, as ivr_messenger.validate reports it."""

    node_id: str | None = Field(description="None for the flow itself")
    field: str
    code: str
    message: str

    @classmethod
    def of(cls, problem: Problem) -> ProblemOut:
        """From the validator's Problem."""
        return cls(
            node_id=problem.node_id,
            field=problem.field,
            code=problem.code,
            message=problem.message,
        )


class ProblemList(BaseModel):
    """Every problem of a document; empty means it can be published."""

    problems: list[ProblemOut]


class DraftStatus(BaseModel):
    """Whether the draft can be published, and whether it differs from the current version."""

    valid: bool
    problems: int
    unpublished_changes: bool = Field(description="the draft differs from the current version")


class FlowSummary(BaseModel):
    """A flow in the list: its current version and its draft's status."""

    id: int
    name: str
    kind: Literal["main", "subflow"] = Field(description="the draft's kind")
    current_version: int | None = Field(description="None: never published")
    draft_updated_at: datetime
    created_at: datetime
    draft: DraftStatus


class FlowList(BaseModel):
    """Every flow of the tenant, by name."""

    items: list[FlowSummary]


class FlowOut(FlowSummary):
    """A flow with its draft, the draft's problems and the lines it answers."""

    document: dict[str, Any]
    problems: list[ProblemOut]
    line_ids: list[int]


class PublishIn(Strict):
    """An optional note saying what the version changes."""

    note: str = Field("", max_length=500)


class RollbackIn(Strict):
    """The version to publish again."""

    version: int = Field(ge=1)


class VersionSummary(BaseModel):
    """A published version: immutable once made."""

    flow_id: int
    number: int
    kind: Literal["main", "subflow"]
    published_at: datetime
    published_by: int | None
    note: str

    @classmethod
    def of(cls, version: CallFlowVersion) -> VersionSummary:
        """From a row whose document may not be loaded."""
        return cls(
            flow_id=version.flow_id,
            number=version.number,
            kind=version.kind,
            published_at=version.published_at,
            published_by=version.published_by,
            note=version.note,
        )


class VersionList(BaseModel):
    """A flow's versions, newest first."""

    items: list[VersionSummary]


class VersionOut(VersionSummary):
    """A published version with its document."""

    document: dict[str, Any]

    @classmethod
    def full(cls, version: CallFlowVersion) -> VersionOut:
        """From a row with its document."""
        summary = VersionSummary.of(version).model_dump()
        return cls(**summary, document=version.document)


class DiffQuery(Strict):
    """Which two documents to compare: a version and a later version or the draft."""

    from_version: int = Field(alias="from", ge=1)
    to: str = Field(
        "draft", pattern=r"^(draft|[1-9][0-9]{0,8})$", description="a version number, or draft"
    )

    @property
    def to_version(self) -> int | Literal["draft"]:
        """`to` as a version number, or "draft"."""
        return "draft" if self.to == "draft" else int(self.to)


class FieldChangeOut(BaseModel):
    """One field that changed; `before`/`after` are null when it was added/removed."""

    path: str
    change: Literal["added", "removed", "changed"]
    before: Any = None
    after: Any = None
    text: str

    @classmethod
    def of(cls, change: FieldChange) -> FieldChangeOut:
        """From the core's FieldChange (ABSENT becomes null and says added/removed)."""
        kind: Literal["added", "removed", "changed"] = "changed"
        if change.before is ABSENT:
            kind = "added"
        elif change.after is ABSENT:
            kind = "removed"
        return cls(
            path=change.path,
            change=kind,
            before=None if change.before is ABSENT else change.before,
            after=None if change.after is ABSENT else change.after,
            text=change.describe(),
        )


class NodeRef(BaseModel):
    """A node added or removed."""

    node_id: str
    type: str


class NodeChanges(BaseModel):
    """The changed fields of one node present on both sides."""

    node_id: str
    changes: list[FieldChangeOut]


class DiffOut(BaseModel):
    """What changed between two documents; `lines` is the same in words."""

    from_version: int
    to: int | Literal["draft"]
    empty: bool
    settings: list[FieldChangeOut]
    added: list[NodeRef]
    removed: list[NodeRef]
    changed: list[NodeChanges]
    lines: list[str]

    @classmethod
    def of(
        cls, diff: FlowDiff, old: Flow, new: Flow, from_version: int, to: int | Literal["draft"]
    ) -> DiffOut:
        """From the core's FlowDiff of `old` and `new`."""
        return cls(
            from_version=from_version,
            to=to,
            empty=diff.empty,
            settings=[FieldChangeOut.of(c) for c in diff.settings],
            added=[NodeRef(node_id=n, type=new.nodes[n].type) for n in diff.added],
            removed=[NodeRef(node_id=n, type=old.nodes[n].type) for n in diff.removed],
            changed=[
                NodeChanges(node_id=node_id, changes=[FieldChangeOut.of(c) for c in changes])
                for node_id, changes in diff.changed
            ],
            lines=diff.lines(old, new),
        )


class HttpAnswerIn(Strict):
    """A scripted answer to an HTTP lookup: a status and JSON body, or a failure."""

    status: int | None = Field(None, ge=100, le=599)
    body: Any = None
    failed: str | None = Field(None, max_length=200, description="the lookup fails with this")

    def event(self) -> HttpResponse | HttpFailed:
        """The event the walker feeds the lookup node (no status: a failure)."""
        if self.failed is not None or self.status is None:
            return HttpFailed(self.failed or "no status in the script")
        return HttpResponse(self.status, self.body)


class TryIn(Strict):
    """A dry run of the draft: the caller's inputs in order, and the world's answers."""

    script: list[str] = Field(
        default_factory=list,
        max_length=MAX_SCRIPT,
        description='one per wait: keys ("1", "1234#"), "timeout", "hangup"; queued: "answer"',
    )
    at: AwareDatetime | None = Field(None, description="the call's time (default: now)")
    caller: str = Field("", max_length=32)
    dialled: str = Field("", max_length=32)
    language: str | None = Field(None, max_length=16)
    variables: dict[str, VariableValue] = Field(default_factory=dict, max_length=100)
    http: dict[str, HttpAnswerIn] = Field(
        default_factory=dict, description="lookup answers by node id (unscripted: failure)"
    )
    failed_transfers: list[str] = Field(
        default_factory=list, max_length=100, description="transfer nodes that go unanswered"
    )

    def script_at(self, at: datetime) -> Script:
        """The walker's script for a call at `at`."""
        return Script(
            clock=at,
            inputs=self.script,
            http={node: answer.event() for node, answer in self.http.items()},
            failed_transfers=frozenset(self.failed_transfers),
            caller=self.caller,
            dialled=self.dialled,
            language=self.language,
            variables=self.variables,
        )


class SayOut(BaseModel):
    """One thing played: text to speak, a recorded prompt, or digits."""

    kind: str
    value: str
    language: str


class VisitOut(BaseModel):
    """What the call did at one node."""

    flow_id: int | None = Field(description="None: the flow itself, else a sub-flow")
    node: str
    type: str
    prompts: list[SayOut]
    input: str | None
    note: str | None
    branch: str | None
    target: str | None


class OutcomeOut(BaseModel):
    """How the dry run ended: queued, transferred, voicemail, callback, hung_up, waiting
    (the script ran out) or step_limit; `data` holds the outcome's fields."""

    kind: str
    text: str
    data: dict[str, Any]


class TryOut(BaseModel):
    """The path the call took, the variables at the end, the outcome, and the draft's
    problems (a draft with problems can still be tried)."""

    at: datetime
    path: list[VisitOut]
    lines: list[str]
    variables: dict[str, VariableValue]
    outcome: OutcomeOut
    steps: int
    problems: list[ProblemOut]

    @classmethod
    def of(
        cls, walk: Walk, at: datetime, services: dict[int, str], problems: list[Problem]
    ) -> TryOut:
        """From the walker's result."""
        outcome = walk.outcome
        if isinstance(outcome, BaseModel):
            data = outcome.model_dump(mode="json")
        else:
            data = dataclasses.asdict(outcome)
        kind = str(data.pop("kind"))
        return cls(
            at=at,
            path=[
                VisitOut(
                    flow_id=v.flow_id,
                    node=v.node,
                    type=v.type,
                    prompts=[
                        SayOut(kind=s.kind, value=s.value, language=s.language) for s in v.prompts
                    ],
                    input=v.input,
                    note=v.note,
                    branch=v.branch,
                    target=v.target,
                )
                for v in walk.path
            ],
            lines=walk.lines(services),
            variables=walk.variables,
            outcome=OutcomeOut(kind=kind, text=describe_outcome(outcome, services), data=data),
            steps=walk.steps,
            problems=[ProblemOut.of(p) for p in problems],
        )


class LineFlowIn(Strict):
    """The flow a line's calls follow; null sends them straight to the line's service."""

    call_flow_id: int | None


class LineFlowOut(BaseModel):
    """A line and where its calls go."""

    id: int
    number: str
    name: str
    service_id: int | None
    call_flow_id: int | None
    call_flow_version: int | None = Field(description="the version new calls start on")
