"""Call flows in the database: drafts, immutable published versions, lines pointing to flows.

The rules are ivr_messenger's (docs/ivr.md): any document that parses can be saved as a
draft, only one without problems is published, and publishing (or rolling back) appends a
version numbered one above the last; nothing here updates or deletes a version. What a flow
may refer to is read from the database in one place, `flow_context`.

A call pins the version it starts on, with the sub-flow versions current at that moment:
`published_flow_for_line` gives the executor all of them, `pinned_flow` loads the same
again after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from ivr_messenger import (
    Flow,
    FlowContext,
    Problem,
    PublishRefused,
    can_publish,
    parse_flow,
    validate,
)
from ivr_messenger.nodes import SubflowNode
from server.db.models import AgentProfile, CallFlow, CallFlowVersion, Line, Service, User
from server.db.repositories._crud import get_scoped, require_scoped


class FlowNameTaken(ValueError):
    """The tenant already has a flow of that name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a call flow named {name!r} already exists")
        self.name = name


class FlowNotAssignable(Exception):
    """A line cannot point to this flow: it has no published version, or it is a sub-flow."""


class FlowInUse(Exception):
    """The version would turn a flow that lines point to into a sub-flow."""


@dataclass(frozen=True, slots=True)
class PublishedFlow:
    """A flow's version as a call runs it, with the sub-flow versions pinned alongside.

    `subflows` is what ivr_messenger.step takes; `subflow_versions` (flow id → version
    number) is what to persist with the call to load the same documents again.
    """

    flow_id: int
    version: int
    flow: Flow
    subflows: Mapping[int, Flow]
    subflow_versions: Mapping[int, int]


# -- what flows may refer to ------------------------------------------------------------


async def flow_context(session: AsyncSession, tenant_id: int) -> FlowContext:
    """The tenant's services, agents, line numbers and published sub-flows, for validate().

    Agents are users with an agent profile who are not disabled. Sub-flows are flows whose
    current published version is of kind "subflow": that is the version a call would run.
    Recorded prompts are not stored yet, so no recording id is known.
    """
    services = await session.execute(
        select(Service.id, Service.name).where(Service.tenant_id == tenant_id)
    )
    agents = await session.scalars(
        select(User.id)
        .join(AgentProfile, AgentProfile.user_id == User.id)
        .where(User.tenant_id == tenant_id, User.disabled.is_(False))
    )
    lines = await session.scalars(select(Line.number).where(Line.tenant_id == tenant_id))
    subflows = await session.scalars(
        select(CallFlow.id)
        .join(
            CallFlowVersion,
            (CallFlowVersion.flow_id == CallFlow.id)
            & (CallFlowVersion.number == CallFlow.current_version),
        )
        .where(CallFlow.tenant_id == tenant_id, CallFlowVersion.kind == "subflow")
    )
    return FlowContext(
        services=dict(services.tuples().all()),
        agents=frozenset(agents),
        lines=frozenset(lines),
        prompts=frozenset(),
        subflows=frozenset(subflows),
    )


# -- flows and drafts -------------------------------------------------------------------


async def create_flow(
    session: AsyncSession, tenant_id: int, *, name: str, document: Flow, at: datetime
) -> CallFlow:
    """Insert a flow with `document` as its draft and no published version.

    FlowNameTaken if the tenant has a flow of that name (the unique constraint still
    guards a concurrent insert, with IntegrityError).
    """
    taken = await session.scalar(
        select(CallFlow.id).where(CallFlow.tenant_id == tenant_id, CallFlow.name == name)
    )
    if taken is not None:
        raise FlowNameTaken(name)
    flow = CallFlow(
        tenant_id=tenant_id,
        name=name,
        kind=document.kind,
        draft=document.to_data(),
        draft_updated_at=at,
        created_at=at,
        current_version=None,
    )
    session.add(flow)
    await session.flush()
    return flow


async def get_flow(
    session: AsyncSession, tenant_id: int, flow_id: int, *, lock: bool = False
) -> CallFlow | None:
    """The tenant's flow, else None; `lock` holds its row (PostgreSQL) until commit.

    Publishing locks the flow, so two publishes of one flow take numbers one after the
    other (on SQLite the unique number still refuses the second with IntegrityError).
    """
    if not lock:
        return await get_scoped(session, CallFlow, tenant_id, flow_id)
    stmt = (
        select(CallFlow)
        .where(CallFlow.id == flow_id, CallFlow.tenant_id == tenant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def list_flows(session: AsyncSession, tenant_id: int) -> list[CallFlow]:
    """The tenant's flows by name."""
    stmt = select(CallFlow).where(CallFlow.tenant_id == tenant_id).order_by(CallFlow.name)
    return list(await session.scalars(stmt))


def draft_of(flow: CallFlow) -> Flow:
    """The flow's draft as a document (stored drafts always parse)."""
    return parse_flow(flow.draft)


async def save_draft(
    session: AsyncSession, flow: CallFlow, document: Flow, at: datetime
) -> CallFlow:
    """Replace the draft; the published versions stay as they are."""
    flow.draft = document.to_data()
    flow.kind = document.kind
    flow.draft_updated_at = at
    await session.flush()
    return flow


# -- versions ---------------------------------------------------------------------------


async def publish_draft(
    session: AsyncSession,
    flow: CallFlow,
    context: FlowContext,
    *,
    by: int | None,
    at: datetime,
    note: str = "",
) -> CallFlowVersion:
    """Publish the draft as the next version, or raise PublishRefused with its problems.

    FlowInUse if the draft is a sub-flow and lines point to the flow.
    """
    draft = draft_of(flow)
    return await _append_version(
        session, flow, draft, validate(draft, context), by=by, at=at, note=note
    )


async def rollback_flow(
    session: AsyncSession,
    flow: CallFlow,
    number: int,
    context: FlowContext,
    *,
    by: int | None,
    at: datetime,
) -> CallFlowVersion:
    """Publish version `number`'s document again as a new version; the draft is kept.

    The document is validated against today's `context` (a service it names may be gone):
    PublishRefused with the problems if it is no longer valid; LookupError if there is no
    such version.
    """
    old = await get_version(session, flow.tenant_id, flow.id, number)
    if old is None:
        raise LookupError(f"call flow {flow.id} has no version {number}")
    document = version_flow(old)
    problems = validate(document, context)
    note = f"rollback to version {number}"
    return await _append_version(session, flow, document, problems, by=by, at=at, note=note)


async def _append_version(
    session: AsyncSession,
    flow: CallFlow,
    document: Flow,
    problems: Sequence[Problem],
    *,
    by: int | None,
    at: datetime,
    note: str,
) -> CallFlowVersion:
    if not can_publish(problems):
        raise PublishRefused(problems)
    if document.kind == "subflow" and await lines_of_flow(session, flow.tenant_id, flow.id):
        raise FlowInUse(
            f"call flow {flow.id} answers lines, so it cannot become a sub-flow; "
            "point the lines elsewhere first"
        )
    last = await session.scalar(
        select(func.max(CallFlowVersion.number)).where(CallFlowVersion.flow_id == flow.id)
    )
    version = CallFlowVersion(
        flow_id=flow.id,
        number=(last or 0) + 1,
        kind=document.kind,
        document=document.to_data(),
        published_at=at,
        published_by=by,
        note=note,
    )
    session.add(version)
    flow.current_version = version.number
    await session.flush()
    return version


async def list_versions(session: AsyncSession, flow: CallFlow) -> list[CallFlowVersion]:
    """The flow's versions, newest first, without their documents (reading one raises)."""
    stmt = (
        select(CallFlowVersion)
        .where(CallFlowVersion.flow_id == flow.id)
        .order_by(CallFlowVersion.number.desc())
        .options(defer(CallFlowVersion.document, raiseload=True))
    )
    return list(await session.scalars(stmt))


async def get_version(
    session: AsyncSession, tenant_id: int, flow_id: int, number: int
) -> CallFlowVersion | None:
    """Version `number` of the tenant's flow, else None."""
    stmt = (
        select(CallFlowVersion)
        .join(CallFlow, CallFlow.id == CallFlowVersion.flow_id)
        .where(
            CallFlow.tenant_id == tenant_id,
            CallFlowVersion.flow_id == flow_id,
            CallFlowVersion.number == number,
        )
    )
    return (await session.scalars(stmt)).one_or_none()


def version_flow(version: CallFlowVersion) -> Flow:
    """A published version's document."""
    return parse_flow(version.document)


# -- lines ------------------------------------------------------------------------------


async def lines_of_flow(session: AsyncSession, tenant_id: int, flow_id: int) -> list[Line]:
    """The tenant's lines pointing to the flow, by number."""
    stmt = (
        select(Line)
        .where(Line.tenant_id == tenant_id, Line.call_flow_id == flow_id)
        .order_by(Line.number)
    )
    return list(await session.scalars(stmt))


async def set_line_flow(
    session: AsyncSession, tenant_id: int, line_id: int, flow_id: int | None
) -> Line:
    """Point a line to a flow (None: back to its service).

    LookupError if the line or the flow is not the tenant's; FlowNotAssignable if the flow
    has no published version or its current version is a sub-flow.
    """
    line = await require_scoped(session, Line, tenant_id, line_id)
    if flow_id is not None:
        flow = await require_scoped(session, CallFlow, tenant_id, flow_id)
        if flow.current_version is None:
            raise FlowNotAssignable(f"call flow {flow_id} has no published version yet")
        current = await get_version(session, tenant_id, flow_id, flow.current_version)
        if current is not None and current.kind == "subflow":
            raise FlowNotAssignable(
                f"call flow {flow_id} is a sub-flow: only another flow can run it"
            )
    line.call_flow_id = flow_id
    await session.flush()
    return line


# -- what the executor loads ------------------------------------------------------------


async def published_flow_for_line(session: AsyncSession, line: Line) -> PublishedFlow | None:
    """The version a new call on `line` starts on, with its sub-flows pinned; None when the
    line goes straight to its service (or its flow has never been published)."""
    if line.call_flow_id is None:
        return None
    flow = await get_flow(session, line.tenant_id, line.call_flow_id)
    if flow is None or flow.current_version is None:
        return None
    return await pinned_flow(session, line.tenant_id, flow.id, flow.current_version)


async def pinned_flow(
    session: AsyncSession,
    tenant_id: int,
    flow_id: int,
    version: int,
    subflow_versions: Mapping[int, int] | None = None,
) -> PublishedFlow | None:
    """Version `version` of a flow with its sub-flows; None if there is no such version.

    `subflow_versions` None pins each sub-flow's current version (a new call); a mapping
    loads exactly those (a call resumed after a restart). A sub-flow that cannot be found
    is left out: the step function then takes the fallback, as for any missing sub-flow.
    """
    row = await get_version(session, tenant_id, flow_id, version)
    if row is None:
        return None
    flow = version_flow(row)
    subflows, numbers = await _pin_subflows(session, tenant_id, flow_id, flow, subflow_versions)
    return PublishedFlow(flow_id, version, flow, subflows, numbers)


async def current_subflows(
    session: AsyncSession, tenant_id: int, flow_id: int, flow: Flow
) -> dict[int, Flow]:
    """The current published version of every sub-flow `flow` runs, directly or not: what a
    call starting now would get (the dry run of a draft uses it)."""
    subflows, _ = await _pin_subflows(session, tenant_id, flow_id, flow, None)
    return subflows


async def _pin_subflows(
    session: AsyncSession,
    tenant_id: int,
    flow_id: int,
    flow: Flow,
    pinned: Mapping[int, int] | None,
) -> tuple[dict[int, Flow], dict[int, int]]:
    subflows: dict[int, Flow] = {}
    numbers: dict[int, int] = {}
    # The flow itself is not its own sub-flow: a recursion fails at run time, as documented.
    seen = {flow_id}
    wanted = _subflow_ids(flow) - seen
    while wanted:
        sub_id = wanted.pop()
        seen.add(sub_id)
        sub = await _subflow_version(session, tenant_id, sub_id, pinned)
        if sub is None:
            continue
        numbers[sub_id] = sub.number
        subflows[sub_id] = version_flow(sub)
        wanted |= _subflow_ids(subflows[sub_id]) - seen
    return subflows, numbers


async def _subflow_version(
    session: AsyncSession, tenant_id: int, flow_id: int, pinned: Mapping[int, int] | None
) -> CallFlowVersion | None:
    if pinned is not None:
        number = pinned.get(flow_id)
    else:
        sub = await get_flow(session, tenant_id, flow_id)
        number = sub.current_version if sub is not None else None
    if number is None:
        return None
    version = await get_version(session, tenant_id, flow_id, number)
    return version if version is not None and version.kind == "subflow" else None


def _subflow_ids(flow: Flow) -> set[int]:
    return {node.flow_id for node in flow.nodes.values() if isinstance(node, SubflowNode)}
