"""The OpenAPI document the engine serves: valid OpenAPI 3.1, complete, and true to the replies."""

from __future__ import annotations

from typing import Any

from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from server.api.routes import api
from tests.callbed import CallBed
from tests.testbed import ApiClient


async def _document(testbed: CallBed) -> dict[str, Any]:
    client = ApiClient(testbed.engine.api)
    try:
        status, doc = await client.call("GET", "/openapi.json")
    finally:
        await client.close()
    assert status == 200, doc
    document: dict[str, Any] = doc
    return document


async def test_the_served_document_is_valid_openapi(testbed: CallBed) -> None:
    doc = await _document(testbed)
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises OpenAPIValidationError with the offending path


async def test_every_registered_route_is_documented_with_its_method(testbed: CallBed) -> None:
    doc = await _document(testbed)
    registered = {(route.method.lower(), route.path) for route in api.routes}
    # The provisioning routes register on import too: the registry is the whole API.
    assert ("post", "/api/v1/services") in registered and ("get", "/healthz") in registered
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    assert documented == registered
    for route in api.routes:
        op = doc["paths"][route.path][route.method.lower()]
        assert str(route.status) in op["responses"], (route.path, op["responses"])
        assert ("security" in op) == (route.roles is not None), route.path


def _reply_schema(doc: dict[str, Any], method: str, path: str, status: int) -> OAS31Validator:
    schema = doc["paths"][path][method]["responses"][str(status)]["content"]["application/json"]
    # "#/components/..." references resolve against the root: give it the components.
    return OAS31Validator({**schema["schema"], "components": doc["components"]})


async def test_replies_match_their_documented_schemas(testbed: CallBed) -> None:
    doc = await _document(testbed)
    alice = testbed.agent("Sales")
    agent = await testbed.agent_api(alice)
    try:
        checks: list[tuple[ApiClient, str, str, int]] = [
            (testbed.admin, "get", "/healthz", 200),
            (testbed.admin, "get", "/api/v1/services", 200),
            (testbed.admin, "get", "/api/v1/users", 200),
            (testbed.admin, "get", "/api/v1/interactions", 200),
            (testbed.admin, "get", "/api/v1/live/queues", 200),
            (testbed.admin, "get", "/api/v1/live/agents", 200),
            (agent, "get", "/api/v1/agents/me", 200),
            (agent, "get", "/api/v1/callbacks", 200),
            (testbed.admin, "get", "/api/v1/callbacks", 200),
        ]
        for client, method, path, status in checks:
            got, reply = await client.call(method.upper(), path)
            assert got == status, (path, reply)
            errors = [
                e.message for e in _reply_schema(doc, method, path, status).iter_errors(reply)
            ]
            assert errors == [], (path, errors)
        got, reply = await agent.call(
            "POST",
            "/api/v1/auth/login",
            {"tenant": "demo", "username": alice.username, "password": alice.password},
        )
        assert got == 200, reply
        errors = [
            e.message
            for e in _reply_schema(doc, "post", "/api/v1/auth/login", 200).iter_errors(reply)
        ]
        assert errors == [], errors
    finally:
        await agent.close()
