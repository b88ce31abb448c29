"""Build the aiohttp application: routes, authentication and metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.api import call_flow_routes as _call_flows  # noqa: F401  (registers routes)
from server.api import call_routes as _calls  # noqa: F401  (registers routes)
from server.api import callback_routes as _callbacks  # noqa: F401  (registers routes)
from server.api import interaction_routes as _interactions  # noqa: F401  (registers routes)
from server.api import provisioning_routes as _provisioning  # noqa: F401  (registers routes)
from server.api.framework import Caller
from server.api.metrics import refresh_metrics
from server.api.routes import ENGINE, api
from server.auth import resolve_token

# The built PhoneBar (phonebar/web, built by `make web`).
PHONEBAR_DIST = Path(__file__).resolve().parents[2] / "phonebar" / "web" / "dist"

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

    async def hub(request: web.Request) -> web.StreamResponse:
        if engine.hub is None:
            raise web.HTTPServiceUnavailable(text="the engine is starting")
        return await engine.hub.handle(request)

    async def phonebar_index(request: web.Request) -> web.StreamResponse:
        index = PHONEBAR_DIST / "index.html"
        if not index.exists():
            return web.Response(
                status=503, text="The PhoneBar is not built: run `make web` (or `make install`)."
            )
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    async def to_phonebar(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/phonebar/")

    api.install(app, authenticate)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/ws", hub)
    app.router.add_get("/", to_phonebar)
    app.router.add_get("/phonebar", to_phonebar)
    app.router.add_get("/phonebar/", phonebar_index)
    if PHONEBAR_DIST.is_dir():
        app.router.add_static("/phonebar/", PHONEBAR_DIST, append_version=False)
    return app
