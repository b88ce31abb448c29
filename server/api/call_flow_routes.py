"""Call-flow endpoints (the IVR configurator): drafts, validation, versions, dry runs, lines.

Supervisors and admins only; agents get 403, another tenant's flows and lines 404. A draft
is saved whenever it parses (400 names the JSON paths that do not); the validator's problems
are listed, and refuse publishing with 409. Publishing and rolling back append immutable
versions (repositories.call_flows); a line follows its flow's current version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ivr_messenger import (
    Flow,
    FlowShapeError,
    Problem,
    PublishRefused,
    diff,
    parse_flow,
    validate,
    walk,
)
from server.api.call_flow_schemas import (
    DiffOut,
    DiffQuery,
    DraftIn,
    DraftStatus,
    FlowIn,
    FlowList,
    FlowOut,
    FlowSummary,
    LineFlowIn,
    LineFlowOut,
    ProblemList,
    ProblemOut,
    PublishIn,
    RollbackIn,
    TryIn,
    TryOut,
    VersionList,
    VersionOut,
    VersionSummary,
)
from server.api.framework import STAFF, ApiError, Caller, path_id
from server.api.provisioning_routes import audit, commit_provisioning
from server.api.routes import api, engine_of
from server.db import repositories as repo
from server.db.models import CallFlow, CallFlowVersion

FLOWS = "/api/v1/call-flows"
_FLOW = FLOWS + "/{flow_id}"


def _document(data: dict[str, Any]) -> Flow:
    """Parse a request's document, or 400 with the JSON path of every shape error."""
    try:
        return parse_flow(data)
    except FlowShapeError as exc:
        fields = [
            {"field": "document" + error.path.removeprefix("$"), "message": error.message}
            for error in exc.errors
        ]
        raise ApiError(400, "the document is not a call flow", fields=fields) from exc


async def _flow(session: AsyncSession, user: Caller, flow_id: int, lock: bool = False) -> CallFlow:
    # Another tenant's flow is answered like a missing one.
    flow = await repo.get_flow(session, user.tenant_id, flow_id, lock=lock)
    if flow is None:
        raise ApiError(404, f"call flow {flow_id} not found")
    return flow


async def _version(session: AsyncSession, flow: CallFlow, number: int) -> CallFlowVersion:
    version = await repo.get_version(session, flow.tenant_id, flow.id, number)
    if version is None:
        raise ApiError(404, f"call flow {flow.id} has no version {number}")
    return version


def _refused(exc: PublishRefused) -> ApiError:
    return ApiError(409, str(exc), problems=[ProblemOut.of(p).model_dump() for p in exc.problems])


async def _status(session: AsyncSession, flow: CallFlow, problems: list[Problem]) -> DraftStatus:
    changed = True
    if flow.current_version is not None:
        current = await repo.get_version(session, flow.tenant_id, flow.id, flow.current_version)
        changed = current is None or current.document != flow.draft
    return DraftStatus(valid=not problems, problems=len(problems), unpublished_changes=changed)


async def _summary(session: AsyncSession, flow: CallFlow, problems: list[Problem]) -> FlowSummary:
    return FlowSummary(
        id=flow.id,
        name=flow.name,
        kind=flow.kind,
        current_version=flow.current_version,
        draft_updated_at=flow.draft_updated_at,
        created_at=flow.created_at,
        draft=await _status(session, flow, problems),
    )


async def _flow_out(session: AsyncSession, flow: CallFlow) -> FlowOut:
    problems = validate(repo.draft_of(flow), await repo.flow_context(session, flow.tenant_id))
    lines = await repo.lines_of_flow(session, flow.tenant_id, flow.id)
    summary = await _summary(session, flow, problems)
    return FlowOut(
        **summary.model_dump(),
        document=flow.draft,
        problems=[ProblemOut.of(p) for p in problems],
        line_ids=[line.id for line in lines],
    )


@api.route("GET", FLOWS, summary="List call flows", reply=FlowList, roles=STAFF, tag="call-flows")
async def list_call_flows(request: web.Request, *, user: Caller) -> FlowList:
    async with engine_of(request).db_session() as session:
        context = await repo.flow_context(session, user.tenant_id)
        items = [
            await _summary(session, flow, validate(repo.draft_of(flow), context))
            for flow in await repo.list_flows(session, user.tenant_id)
        ]
    return FlowList(items=items)


@api.route(
    "POST",
    FLOWS,
    summary="Create a call flow (its draft is saved even with problems)",
    body=FlowIn,
    reply=FlowOut,
    roles=STAFF,
    status=201,
    tag="call-flows",
)
async def create_call_flow(request: web.Request, *, user: Caller, body: FlowIn) -> FlowOut:
    document = _document(body.document)
    taken = ApiError(
        409,
        f"a call flow named {body.name!r} already exists",
        fields=[{"field": "name", "message": "taken"}],
    )
    async with engine_of(request).db_session() as session:
        try:
            async with session.begin():
                flow = await repo.create_flow(
                    session, user.tenant_id, name=body.name, document=document, at=_now()
                )
                await audit(
                    session, user, "call_flow_created", f"call_flow:{flow.id}", name=body.name
                )
        except (repo.FlowNameTaken, IntegrityError) as exc:
            raise taken from exc
        return await _flow_out(session, flow)


@api.route(
    "GET",
    _FLOW,
    summary="Get a call flow's draft and its problems",
    reply=FlowOut,
    roles=STAFF,
    tag="call-flows",
)
async def get_call_flow(request: web.Request, *, user: Caller) -> FlowOut:
    flow_id = path_id(request, "flow_id")
    async with engine_of(request).db_session() as session:
        return await _flow_out(session, await _flow(session, user, flow_id))


@api.route(
    "PUT",
    _FLOW + "/draft",
    summary="Replace a call flow's draft (saved even with problems)",
    body=DraftIn,
    reply=FlowOut,
    roles=STAFF,
    tag="call-flows",
)
async def save_call_flow_draft(request: web.Request, *, user: Caller, body: DraftIn) -> FlowOut:
    flow_id = path_id(request, "flow_id")
    document = _document(body.document)
    async with engine_of(request).db_session() as session:
        async with session.begin():
            flow = await _flow(session, user, flow_id)
            await repo.save_draft(session, flow, document, _now())
            await audit(session, user, "call_flow_draft_saved", f"call_flow:{flow.id}")
        return await _flow_out(session, flow)


@api.route(
    "POST",
    _FLOW + "/validate",
    summary="Validate a call flow's draft",
    reply=ProblemList,
    roles=STAFF,
    tag="call-flows",
)
async def validate_call_flow(request: web.Request, *, user: Caller) -> ProblemList:
    flow_id = path_id(request, "flow_id")
    async with engine_of(request).db_session() as session:
        flow = await _flow(session, user, flow_id)
        context = await repo.flow_context(session, user.tenant_id)
    problems = validate(repo.draft_of(flow), context)
    return ProblemList(problems=[ProblemOut.of(p) for p in problems])


@api.route(
    "POST",
    _FLOW + "/publish",
    summary="Publish a call flow's draft as a new version (409 with its problems)",
    body=PublishIn,
    reply=VersionOut,
    roles=STAFF,
    status=201,
    tag="call-flows",
)
async def publish_call_flow(request: web.Request, *, user: Caller, body: PublishIn) -> VersionOut:
    flow_id = path_id(request, "flow_id")

    async def publish(session: AsyncSession, flow: CallFlow) -> CallFlowVersion:
        context = await repo.flow_context(session, user.tenant_id)
        return await repo.publish_draft(
            session, flow, context, by=user.user_id, at=_now(), note=body.note
        )

    return await _new_version(request, user, flow_id, publish, "call_flow_published")


@api.route(
    "POST",
    _FLOW + "/rollback",
    summary="Publish an old version again as a new version (409 if no longer valid)",
    body=RollbackIn,
    reply=VersionOut,
    roles=STAFF,
    status=201,
    tag="call-flows",
)
async def rollback_call_flow(request: web.Request, *, user: Caller, body: RollbackIn) -> VersionOut:
    flow_id = path_id(request, "flow_id")

    async def roll_back(session: AsyncSession, flow: CallFlow) -> CallFlowVersion:
        await _version(session, flow, body.version)
        context = await repo.flow_context(session, user.tenant_id)
        return await repo.rollback_flow(
            session, flow, body.version, context, by=user.user_id, at=_now()
        )

    return await _new_version(request, user, flow_id, roll_back, "call_flow_rolled_back")


async def _new_version(
    request: web.Request,
    user: Caller,
    flow_id: int,
    make: Callable[[AsyncSession, CallFlow], Awaitable[CallFlowVersion]],
    action: str,
) -> VersionOut:
    async with engine_of(request).db_session() as session:
        try:
            async with session.begin():
                flow = await _flow(session, user, flow_id, lock=True)
                version = await make(session, flow)
                await audit(session, user, action, f"call_flow:{flow.id}", version=version.number)
        except PublishRefused as exc:
            raise _refused(exc) from exc
        except repo.FlowInUse as exc:
            raise ApiError(409, str(exc)) from exc
        except IntegrityError as exc:
            raise ApiError(409, "another version was published at the same time; retry") from exc
    return VersionOut.full(version)


@api.route(
    "GET",
    _FLOW + "/versions",
    summary="List a call flow's versions, newest first",
    reply=VersionList,
    roles=STAFF,
    tag="call-flows",
)
async def list_call_flow_versions(request: web.Request, *, user: Caller) -> VersionList:
    flow_id = path_id(request, "flow_id")
    async with engine_of(request).db_session() as session:
        flow = await _flow(session, user, flow_id)
        rows = await repo.list_versions(session, flow)
    return VersionList(items=[VersionSummary.of(row) for row in rows])


@api.route(
    "GET",
    _FLOW + "/versions/{version}",
    summary="Get a published version of a call flow",
    reply=VersionOut,
    roles=STAFF,
    tag="call-flows",
)
async def get_call_flow_version(request: web.Request, *, user: Caller) -> VersionOut:
    flow_id, number = path_id(request, "flow_id"), path_id(request, "version")
    async with engine_of(request).db_session() as session:
        version = await _version(session, await _flow(session, user, flow_id), number)
    return VersionOut.full(version)


@api.route(
    "GET",
    _FLOW + "/diff",
    summary="Compare a version with a later version or the draft",
    query=DiffQuery,
    reply=DiffOut,
    roles=STAFF,
    tag="call-flows",
)
async def diff_call_flow(request: web.Request, *, user: Caller, query: DiffQuery) -> DiffOut:
    flow_id = path_id(request, "flow_id")
    async with engine_of(request).db_session() as session:
        flow = await _flow(session, user, flow_id)
        old = repo.version_flow(await _version(session, flow, query.from_version))
        to = query.to_version
        if to == "draft":
            new = repo.draft_of(flow)
        else:
            new = repo.version_flow(await _version(session, flow, to))
    return DiffOut.of(diff(old, new), old, new, query.from_version, to)


@api.route(
    "POST",
    _FLOW + "/try",
    summary="Dry-run a call flow's draft with scripted inputs",
    body=TryIn,
    reply=TryOut,
    roles=STAFF,
    tag="call-flows",
)
async def try_call_flow(request: web.Request, *, user: Caller, body: TryIn) -> TryOut:
    flow_id = path_id(request, "flow_id")
    at = body.at or _now()
    async with engine_of(request).db_session() as session:
        flow = await _flow(session, user, flow_id)
        draft = repo.draft_of(flow)
        context = await repo.flow_context(session, user.tenant_id)
        subflows = await repo.current_subflows(session, user.tenant_id, flow.id, draft)
    result = walk(draft, body.script_at(at), subflows=subflows)
    return TryOut.of(result, at, dict(context.services), validate(draft, context))


@api.route(
    "PUT",
    "/api/v1/lines/{line_id}/call-flow",
    summary="Point a line to a published call flow, or back to its service (null)",
    body=LineFlowIn,
    reply=LineFlowOut,
    roles=STAFF,
    tag="call-flows",
)
async def set_line_call_flow(
    request: web.Request, *, user: Caller, body: LineFlowIn
) -> LineFlowOut:
    line_id = path_id(request, "line_id")
    flow_id = body.call_flow_id
    refused = [{"field": "call_flow_id", "message": f"call flow {flow_id} cannot answer calls"}]
    async with engine_of(request).db_session() as session:
        if await repo.get_line(session, user.tenant_id, line_id) is None:
            raise ApiError(404, f"line {line_id} not found")
        try:
            line = await repo.set_line_flow(session, user.tenant_id, line_id, flow_id)
        except LookupError as exc:
            raise ApiError(404, f"call flow {flow_id} not found", fields=refused) from exc
        except repo.FlowNotAssignable as exc:
            raise ApiError(409, str(exc), fields=refused) from exc
        flow = None if flow_id is None else await repo.get_flow(session, user.tenant_id, flow_id)
        await audit(
            session,
            user,
            "line_call_flow_set",
            f"line:{line.id}",
            call_flow_id=flow_id,
            version=flow.current_version if flow is not None else None,
        )
        # As every provisioning change: commit, then the engine reloads its lines.
        await commit_provisioning(request, session, f"line {line.number}")
        return LineFlowOut(
            id=line.id,
            number=line.number,
            name=line.name,
            service_id=line.service_id,
            call_flow_id=line.call_flow_id,
            call_flow_version=flow.current_version if flow is not None else None,
        )


def _now() -> datetime:
    return datetime.now(UTC)
