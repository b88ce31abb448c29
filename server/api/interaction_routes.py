"""Interaction endpoints: the history list and an agent's disposition of a contact."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy import select

from server.api.framework import STAFF, ApiError, Caller, path_id
from server.api.routes import api, engine_of
from server.api.schemas import (
    DispositionIn,
    EventReply,
    InteractionPage,
    InteractionQuery,
    InteractionReply,
)
from server.db import repositories as repo
from server.db.models import Service


@api.route(
    "GET",
    "/api/v1/interactions",
    summary="List interactions, newest first",
    query=InteractionQuery,
    reply=InteractionPage,
    tag="interactions",
)
async def interactions(
    request: web.Request, *, user: Caller, query: InteractionQuery
) -> InteractionPage:
    async with engine_of(request).db_session() as session:
        try:
            page = await repo.list_interactions(
                session, user.tenant_id, limit=query.limit, cursor=query.cursor
            )
        except ValueError as exc:
            raise ApiError(
                400, "invalid cursor", fields=[{"field": "cursor", "message": str(exc)}]
            ) from exc
        names = dict(
            (
                await session.execute(
                    select(Service.id, Service.name).where(Service.tenant_id == user.tenant_id)
                )
            )
            .tuples()
            .all()
        )
    items = [
        InteractionReply(
            id=row.id,
            channel=row.channel,
            direction=row.direction,
            ani=row.ani,
            dnis=row.dnis,
            service=names.get(row.service_id) if row.service_id else None,
            service_id=row.service_id,
            agent_id=row.agent_id,
            state=row.state,
            created_at=row.created_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            end_reason=row.end_reason,
            wait_s=row.wait_s,
            disposition=row.disposition,
            events=[
                EventReply(type=e.type, at=e.at, agent_id=e.agent_id, data=e.data or {})
                for e in row.events
            ],
        )
        for row in page.items
    ]
    return InteractionPage(items=items, next_cursor=page.next_cursor)


@api.route(
    "POST",
    "/api/v1/interactions/{interaction_id}/disposition",
    summary="Record the disposition of a contact",
    body=DispositionIn,
    reply=EventReply,
    status=201,
    tag="interactions",
)
async def set_disposition(request: web.Request, *, user: Caller, body: DispositionIn) -> EventReply:
    interaction_id = path_id(request, "interaction_id")
    async with engine_of(request).db_session() as session, session.begin():
        interaction = await repo.get_interaction(session, user.tenant_id, interaction_id)
        if interaction is None:
            raise ApiError(404, f"interaction {interaction_id} not found")
        if user.role not in STAFF and interaction.agent_id != user.user_id:
            raise ApiError(
                403,
                "only the agent who handled the contact (or a supervisor) "
                "may record its disposition",
            )
        service = (
            await session.get(Service, interaction.service_id) if interaction.service_id else None
        )
        codes = list(service.disposition_codes) if service else []
        if codes and body.code not in codes:
            raise ApiError(
                400,
                f"unknown disposition {body.code!r}; allowed: {', '.join(codes)}",
                fields=[{"field": "code", "message": "not one of the service's codes"}],
            )
        interaction.disposition = body.code
        data = {"code": body.code} | ({"note": body.note} if body.note else {})
        event = await repo.append_interaction_event(
            session, interaction, "disposition", datetime.now(UTC), user.user_id, **data
        )
        return EventReply(type=event.type, at=event.at, agent_id=event.agent_id, data=event.data)
