"""Call flows through the HTTP API: drafts, problems, versions, diff, rollback, dry run, lines.

Like the other API tests these talk to the session testbed's real `phones run --demo` engine.
Flows and lines are never reset between tests, so each test makes its own (fresh names) and
asserts only about those. Every reply is also checked against the served OpenAPI document.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator

from ivr_messenger import parse_flow
from server.auth import hash_password
from server.db import repositories as repo
from server.db.engine import create_engine, create_sessionmaker
from tests.callbed import CallBed
from tests.testbed import ApiClient

FLOWS = "/api/v1/call-flows"
# Monday 23 November 2026: 10:00 and 20:00 in Rome.
OPEN = "2026-11-23T09:00:00+00:00"
CLOSED = "2026-11-23T19:00:00+00:00"
WEEK = {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
MENU = "For sales press 1, for support press 2."


def _say(text: str) -> dict[str, Any]:
    return {"en": {"tts": text}}


def _document(
    sales: int, support: int, *, greeting: str = "Welcome to Acme.", timeout: str = "sales"
) -> dict[str, Any]:
    """Welcome, business hours, a menu to Sales or Support; closed: voicemail."""
    return {
        "languages": ["en"],
        "start": "start",
        "fallback": "bye",
        "nodes": {
            "start": {"type": "start", "next": "welcome"},
            "welcome": {"type": "play", "prompt": _say(greeting), "next": "hours"},
            "hours": {
                "type": "business_hours",
                "schedule": {"tz": "Europe/Rome", **WEEK},
                "open": "menu",
                "closed": "message",
            },
            "menu": {
                "type": "menu",
                "prompt": _say(MENU),
                "options": [{"key": "1", "next": "sales"}, {"key": "2", "next": "support"}],
                "invalid": "bye",
                "timeout": timeout,
            },
            "sales": {"type": "queue", "service_id": sales},
            "support": {"type": "queue", "service_id": support},
            "message": {"type": "voicemail", "service_id": support, "prompt": _say("Closed.")},
            "bye": {"type": "hangup", "prompt": _say("Goodbye.")},
        },
    }


def _broken(sales: int) -> dict[str, Any]:
    """Parses, but: an unwired menu option, a service that does not exist, an orphan node."""
    document = _document(sales, 999_999)
    document["nodes"]["menu"]["options"][0]["next"] = None
    document["nodes"]["orphan"] = {"type": "play", "prompt": _say("Nobody."), "next": "bye"}
    return document


# What the validator says about _broken, in its order.
BROKEN_PROBLEMS = [
    ("menu", "options[0].next", "missing_edge"),
    ("message", "service_id", "unknown_service"),
    ("orphan", "", "unreachable"),
    ("support", "service_id", "unknown_service"),
]


@dataclass(frozen=True)
class Rival:
    """Another tenant: its admin's client, a published flow and a line of its own."""

    admin: ApiClient
    flow_id: int
    line_id: int


@pytest.fixture(scope="module")
async def openapi(testbed: CallBed) -> dict[str, Any]:
    """The OpenAPI document the engine serves."""
    status, doc = await testbed.admin.call("GET", "/openapi.json")
    assert status == 200, doc
    document: dict[str, Any] = doc
    return document


@pytest.fixture(scope="module")
async def line_id(testbed: CallBed) -> int:
    """A line of the demo tenant for these tests (the carrier lines are other tests')."""
    status, line = await testbed.admin.call(
        "POST",
        "/api/v1/lines",
        {"number": "5557001", "name": "IVR trial", "service_id": testbed.services["Sales"]},
    )
    assert status == 201, line
    return int(line["id"])


@pytest.fixture(scope="module")
async def rival(testbed: CallBed) -> AsyncIterator[Rival]:
    """Tenant "cf-rival", with a service, a published flow and a line made through its API."""
    slug, password = "cf-rival", "rival-admin-password"
    db = create_engine(testbed.engine.database_url)
    try:
        async with create_sessionmaker(db)() as session, session.begin():
            tenant = await repo.create_tenant(session, slug=slug, name="Rival Company")
            await repo.create_user(
                session,
                tenant.id,
                username="root",
                display_name="Rival Admin",
                role="admin",
                password_hash=hash_password(password),
            )
    finally:
        await db.dispose()
    admin = ApiClient(testbed.engine.api)
    try:
        await admin.login(slug, "root", password)
        status, service = await admin.call("POST", "/api/v1/services", {"name": "Sales"})
        assert status == 201, service
        status, line = await admin.call(
            "POST",
            "/api/v1/lines",
            {"number": "5558001", "name": "rival", "service_id": service["id"]},
        )
        assert status == 201, line
        flow = await _create(admin, _document(service["id"], service["id"]))
        assert (await admin.call("POST", f"{FLOWS}/{flow['id']}/publish", {}))[0] == 201
        yield Rival(admin, flow["id"], line["id"])
    finally:
        await admin.close()


@pytest.fixture
async def supervisor(testbed: CallBed) -> AsyncIterator[ApiClient]:
    """The demo supervisor, logged in."""
    client = ApiClient(testbed.engine.api)
    try:
        password = next(s.password for s in testbed.engine.demo().staff if s.role == "supervisor")
        await client.login("demo", "supervisor", password)
        yield client
    finally:
        await client.close()


def _name() -> str:
    return f"flow {secrets.token_hex(4)}"


async def _create(client: ApiClient, document: dict[str, Any]) -> dict[str, Any]:
    status, body = await client.call("POST", FLOWS, {"name": _name(), "document": document})
    assert status == 201, body
    flow: dict[str, Any] = body
    return flow


def _problems(body: dict[str, Any]) -> list[tuple[str | None, str, str]]:
    assert all(p["message"] for p in body["problems"]), body
    return [(p["node_id"], p["field"], p["code"]) for p in body["problems"]]


def _check(doc: dict[str, Any], method: str, path: str, status: int, reply: Any) -> None:
    """The reply matches the schema documented for `method path` and `status`."""
    answer = doc["paths"][path][method]["responses"][str(status)]
    schema = answer["content"]["application/json"]["schema"]
    validator = OAS31Validator({**schema, "components": doc["components"]})
    errors = [e.message for e in validator.iter_errors(reply)]
    assert errors == [], (path, errors)


async def _audit(testbed: CallBed, target: str) -> list[str]:
    """The audit actions recorded for `target` in the demo tenant, oldest first."""
    db = create_engine(testbed.engine.database_url)
    try:
        async with create_sessionmaker(db)() as session:
            tenant = await repo.get_tenant_by_slug(session, "demo")
            assert tenant is not None
            entries = await repo.list_audit(session, tenant.id, limit=1000)
    finally:
        await db.dispose()
    return [e.action for e in reversed(entries) if e.target == target]


async def _disable(testbed: CallBed, user_id: int) -> None:
    """Disable a demo user (the API has no way to)."""
    db = create_engine(testbed.engine.database_url)
    try:
        async with create_sessionmaker(db)() as session, session.begin():
            tenant = await repo.get_tenant_by_slug(session, "demo")
            assert tenant is not None
            assert await repo.update_user(session, tenant.id, user_id, disabled=True)
    finally:
        await db.dispose()


async def test_a_flow_from_invalid_draft_to_versions_diff_and_rollback(
    testbed: CallBed, supervisor: ApiClient, openapi: dict[str, Any]
) -> None:
    sales, support = testbed.services["Sales"], testbed.services["Support"]
    name = _name()
    status, created = await supervisor.call(
        "POST", FLOWS, {"name": name, "document": _broken(sales)}
    )
    assert status == 201, created  # saved although it cannot be published
    _check(openapi, "post", FLOWS, 201, created)
    flow = f"{FLOWS}/{created['id']}"
    assert _problems(created) == BROKEN_PROBLEMS
    assert (created["name"], created["kind"], created["current_version"]) == (name, "main", None)
    assert created["draft"] == {"valid": False, "problems": 4, "unpublished_changes": True}
    # Stored as parsed: the same document, with every default spelt out.
    assert created["document"] == parse_flow(_broken(sales)).to_data()

    status, listed = await supervisor.call("GET", FLOWS)
    assert status == 200, listed
    _check(openapi, "get", FLOWS, 200, listed)
    mine = next(item for item in listed["items"] if item["id"] == created["id"])
    assert (mine["name"], mine["current_version"], mine["draft"]["problems"]) == (name, None, 4)

    status, checked = await supervisor.call("POST", f"{flow}/validate")
    assert status == 200, checked
    _check(openapi, "post", FLOWS + "/{flow_id}/validate", 200, checked)
    assert checked["problems"] == created["problems"]

    # Refused with the very same problems; nothing is published.
    status, refused = await supervisor.call("POST", f"{flow}/publish", {"note": "too soon"})
    assert status == 409, refused
    assert refused["problems"] == created["problems"] and refused["error"], refused
    status, versions = await supervisor.call("GET", f"{flow}/versions")
    assert (status, versions) == (200, {"items": []})

    status, fixed = await supervisor.call(
        "PUT", f"{flow}/draft", {"document": _document(sales, support)}
    )
    assert status == 200, fixed
    _check(openapi, "put", FLOWS + "/{flow_id}/draft", 200, fixed)
    assert fixed["problems"] == [] and fixed["draft"]["valid"] is True, fixed
    status, first = await supervisor.call("POST", f"{flow}/publish", {"note": "first"})
    assert status == 201, first
    _check(openapi, "post", FLOWS + "/{flow_id}/publish", 201, first)
    assert (first["number"], first["note"], first["kind"]) == (1, "first", "main")
    assert first["document"] == fixed["document"]
    _, now = await supervisor.call("GET", flow)
    assert (now["current_version"], now["draft"]["unpublished_changes"]) == (1, False)

    # Edit the draft: a new greeting, and no key leads to Support; published as version 2.
    edited = _document(sales, support, greeting="Hello from Acme.", timeout="support")
    status, draft = await supervisor.call("PUT", f"{flow}/draft", {"document": edited})
    assert status == 200 and draft["draft"]["unpublished_changes"] is True, draft
    status, second = await supervisor.call("POST", f"{flow}/publish", {})
    assert status == 201 and second["number"] == 2 and second["note"] == "", second

    status, changes = await supervisor.call("GET", f"{flow}/diff?from=1&to=2")
    assert status == 200, changes
    _check(openapi, "get", FLOWS + "/{flow_id}/diff", 200, changes)
    assert (changes["from_version"], changes["to"], changes["empty"]) == (1, 2, False)
    assert (changes["added"], changes["removed"], changes["settings"]) == ([], [], [])
    by_node = {c["node_id"]: c["changes"] for c in changes["changed"]}
    assert by_node["welcome"] == [
        {
            "path": "prompt.en.tts",
            "change": "changed",
            "before": "Welcome to Acme.",
            "after": "Hello from Acme.",
            "text": 'prompt.en.tts: "Welcome to Acme." → "Hello from Acme."',
        }
    ]
    assert [c["path"] for c in by_node["menu"]] == ["timeout"]
    assert set(by_node) == {"welcome", "menu"}
    assert '~ node menu: timeout: "sales" → "support"' in changes["lines"]
    status, same = await supervisor.call("GET", f"{flow}/diff?from=2")  # to the draft
    assert status == 200 and same["empty"] is True and same["to"] == "draft", same

    # Rolling back to 1 publishes its document again as version 3.
    status, third = await supervisor.call("POST", f"{flow}/rollback", {"version": 1})
    assert status == 201, third
    _check(openapi, "post", FLOWS + "/{flow_id}/rollback", 201, third)
    assert (third["number"], third["note"]) == (3, "rollback to version 1")
    assert third["document"] == first["document"]
    status, versions = await supervisor.call("GET", f"{flow}/versions")
    assert status == 200, versions
    _check(openapi, "get", FLOWS + "/{flow_id}/versions", 200, versions)
    assert [v["number"] for v in versions["items"]] == [3, 2, 1]
    assert "document" not in versions["items"][0]
    status, one = await supervisor.call("GET", f"{flow}/versions/1")
    assert status == 200 and one == first, one
    _check(openapi, "get", FLOWS + "/{flow_id}/versions/{version}", 200, one)
    _, back = await supervisor.call("GET", f"{flow}/diff?from=1&to=3")
    assert back["empty"] is True and back["lines"] == [], back
    _, now = await supervisor.call("GET", flow)
    assert now["current_version"] == 3
    assert now["document"] == draft["document"]  # the draft was left as it was

    assert await _audit(testbed, f"call_flow:{created['id']}") == [
        "call_flow_created",
        "call_flow_draft_saved",
        "call_flow_published",
        "call_flow_draft_saved",
        "call_flow_published",
        "call_flow_rolled_back",
    ]


async def test_rollback_revalidates_against_todays_services(
    testbed: CallBed, supervisor: ApiClient
) -> None:
    sales, support = testbed.services["Sales"], testbed.services["Support"]
    # Version 1 transfers to an agent who is then disabled: it is no longer valid.
    username = f"temp{secrets.token_hex(3)}"
    status, agent = await testbed.admin.call(
        "POST",
        "/api/v1/users",
        {
            "username": username,
            "display_name": "Temp",
            "role": "agent",
            "password": "temp-password-1",
        },
    )
    assert status == 201, agent
    document = _document(sales, support)
    document["nodes"]["menu"]["options"].append({"key": "0", "next": "operator"})
    document["nodes"]["operator"] = {
        "type": "transfer",
        "target": {"agent_id": agent["id"]},
        "failure": "bye",
    }
    created = await _create(supervisor, document)
    flow = f"{FLOWS}/{created['id']}"
    assert (await supervisor.call("POST", f"{flow}/publish", {}))[0] == 201
    await supervisor.call("PUT", f"{flow}/draft", {"document": _document(sales, support)})
    assert (await supervisor.call("POST", f"{flow}/publish", {}))[0] == 201
    await _disable(testbed, agent["id"])

    status, refused = await supervisor.call("POST", f"{flow}/rollback", {"version": 1})

    assert status == 409, refused
    assert _problems(refused) == [("operator", "target.agent_id", "unknown_agent")]
    _, versions = await supervisor.call("GET", f"{flow}/versions")
    assert [v["number"] for v in versions["items"]] == [2, 1]
    status, missing = await supervisor.call("POST", f"{flow}/rollback", {"version": 7})
    assert status == 404, missing


async def test_try_it_walks_the_draft_with_a_script(
    testbed: CallBed, supervisor: ApiClient, openapi: dict[str, Any]
) -> None:
    sales, support = testbed.services["Sales"], testbed.services["Support"]
    created = await _create(supervisor, _document(sales, support))
    path = f"{FLOWS}/{created['id']}/try"

    status, walked = await supervisor.call(
        "POST", path, {"script": ["7", "2", "answer"], "at": OPEN, "caller": "+390212345678"}
    )

    assert status == 200, walked
    _check(openapi, "post", FLOWS + "/{flow_id}/try", 200, walked)
    assert [v["node"] for v in walked["path"]] == [
        "start",
        "welcome",
        "hours",
        "menu",
        "menu",
        "menu",
        "support",
        "support",
    ]
    assert walked["outcome"]["kind"] == "queued", walked["outcome"]
    assert walked["outcome"]["data"] == {"service_id": support, "priority": 0}
    assert walked["outcome"]["text"] == f"queued to service {support} (Support) with priority 0"
    assert walked["lines"][-1] == "Outcome: " + walked["outcome"]["text"]
    assert walked["path"][3]["prompts"] == [{"kind": "tts", "value": MENU, "language": "en"}]
    assert (walked["path"][4]["input"], walked["path"][5]["input"]) == ("7", "2")
    assert (walked["path"][5]["branch"], walked["path"][5]["target"]) == ("options[1]", "support")
    assert walked["variables"]["caller"] == "+390212345678"
    assert walked["at"].startswith("2026-11-23T09:00") and walked["problems"] == []

    # Closed at 20:00 in Rome: voicemail, without a key pressed.
    status, closed = await supervisor.call("POST", path, {"at": CLOSED})
    assert status == 200, closed
    assert [v["node"] for v in closed["path"]][2:] == ["hours", "message", "message"]
    assert (closed["outcome"]["kind"], closed["outcome"]["data"]["service_id"]) == (
        "voicemail",
        support,
    )

    # The script runs out at the menu; the draft is walked as it is now, problems and all.
    await supervisor.call("PUT", f"{FLOWS}/{created['id']}/draft", {"document": _broken(sales)})
    status, waiting = await supervisor.call("POST", path, {"script": ["9"], "at": OPEN})
    assert status == 200, waiting
    assert waiting["outcome"]["kind"] == "waiting", waiting
    assert waiting["outcome"]["data"]["node"] == "menu"
    assert _problems(waiting) == BROKEN_PROBLEMS

    status, bad = await supervisor.call("POST", path, {"script": ["1"], "at": "2026-11-23T09:00"})
    assert status == 400 and [f["field"] for f in bad["fields"]] == ["at"], bad


async def test_a_line_follows_only_a_published_flow_of_its_tenant(
    testbed: CallBed,
    supervisor: ApiClient,
    line_id: int,
    rival: Rival,
    openapi: dict[str, Any],
) -> None:
    sales, support = testbed.services["Sales"], testbed.services["Support"]
    created = await _create(supervisor, _document(sales, support))
    assign = f"/api/v1/lines/{line_id}/call-flow"

    status, refused = await supervisor.call("PUT", assign, {"call_flow_id": created["id"]})
    assert status == 409 and "no published version" in refused["error"], refused
    assert [f["field"] for f in refused["fields"]] == ["call_flow_id"]

    assert (await supervisor.call("POST", f"{FLOWS}/{created['id']}/publish", {}))[0] == 201
    status, line = await supervisor.call("PUT", assign, {"call_flow_id": created["id"]})
    assert status == 200, line
    _check(openapi, "put", "/api/v1/lines/{line_id}/call-flow", 200, line)
    assert line == {
        "id": line_id,
        "number": "5557001",
        "name": "IVR trial",
        "service_id": sales,
        "call_flow_id": created["id"],
        "call_flow_version": 1,
    }
    _, flow = await supervisor.call("GET", f"{FLOWS}/{created['id']}")
    assert flow["line_ids"] == [line_id]
    # The engine reloaded its configuration and is still well.
    assert (await supervisor.call("GET", "/healthz"))[0] == 200

    # A sub-flow answers no line, and no flow can become a sub-flow while it answers one.
    sub = {
        "kind": "subflow",
        "languages": ["en"],
        "start": "start",
        "nodes": {"start": {"type": "start", "next": "back"}, "back": {"type": "return"}},
    }
    sub_flow = await _create(supervisor, sub)
    assert (await supervisor.call("POST", f"{FLOWS}/{sub_flow['id']}/publish", {}))[0] == 201
    status, refused = await supervisor.call("PUT", assign, {"call_flow_id": sub_flow["id"]})
    assert status == 409 and "sub-flow" in refused["error"], refused
    await supervisor.call("PUT", f"{FLOWS}/{created['id']}/draft", {"document": sub})
    status, refused = await supervisor.call("POST", f"{FLOWS}/{created['id']}/publish", {})
    assert status == 409 and "answers lines" in refused["error"], refused

    # Another tenant's flow or line is as good as missing.
    status, body = await supervisor.call("PUT", assign, {"call_flow_id": rival.flow_id})
    assert status == 404, body
    status, body = await supervisor.call(
        "PUT", f"/api/v1/lines/{rival.line_id}/call-flow", {"call_flow_id": created["id"]}
    )
    assert status == 404, body
    status, body = await rival.admin.call(
        "PUT", f"/api/v1/lines/{rival.line_id}/call-flow", {"call_flow_id": created["id"]}
    )
    assert status == 404, body
    status, body = await supervisor.call("PUT", assign, {})
    assert status == 400 and [f["field"] for f in body["fields"]] == ["call_flow_id"], body

    status, line = await supervisor.call("PUT", assign, {"call_flow_id": None})
    assert status == 200 and (line["call_flow_id"], line["call_flow_version"]) == (None, None)
    assert await _audit(testbed, f"line:{line_id}") == ["line_created"] + ["line_call_flow_set"] * 2


async def test_agents_may_not_touch_flows(testbed: CallBed, line_id: int) -> None:
    created = await _create(testbed.admin, _document(1, 1))
    flow = f"{FLOWS}/{created['id']}"
    agent = await testbed.agent_api(testbed.agent("Sales"))
    try:
        for method, path, body in [
            ("GET", FLOWS, None),
            ("POST", FLOWS, {"name": _name(), "document": _document(1, 1)}),
            ("GET", flow, None),
            ("PUT", f"{flow}/draft", {"document": _document(1, 1)}),
            ("POST", f"{flow}/validate", None),
            ("POST", f"{flow}/publish", {}),
            ("GET", f"{flow}/versions", None),
            ("POST", f"{flow}/try", {"script": []}),
            ("PUT", f"/api/v1/lines/{line_id}/call-flow", {"call_flow_id": None}),
        ]:
            status, answer = await agent.call(method, path, body)
            assert status == 403, (method, path, answer)
    finally:
        await agent.close()
    _, versions = await testbed.admin.call("GET", f"{flow}/versions")
    assert versions["items"] == []


async def test_other_tenants_flows_are_not_found(
    testbed: CallBed, supervisor: ApiClient, rival: Rival
) -> None:
    theirs = f"{FLOWS}/{rival.flow_id}"
    for method, path, body in [
        ("GET", theirs, None),
        ("PUT", f"{theirs}/draft", {"document": _document(1, 1)}),
        ("POST", f"{theirs}/validate", None),
        ("POST", f"{theirs}/publish", {}),
        ("GET", f"{theirs}/versions", None),
        ("GET", f"{theirs}/versions/1", None),
        ("GET", f"{theirs}/diff?from=1", None),
        ("POST", f"{theirs}/rollback", {"version": 1}),
        ("POST", f"{theirs}/try", {"script": []}),
    ]:
        status, answer = await supervisor.call(method, path, body)
        assert status == 404, (method, path, answer)
    _, listed = await supervisor.call("GET", FLOWS)
    assert rival.flow_id not in {item["id"] for item in listed["items"]}
    _, versions = await rival.admin.call("GET", f"{theirs}/versions")
    assert [v["number"] for v in versions["items"]] == [1]  # untouched


def _with(path: list[str | int], value: Any) -> dict[str, Any]:
    document = _document(1, 1)
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize(
    ("document", "fields"),
    [
        (_with(["nodes", "menu", "options", 0, "key"], 1), ["document.nodes.menu.options[0].key"]),
        (_with(["nodes", "sales", "colour"], "red"), ["document.nodes.sales.colour"]),
        (_with(["start"], KeyError), ["document.start"]),
        (_with(["nodes", "hours", "type"], "teleport"), ["document.nodes.hours"]),
        (_with(["languages"], "en"), ["document.languages"]),
        ([], ["document"]),
    ],
)
async def test_a_malformed_document_is_400_naming_its_path(
    supervisor: ApiClient, document: Any, fields: list[str]
) -> None:
    name = _name()
    status, answer = await supervisor.call("POST", FLOWS, {"name": name, "document": document})
    assert status == 400, answer
    assert [f["field"] for f in answer["fields"]] == fields, answer
    assert all(f["message"] for f in answer["fields"]), answer
    _, listed = await supervisor.call("GET", FLOWS)
    assert name not in {item["name"] for item in listed["items"]}  # nothing was created


async def test_a_malformed_draft_changes_nothing_and_bad_requests_say_why(
    testbed: CallBed, supervisor: ApiClient
) -> None:
    document = _document(testbed.services["Sales"], testbed.services["Support"])
    created = await _create(supervisor, document)
    flow = f"{FLOWS}/{created['id']}"
    broken = copy.deepcopy(document)
    broken["nodes"]["menu"]["timeout_s"] = "five"
    status, answer = await supervisor.call("PUT", f"{flow}/draft", {"document": broken})
    assert status == 400, answer
    assert [f["field"] for f in answer["fields"]] == ["document.nodes.menu.timeout_s"]
    _, now = await supervisor.call("GET", flow)
    assert now["document"] == created["document"]

    status, answer = await supervisor.call(
        "POST", FLOWS, {"name": created["name"], "document": document}
    )
    assert status == 409 and [f["field"] for f in answer["fields"]] == ["name"], answer
    for query, field in [("to=1", "from"), ("from=first", "from"), ("from=1&to=latest", "to")]:
        status, answer = await supervisor.call("GET", f"{flow}/diff?{query}")
        assert status == 400 and field in [f["field"] for f in answer["fields"]], (query, answer)
    for path in [f"{flow}/diff?from=1", f"{flow}/versions/1", f"{FLOWS}/999999999"]:
        status, answer = await supervisor.call("GET", path)
        assert status == 404, (path, answer)
    status, answer = await supervisor.call("GET", f"{FLOWS}/first")
    assert status == 400 and [f["field"] for f in answer["fields"]] == ["flow_id"], answer
