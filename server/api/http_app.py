"""Build the aiohttp application: routes, authentication and metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.api import interaction_routes as _interactions  # noqa: F401  (registers routes)
from server.api import provisioning_routes as _provisioning  # noqa: F401  (registers routes)
from server.api.framework import Caller
from server.api.metrics import refresh_metrics
from server.api.routes import ENGINE, api
from server.auth import resolve_token

if TYPE_CHECKING:
    from server.app import Engine


def build_http_app(engine: Engine) -> web.Application:
    """The HTTP application serving the API of one engine."""
    app = web.Application(client_max_size=1024 * 1024)
    app[ENGINE] = engine

    async def authenticate(request: web.Request) -> Caller | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        async with engine.db_session() as session, session.begin():
            user = await resolve_token(session, header[7:].strip(), now=datetime.now(UTC))
        if user is None:
            return None
        return Caller(user.id, user.tenant_id, user.role)

    async def metrics(request: web.Request) -> web.Response:
        refresh_metrics(engine)
        body = generate_latest()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    api.install(app, authenticate)
    app.router.add_get("/metrics", metrics)
    return app
