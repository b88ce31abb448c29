"""The REST API's handlers: auth, agent state, interactions, live state, health, metrics."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import select

from server.api.framework import STAFF, Api, ApiError, Caller
from server.api.schemas import (
    AgentsReply,
    AgentStateReply,
    HealthReply,
    LoginReply,
    LoginRequest,
    QueueReply,
    QueuesReply,
    StateChange,
)
from server.auth import (
    LockoutPolicy,
    LoginState,
    is_locked,
    issue_token,
    register_failure,
    register_success,
    revoke_token,
    verify_dummy,
    verify_password,
)
from server.calls.agent_state import StateChangeRefused, StateRequest
from server.calls.model import AgentRuntime
from server.db import repositories as repo
from server.db.models import Tenant, User

if TYPE_CHECKING:
    from server.app import Engine

api = Api("phones", "1")
ENGINE: web.AppKey[Engine] = web.AppKey("engine")


def engine_of(request: web.Request) -> Engine:
    """The engine serving this request."""
    return request.app[ENGINE]


@api.route(
    "GET",
    "/healthz",
    summary="Report Asterisk and database status",
    reply=HealthReply,
    roles=None,
    tag="system",
)
async def healthz(request: web.Request) -> web.Response:
    status = await engine_of(request).health()
    ok = status["asterisk"] == "up" and status["database"] == "up"
    reply = HealthReply(status="ok" if ok else "degraded", **status)
    return web.json_response(reply.model_dump(), status=200 if ok else 503)


@api.route(
    "POST",
    "/api/v1/auth/login",
    summary="Log in and get a token",
    body=LoginRequest,
    reply=LoginReply,
    roles=None,
    tag="auth",
)
async def login(request: web.Request, *, body: LoginRequest) -> LoginReply:
    engine = engine_of(request)
    cfg = engine.config.auth
    refused = ApiError(401, "wrong tenant, username or password")
    async with engine.db_session() as session, session.begin():
        tenant = await session.scalar(select(Tenant).where(Tenant.slug == body.tenant))
        if tenant is None:
            await asyncio.to_thread(
                verify_dummy, body.password
            )  # same cost as a real attempt: no user enumeration
            raise refused
        user = await session.scalar(
            select(User).where(User.tenant_id == tenant.id, User.username == body.username)
        )
        if user is None or user.disabled:
            await asyncio.to_thread(verify_dummy, body.password)
            raise refused
        now = datetime.now(UTC)
        policy = LockoutPolicy(
            cfg.max_failed_logins,
            timedelta(seconds=cfg.lockout_s),
            timedelta(seconds=cfg.lockout_s),
        )
        if is_locked(LoginState.of(user), now):
            raise ApiError(
                401,
                "account locked after repeated failed logins; try again later",
                locked_until=user.locked_until.isoformat() if user.locked_until else None,
            )
        if not await asyncio.to_thread(verify_password, user.password_hash, body.password):
            register_failure(LoginState.of(user), now, policy).apply_to(user)
            await repo.append_audit(
                session,
                tenant_id=tenant.id,
                user_id=user.id,
                action="login_failed",
                target=f"user:{user.id}",
            )
            # Commit first: raising inside session.begin() would roll back the failure count
            # (and the audit entry), and the account would never lock.
            await session.commit()
            raise refused
        register_success(LoginState.of(user)).apply_to(user)
        ttl = timedelta(seconds=cfg.token_ttl_s)
        token = await issue_token(session, user.id, now=now, ttl=ttl)
        await repo.append_audit(
            session, tenant_id=tenant.id, user_id=user.id, action="login", target=f"user:{user.id}"
        )
        return LoginReply(
            token=token, expires_at=now + ttl, user_id=user.id, role=user.role, tenant=tenant.slug
        )


@api.route(
    "POST", "/api/v1/auth/logout", summary="Revoke the current token", tag="auth", status=204
)
async def logout(request: web.Request, *, user: Caller) -> web.Response:
    token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    async with engine_of(request).db_session() as session, session.begin():
        await revoke_token(session, token)
    return web.Response(status=204)


def _agent_reply(agent: AgentRuntime, now: datetime) -> AgentStateReply:
    since = agent.since
    return AgentStateReply(
        agent_id=agent.user_id,
        username=agent.username,
        state=agent.state,
        reason=agent.reason,
        since=since,
        seconds_in_state=round((now - since).total_seconds(), 3) if since else 0.0,
        reachable=agent.reachable,
        interaction_id=agent.interaction_id,
    )


def _my_agent(request: web.Request, user: Caller) -> AgentRuntime:
    control = engine_of(request).call_control()
    agent = control.agents.get(user.user_id)
    if agent is None:
        raise ApiError(404, "you have no agent profile (no SIP account)")
    return agent


@api.route(
    "GET", "/api/v1/agents/me", summary="Get my agent state", reply=AgentStateReply, tag="agents"
)
async def my_state(request: web.Request, *, user: Caller) -> AgentStateReply:
    return _agent_reply(_my_agent(request, user), datetime.now(UTC))


@api.route(
    "PUT",
    "/api/v1/agents/me/state",
    summary="Change my agent state",
    body=StateChange,
    reply=AgentStateReply,
    tag="agents",
)
async def change_my_state(
    request: web.Request, *, user: Caller, body: StateChange
) -> AgentStateReply:
    engine = engine_of(request)
    agent = _my_agent(request, user)
    async with engine.db_session() as session:
        tenant = await session.get_one(Tenant, user.tenant_id)
        reasons = list(tenant.not_ready_reasons)
    try:
        await engine.call_control().request_state(
            agent.user_id, StateRequest(body.state, body.reason), reasons
        )
    except StateChangeRefused as exc:
        raise ApiError(409, str(exc), state=agent.state) from exc
    except ValueError as exc:
        raise ApiError(400, str(exc), fields=[{"field": "reason", "message": str(exc)}]) from exc
    return _agent_reply(agent, datetime.now(UTC))


@api.route(
    "GET",
    "/api/v1/live/queues",
    summary="Live queue figures",
    reply=QueuesReply,
    roles=STAFF | {"agent"},
    tag="live",
)
async def live_queues(request: web.Request, *, user: Caller) -> QueuesReply:
    control = engine_of(request).call_control()
    now = time.monotonic()
    items = []
    for service in control.services.values():
        if service.tenant_id != user.tenant_id:
            continue
        waiting = [
            c
            for c in control.calls.values()
            if c.service_id == service.id and c.state in ("queued", "offered")
        ]
        ready = [
            a
            for a in control.agents.values()
            if a.tenant_id == user.tenant_id and a.state == "ready" and service.can_serve(a.skills)
        ]
        longest = max((now - c.enqueued_mono for c in waiting), default=0.0)
        items.append(
            QueueReply(
                service_id=service.id,
                service=service.name,
                waiting=len(waiting),
                longest_wait_s=round(longest, 3),
                agents_ready=len(ready),
            )
        )
    return QueuesReply(items=items)


@api.route(
    "GET",
    "/api/v1/live/agents",
    summary="Live agent states",
    reply=AgentsReply,
    roles=STAFF,
    tag="live",
)
async def live_agents(request: web.Request, *, user: Caller) -> AgentsReply:
    control = engine_of(request).call_control()
    now = datetime.now(UTC)
    return AgentsReply(
        items=[
            _agent_reply(a, now) for a in control.agents.values() if a.tenant_id == user.tenant_id
        ]
    )


@api.route("GET", "/openapi.json", summary="This API's OpenAPI document", roles=None, tag="system")
async def openapi(request: web.Request) -> dict[str, Any]:
    return api.openapi()
