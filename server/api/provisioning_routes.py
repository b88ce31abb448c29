"""Provisioning endpoints: services, users/agents, trunks and lines of the caller's tenant.

Every change re-renders Asterisk's configuration and reloads it without dropping calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.api.framework import ADMIN, STAFF, ApiError, Caller, path_id
from server.api.routes import api, engine_of
from server.api.schemas import (
    LineIn,
    LineOut,
    ServiceIn,
    ServiceList,
    ServiceOut,
    ServicePatch,
    TrunkIn,
    TrunkOut,
    UserIn,
    UserList,
    UserOut,
    UserPatch,
)
from server.auth import hash_password
from server.db import repositories as repo
from server.db.models import User

T = TypeVar("T")


def _user_out(user: User, reveal_secret: bool) -> UserOut:
    profile = user.agent_profile
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        skills=dict(profile.skills) if profile else None,
        sip_username=profile.sip_username if profile else None,
        sip_password=profile.sip_password if profile and reveal_secret else None,
        can_dial_out=profile.can_dial_out if profile else None,
    )


async def commit_provisioning(request: web.Request, session: AsyncSession, what: str) -> None:
    """Commit a provisioning change and apply it to the running Asterisk and routing.

    A unique-constraint clash is a 409 naming `what`; nothing is applied then.
    """
    try:
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise ApiError(
            409, f"{what} conflicts with an existing one (name or number taken)"
        ) from exc
    await engine_of(request).apply_provisioning()


@api.route(
    "GET",
    "/api/v1/services",
    summary="List services",
    reply=ServiceList,
    roles=STAFF,
    tag="provisioning",
)
async def list_services(request: web.Request, *, user: Caller) -> ServiceList:
    async with engine_of(request).db_session() as session:
        rows = await repo.list_services(session, user.tenant_id)
        return ServiceList(items=[ServiceOut.model_validate(r) for r in rows])


@api.route(
    "POST",
    "/api/v1/services",
    summary="Create a service",
    body=ServiceIn,
    reply=ServiceOut,
    roles=ADMIN,
    status=201,
    tag="provisioning",
)
async def create_service(request: web.Request, *, user: Caller, body: ServiceIn) -> ServiceOut:
    async with engine_of(request).db_session() as session:
        fields = body.model_dump(exclude={"name"})
        service = await _checked(
            repo.create_service(session, user.tenant_id, name=body.name, **fields)
        )
        await audit(session, user, "service_created", f"service:{service.id}", name=body.name)
        await commit_provisioning(request, session, f"service {body.name!r}")
        return ServiceOut.model_validate(service)


@api.route(
    "PATCH",
    "/api/v1/services/{service_id}",
    summary="Change a service",
    body=ServicePatch,
    reply=ServiceOut,
    roles=ADMIN,
    tag="provisioning",
)
async def patch_service(request: web.Request, *, user: Caller, body: ServicePatch) -> ServiceOut:
    service_id = path_id(request, "service_id")
    async with engine_of(request).db_session() as session:
        changes = body.model_dump(exclude_unset=True)
        service = await _checked(
            repo.update_service(session, user.tenant_id, service_id, **changes)
        )
        if service is None:
            raise ApiError(404, f"service {service_id} not found")
        await audit(session, user, "service_changed", f"service:{service_id}", **changes)
        await commit_provisioning(request, session, "service")
        return ServiceOut.model_validate(service)


@api.route(
    "GET", "/api/v1/users", summary="List users", reply=UserList, roles=STAFF, tag="provisioning"
)
async def list_users(request: web.Request, *, user: Caller) -> UserList:
    async with engine_of(request).db_session() as session:
        rows = await repo.list_users(session, user.tenant_id)
        return UserList(items=[_user_out(u, user.role == "admin") for u in rows])


@api.route(
    "POST",
    "/api/v1/users",
    summary="Create a user (agents get a SIP account)",
    body=UserIn,
    reply=UserOut,
    roles=ADMIN,
    status=201,
    tag="provisioning",
)
async def create_user(request: web.Request, *, user: Caller, body: UserIn) -> UserOut:
    async with engine_of(request).db_session() as session:
        created = await _checked(
            repo.create_user(
                session,
                user.tenant_id,
                username=body.username,
                display_name=body.display_name,
                role=body.role,
                password_hash=await asyncio.to_thread(hash_password, body.password),
                agent_skills=body.skills if body.role == "agent" else None,
                extension=body.extension,
                can_dial_out=body.can_dial_out,
            )
        )
        await audit(session, user, "user_created", f"user:{created.id}", username=body.username)
        await commit_provisioning(request, session, f"user {body.username!r}")
        return _user_out(created, True)


_AGENT_FIELDS = ("skills", "extension", "can_dial_out")


@api.route(
    "PATCH",
    "/api/v1/users/{user_id}",
    summary="Change a user (agents: skills, extension, dial-out permission)",
    body=UserPatch,
    reply=UserOut,
    roles=ADMIN,
    tag="provisioning",
)
async def patch_user(request: web.Request, *, user: Caller, body: UserPatch) -> UserOut:
    user_id = path_id(request, "user_id")
    changes = body.model_dump(exclude_unset=True)
    refused = [
        {"field": name, "message": "may not be null"}
        for name in ("display_name", "skills", "can_dial_out")
        if name in changes and changes[name] is None
    ]
    if refused:
        raise ApiError(400, "invalid request body", fields=refused)
    async with engine_of(request).db_session() as session:
        target = await repo.get_user(session, user.tenant_id, user_id)
        if target is None:
            raise ApiError(404, f"user {user_id} not found")
        profile = target.agent_profile
        agent_changes = [name for name in _AGENT_FIELDS if name in changes]
        if agent_changes and profile is None:
            raise ApiError(
                400,
                f"user {user_id} is not an agent",
                fields=[{"field": name, "message": "agents only"} for name in agent_changes],
            )
        if "display_name" in changes:
            await repo.update_user(
                session, user.tenant_id, user_id, display_name=changes["display_name"]
            )
        if profile is not None and agent_changes:
            await _checked(
                repo.set_agent_profile(
                    session,
                    user.tenant_id,
                    user_id,
                    skills=changes.get("skills", profile.skills),
                    extension=changes.get("extension", profile.extension),
                    can_dial_out=changes.get("can_dial_out"),
                )
            )
        await audit(session, user, "user_changed", f"user:{user_id}", **changes)
        await commit_provisioning(request, session, "user")
        return _user_out(target, True)


@api.route(
    "POST",
    "/api/v1/trunks",
    summary="Create a SIP trunk",
    body=TrunkIn,
    reply=TrunkOut,
    roles=ADMIN,
    status=201,
    tag="provisioning",
)
async def create_trunk(request: web.Request, *, user: Caller, body: TrunkIn) -> TrunkOut:
    async with engine_of(request).db_session() as session:
        fields = body.model_dump(exclude={"name", "host", "registration"})
        fields["register"] = body.registration
        trunk = await _checked(
            repo.create_trunk(session, user.tenant_id, name=body.name, host=body.host, **fields)
        )
        await audit(session, user, "trunk_created", f"trunk:{trunk.id}", name=body.name)
        await commit_provisioning(request, session, f"trunk {body.name!r}")
        return TrunkOut.of(trunk)


@api.route(
    "POST",
    "/api/v1/lines",
    summary="Create a line (number → service)",
    body=LineIn,
    reply=LineOut,
    roles=ADMIN,
    status=201,
    tag="provisioning",
)
async def create_line(request: web.Request, *, user: Caller, body: LineIn) -> LineOut:
    async with engine_of(request).db_session() as session:
        line = await _checked(repo.create_line(session, user.tenant_id, **body.model_dump()))
        await audit(session, user, "line_created", f"line:{line.id}", number=body.number)
        await commit_provisioning(request, session, f"line {body.number!r}")
        return LineOut.model_validate(line)


async def _checked(pending: Awaitable[T]) -> T:
    # The repositories raise LookupError for another tenant's (or a missing) reference and
    # ValueError for a bad value; both are the client's fault, said plainly.
    try:
        return await pending
    except LookupError as exc:
        raise ApiError(404, str(exc).strip("'\"")) from exc
    except ValueError as exc:
        raise ApiError(400, str(exc)) from exc
    except IntegrityError as exc:
        raise ApiError(409, "conflicts with an existing one (name or number taken)") from exc


async def audit(session: AsyncSession, user: Caller, action: str, target: str, **data: Any) -> None:
    """Append an audit entry for a staff member's change."""
    await repo.append_audit(
        session,
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        action=action,
        target=target,
        **data,
    )
