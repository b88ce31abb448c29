"""A small typed layer over aiohttp: routes declare pydantic models for body, query and reply.

The same models validate requests and generate the OpenAPI document, so the two cannot drift
apart (docs/decisions/0004-http-api.md says why not aiohttp-pydantic).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

Handler = Callable[..., Awaitable[Any]]


ADMIN = frozenset({"admin"})
STAFF = frozenset({"admin", "supervisor"})


class ApiError(Exception):
    """An error answer: HTTP status, a message, and optional details."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


@dataclass
class Route:
    """One endpoint with its models and the roles allowed to call it (None: public)."""

    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    reply: type[BaseModel] | None = None
    roles: frozenset[str] | None = frozenset({"admin", "supervisor", "agent"})
    status: int = 200
    tags: list[str] = field(default_factory=list)


class Api:
    """A registry of routes that installs them on an aiohttp app and describes them."""

    def __init__(self, title: str, version: str) -> None:
        self.title, self.version = title, version
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        reply: type[BaseModel] | None = None,
        roles: frozenset[str] | set[str] | None = frozenset({"admin", "supervisor", "agent"}),
        status: int = 200,
        tag: str = "",
    ) -> Callable[[Handler], Handler]:
        """Register a handler: `async def h(request, *, user, body, query) -> model | dict`."""

        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    method,
                    path,
                    handler,
                    summary,
                    body,
                    query,
                    reply,
                    frozenset(roles) if roles is not None else None,
                    status,
                    [tag] if tag else [],
                )
            )
            return handler

        return register

    def install(self, app: web.Application, authenticate: Authenticator) -> None:
        """Add every route to app, wrapped with authentication, roles and validation."""
        for route in self.routes:
            app.router.add_route(route.method, route.path, _wrap(route, authenticate))

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of every route."""
        paths: dict[str, Any] = {}
        schemas: dict[str, Any] = {}
        for route in self.routes:
            op: dict[str, Any] = {
                "summary": route.summary,
                "tags": route.tags,
                "operationId": route.handler.__name__,
            }
            params = [
                {
                    "name": part[1:-1],
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer" if part.endswith("_id}") else "string"},
                }
                for part in route.path.split("/")
                if part.startswith("{")
            ]
            if route.query is not None:
                for name, info in route.query.model_json_schema()["properties"].items():
                    params.append(
                        {
                            "name": name,
                            "in": "query",
                            "schema": info,
                            "required": name in route.query.model_json_schema().get("required", []),
                        }
                    )
            if params:
                op["parameters"] = params
            if route.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": _ref(route.body, schemas)}},
                }
            answer: dict[str, Any] = {"description": "OK"}
            if route.reply is not None:
                answer["content"] = {"application/json": {"schema": _ref(route.reply, schemas)}}
            op["responses"] = {
                str(route.status): answer,
                "400": {"description": "invalid request (JSON names the field)"},
            }
            if route.roles is not None:
                op["security"] = [{"bearer": []}]
                op["responses"]["401"] = {"description": "missing or invalid token"}
                op["responses"]["403"] = {"description": "role not allowed"}
            paths.setdefault(route.path, {})[route.method.lower()] = op
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version},
            "paths": paths,
            "components": {
                "schemas": schemas,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        }


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of a request."""

    user_id: int
    tenant_id: int
    role: str


Authenticator = Callable[[web.Request], Awaitable[Caller | None]]


def _wrap(
    route: Route, authenticate: Authenticator
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        try:
            kwargs: dict[str, Any] = {}
            if route.roles is not None:
                principal = await authenticate(request)
                if principal is None:
                    raise ApiError(401, "missing, invalid or expired token")
                if principal.role not in route.roles:
                    raise ApiError(403, f"role {principal.role} may not {route.summary.lower()}")
                kwargs["user"] = principal
            if route.query is not None:
                try:
                    kwargs["query"] = route.query.model_validate(dict(request.query))
                except ValidationError as exc:
                    raise ApiError(
                        400, "invalid query parameters", fields=validation_details(exc, "query")
                    ) from exc
            if route.body is not None:
                data = await read_json(request)
                try:
                    kwargs["body"] = route.body.model_validate(data)
                except ValidationError as exc:
                    raise ApiError(
                        400, "invalid request body", fields=validation_details(exc, "body")
                    ) from exc
            result = await route.handler(request, **kwargs)
        except ApiError as exc:
            return error_response(exc.status, exc.message, **exc.details)
        if isinstance(result, web.StreamResponse):
            return result
        if isinstance(result, BaseModel):
            return web.json_response(result.model_dump(mode="json"), status=route.status)
        return web.json_response(result, status=route.status)

    endpoint.__name__ = route.handler.__name__
    return endpoint


def _ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        schemas[name] = sub
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def error_response(status: int, message: str, **details: Any) -> web.Response:
    """A JSON error body: {"error": message, ...details}."""
    return web.json_response({"error": message, **details}, status=status)


def validation_details(exc: ValidationError, where: str) -> list[dict[str, str]]:
    """Each problem as {"field": "a.b", "message": ...}."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or where, "message": err["msg"]}
        for err in exc.errors()
    ]


async def read_json(request: web.Request) -> Any:
    """The request body as JSON, or ApiError(400) saying what is wrong with it."""
    raw = await request.read()
    if not raw:
        raise ApiError(400, "request body is empty; expected a JSON object")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"malformed JSON: {exc}") from exc


def path_id(request: web.Request, name: str) -> int:
    """A numeric id from the URL path, or ApiError(400) naming the parameter."""
    raw = request.match_info[name]
    if not raw.isdigit():
        raise ApiError(
            400, f"{name} must be a number", fields=[{"field": name, "message": "not a number"}]
        )
    return int(raw)
