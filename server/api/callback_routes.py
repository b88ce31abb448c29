"""Call-back endpoints: the agent's list of numbers to call back, and staff assigning them.

Agents see and act on their own call-backs and the unassigned ones of the services they
can serve (repositories.callbacks states the rule); staff see the whole tenant. `POST .../call`
places the call from the agent's device, exactly as dialling the number from the PhoneBar
(the interaction's `dialing` event names the call-back); "done" is the agent's to say.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.api.framework import STAFF, ApiError, Caller, path_id
from server.api.routes import api, engine_of
from server.api.schemas import CallbackIn, CallbackList, CallbackQuery, CallbackReply
from server.calls import dialling
from server.calls.reach import CommandError
from server.db import repositories as repo
from server.db.models import Callback, CallbackState, Service

_STATES: dict[str, tuple[CallbackState, ...] | None] = {
    "pending": ("pending",),
    "done": ("done",),
    "all": None,
}


def _reply(callback: Callback, service_names: dict[int, str]) -> CallbackReply:
    return CallbackReply(
        id=callback.id,
        number=callback.number,
        name=callback.name,
        due_at=callback.due_at,
        notes=callback.notes,
        service=service_names.get(callback.service_id) if callback.service_id else None,
        service_id=callback.service_id,
        agent_id=callback.agent_id,
        state=callback.state,
        created_at=callback.created_at,
        done_at=callback.done_at,
    )


async def _service_names(session: AsyncSession, tenant_id: int) -> dict[int, str]:
    rows = await session.execute(
        select(Service.id, Service.name).where(Service.tenant_id == tenant_id)
    )
    return dict(rows.tuples().all())


async def _accessible(session: AsyncSession, user: Caller, callback_id: int) -> Callback:
    # Not the caller's by the rule is answered like not existing: 404, never 403, so an
    # agent learns nothing about other agents' call-backs (nor a tenant about another's).
    visible_to = None if user.role in STAFF else user.user_id
    callback = await repo.get_callback(session, user.tenant_id, callback_id, visible_to=visible_to)
    if callback is None:
        raise ApiError(404, f"call-back {callback_id} not found")
    return callback


def _not_pending(callback: Callback) -> ApiError:
    return ApiError(
        409, f"call-back {callback.id} is already {callback.state}", state=callback.state
    )


@api.route(
    "GET",
    "/api/v1/callbacks",
    summary="List call-backs, pending first by due time",
    query=CallbackQuery,
    reply=CallbackList,
    tag="callbacks",
)
async def list_callbacks(
    request: web.Request, *, user: Caller, query: CallbackQuery
) -> CallbackList:
    staff = user.role in STAFF
    mine = query.mine if query.mine is not None else not staff
    if not mine and not staff:
        raise ApiError(
            403,
            "agents list only their own call-backs",
            fields=[{"field": "mine", "message": "only supervisors and admins may list all"}],
        )
    async with engine_of(request).db_session() as session:
        rows = await repo.list_callbacks(
            session,
            user.tenant_id,
            states=_STATES[query.state],
            visible_to=user.user_id if mine else None,
        )
        names = await _service_names(session, user.tenant_id)
    return CallbackList(items=[_reply(row, names) for row in rows])


@api.route(
    "POST",
    "/api/v1/callbacks",
    summary="Create a call-back",
    body=CallbackIn,
    reply=CallbackReply,
    status=201,
    tag="callbacks",
)
async def create_callback(request: web.Request, *, user: Caller, body: CallbackIn) -> CallbackReply:
    agent_id = body.agent_id
    if user.role not in STAFF:
        if agent_id not in (None, user.user_id):
            raise ApiError(
                403,
                "agents create call-backs for themselves only",
                fields=[{"field": "agent_id", "message": "not you"}],
            )
        agent_id = user.user_id
    async with engine_of(request).db_session() as session, session.begin():
        try:
            callback = await repo.create_callback(
                session,
                user.tenant_id,
                number=body.number,
                due_at=body.due_at,
                name=body.name,
                notes=body.notes,
                service_id=body.service_id,
                agent_id=agent_id,
                created_by=user.user_id,
            )
        except repo.CallbackFieldError as exc:
            raise ApiError(
                400, str(exc), fields=[{"field": exc.field, "message": str(exc)}]
            ) from exc
        return _reply(callback, await _service_names(session, user.tenant_id))


@api.route(
    "POST",
    "/api/v1/callbacks/{callback_id}/done",
    summary="Mark a call-back done",
    reply=CallbackReply,
    tag="callbacks",
)
async def callback_done(request: web.Request, *, user: Caller) -> CallbackReply:
    callback_id = path_id(request, "callback_id")
    async with engine_of(request).db_session() as session, session.begin():
        callback = await _accessible(session, user, callback_id)
        try:
            callback = await repo.mark_callback_done(session, callback, datetime.now(UTC))
        except repo.CallbackNotPending as exc:
            raise _not_pending(callback) from exc
        # The row has no "done by": the audit trail says who.
        await repo.append_audit(
            session,
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            action="callback_done",
            target=f"callback:{callback.id}",
        )
        return _reply(callback, await _service_names(session, user.tenant_id))


@api.route(
    "POST",
    "/api/v1/callbacks/{callback_id}/call",
    summary="Call a call-back's number from my device",
    reply=CallbackReply,
    status=202,
    tag="callbacks",
)
async def call_callback(request: web.Request, *, user: Caller) -> CallbackReply:
    callback_id = path_id(request, "callback_id")
    async with engine_of(request).db_session() as session:
        callback = await _accessible(session, user, callback_id)
        if callback.state != "pending":
            raise _not_pending(callback)
        names = await _service_names(session, user.tenant_id)
    control = engine_of(request).call_control()
    target = {"number": callback.number}

    async def work() -> None:
        await dialling.place_call(
            control, user.user_id, target, callback.service_id, callback_id=callback.id
        )

    try:
        await control.command(work)
    except CommandError as exc:
        raise ApiError(exc.status, str(exc)) from exc
    return _reply(callback, names)
