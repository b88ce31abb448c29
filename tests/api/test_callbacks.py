"""Call-backs through the HTTP API: who creates, sees, completes and calls them, and refusals.

Like the contract tests, these talk to the session testbed's real `phones run --demo`
engine. Call-backs are never reset between tests, so each test makes its own and asserts
only about those.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from server.auth import hash_password
from server.db import repositories as repo
from server.db.engine import create_engine, create_sessionmaker
from tests.callbed import CallBed
from tests.testbed import ApiClient

CALLBACKS = "/api/v1/callbacks"
DUE = "2026-12-01T15:00:00+01:00"


@dataclass(frozen=True)
class Rival:
    """Another tenant: its admin's client, one of its services and one of its agents."""

    admin: ApiClient
    service_id: int
    agent_id: int


@dataclass(frozen=True)
class People:
    """Logged-in clients of the demo tenant and the user ids behind them."""

    admin: ApiClient
    supervisor: ApiClient
    alice: ApiClient  # Sales (sales 5)
    bob: ApiClient  # Support (support 5)
    carol: ApiClient  # Sales (sales 3)
    ids: dict[str, int]


@pytest.fixture(scope="module")
async def rival(testbed: CallBed) -> AsyncIterator[Rival]:
    """Tenant "cb-rival", made once; its service and agent are made through its API."""
    slug, password = "cb-rival", "rival-admin-password"
    db = create_engine(testbed.engine.database_url)
    try:
        async with create_sessionmaker(db)() as session, session.begin():
            tenant = await repo.get_tenant_by_slug(session, slug)
            if tenant is None:
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
        status, agent = await admin.call(
            "POST",
            "/api/v1/users",
            {
                "username": "rita",
                "display_name": "Rita",
                "role": "agent",
                "password": "rita-password-1",
                "skills": {"sales": 5},
            },
        )
        assert status == 201, agent
        yield Rival(admin, service["id"], agent["id"])
    finally:
        await admin.close()


@pytest.fixture
async def people(testbed: CallBed) -> AsyncIterator[People]:
    """The demo's supervisor and its three agents, logged in; closed after the test."""
    clients: list[ApiClient] = []

    async def login(username: str, password: str) -> ApiClient:
        client = ApiClient(testbed.engine.api)
        clients.append(client)
        await client.login("demo", username, password)
        return client

    try:
        supervisor_password = next(
            s.password for s in testbed.engine.demo().staff if s.role == "supervisor"
        )
        carol = await testbed.carol()
        alice, bob = testbed.agent("Sales"), testbed.agent("Support")
        _, users = await testbed.admin.call("GET", "/api/v1/users")
        yield People(
            admin=testbed.admin,
            supervisor=await login("supervisor", supervisor_password),
            alice=await login(alice.username, alice.password),
            bob=await login(bob.username, bob.password),
            carol=await login(carol.username, carol.password),
            ids={u["username"]: u["id"] for u in users["items"]},
        )
    finally:
        for client in clients:
            await client.close()


def _number() -> str:
    """A fresh number, so a test finds its own call-backs among earlier tests' ones."""
    return f"+39{secrets.randbelow(10**9):09d}"


async def _create(client: ApiClient, **fields: Any) -> dict[str, Any]:
    status, body = await client.call(
        "POST", CALLBACKS, {"number": _number(), "due_at": DUE, **fields}
    )
    assert status == 201, body
    item: dict[str, Any] = body
    return item


async def _ids(client: ApiClient, query: str = "") -> list[int]:
    status, body = await client.call("GET", f"{CALLBACKS}{query}")
    assert status == 200, body
    return [item["id"] for item in body["items"]]


def _fields(body: dict[str, Any]) -> list[str]:
    return [f["field"] for f in body.get("fields", [])]


async def test_an_agent_keeps_their_own_callback_from_creation_to_done(people: People) -> None:
    number = _number()
    status, created = await people.alice.call(
        "POST",
        CALLBACKS,
        {"number": number, "name": "Ms Rossi", "notes": "invoice 42", "due_at": DUE},
    )
    assert status == 201, created
    assert created["agent_id"] == people.ids["alice"]  # an agent's own by default
    assert (created["number"], created["name"], created["notes"]) == (
        number,
        "Ms Rossi",
        "invoice 42",
    )
    assert (created["service"], created["service_id"]) == (None, None)
    assert (created["state"], created["done_at"]) == ("pending", None)
    assert datetime.fromisoformat(created["due_at"]) == datetime.fromisoformat(DUE)
    assert datetime.fromisoformat(created["created_at"]).tzinfo is not None

    assert created["id"] in await _ids(people.alice)
    status, done = await people.alice.call("POST", f"{CALLBACKS}/{created['id']}/done")
    assert status == 200, done
    assert done["state"] == "done" and done["done_at"], done
    assert {k: v for k, v in done.items() if k not in ("state", "done_at")} == {
        k: v for k, v in created.items() if k not in ("state", "done_at")
    }

    # Done once only: the second attempt is a conflict and changes nothing.
    status, again = await people.alice.call("POST", f"{CALLBACKS}/{created['id']}/done")
    assert status == 409, again
    assert again["state"] == "done" and "already done" in again["error"], again
    assert created["id"] not in await _ids(people.alice)  # the default is pending ones
    assert created["id"] in await _ids(people.alice, "?state=done")
    assert created["id"] in await _ids(people.alice, "?state=all")
    _, listed = await people.alice.call("GET", f"{CALLBACKS}?state=done")
    assert next(i for i in listed["items"] if i["id"] == created["id"]) == done


async def test_service_callbacks_reach_only_the_agents_who_can_serve_it(
    testbed: CallBed, people: People
) -> None:
    sales, support = testbed.services["Sales"], testbed.services["Support"]
    for_sales = await _create(people.supervisor, service_id=sales)
    for_support = await _create(people.supervisor, service_id=support)
    bobs = await _create(people.supervisor, service_id=sales, agent_id=people.ids["bob"])
    ours = {for_sales["id"], for_support["id"], bobs["id"]}
    assert (for_sales["service"], for_sales["agent_id"]) == ("Sales", None)

    assert set(await _ids(people.alice)) & ours == {for_sales["id"]}
    assert set(await _ids(people.carol, "?mine=true")) & ours == {for_sales["id"]}
    # bob's own one although he cannot serve Sales; not Sales' unassigned one.
    assert set(await _ids(people.bob)) & ours == {for_support["id"], bobs["id"]}
    # Staff see the whole tenant by default, and only their own with mine=true.
    assert set(await _ids(people.supervisor)) >= ours
    assert set(await _ids(people.admin, "?mine=false&state=all")) >= ours
    assert not set(await _ids(people.supervisor, "?mine=true")) & ours

    status, body = await people.alice.call("GET", f"{CALLBACKS}?mine=false")
    assert status == 403, body
    assert _fields(body) == ["mine"], body

    # Not hers by the rule is as good as not there, whatever she tries.
    for path in (f"{bobs['id']}/done", f"{bobs['id']}/call", f"{for_support['id']}/done"):
        status, body = await people.alice.call("POST", f"{CALLBACKS}/{path}")
        assert status == 404, (path, body)
    status, body = await people.carol.call("POST", f"{CALLBACKS}/{for_sales['id']}/done")
    assert status == 200, body  # any agent of the service may complete it
    _, pending = await people.supervisor.call("GET", CALLBACKS)
    states = {i["id"]: i["state"] for i in pending["items"]}
    assert states.get(bobs["id"]) == "pending" and states.get(for_support["id"]) == "pending"
    assert for_sales["id"] not in states


async def test_tenants_never_see_or_touch_each_others_callbacks(
    testbed: CallBed, people: People, rival: Rival
) -> None:
    demo_one = await _create(people.admin, service_id=testbed.services["Sales"])
    rival_one = await _create(rival.admin, service_id=rival.service_id)
    assert rival_one["service"] == "Sales"

    assert rival_one["id"] not in await _ids(people.admin, "?state=all")
    assert demo_one["id"] not in await _ids(rival.admin, "?state=all")
    for client, other in ((rival.admin, demo_one), (people.admin, rival_one)):
        for action in ("done", "call"):
            status, body = await client.call("POST", f"{CALLBACKS}/{other['id']}/{action}")
            assert status == 404, (action, body)
    assert demo_one["id"] in await _ids(people.admin)  # still pending
    assert rival_one["id"] in await _ids(rival.admin)


@pytest.mark.parametrize(
    ("who", "payload", "field"),
    [
        ("alice", {"number": "12ab"}, "number"),
        ("alice", {"number": "1"}, "number"),
        ("alice", {"number": "+" + "1" * 32}, "number"),
        ("alice", {"number": None}, "number"),
        ("alice", {"due_at": "2026-12-01T15:00:00"}, "due_at"),  # no time zone
        ("alice", {"due_at": "tomorrow"}, "due_at"),
        ("alice", {"colour": "red"}, "colour"),
        ("alice", {"service_id": "<rival service>"}, "service_id"),
        ("supervisor", {"service_id": "<rival service>"}, "service_id"),
        ("supervisor", {"agent_id": "<rival agent>"}, "agent_id"),
        ("supervisor", {"agent_id": "<supervisor>"}, "agent_id"),  # a user, not an agent
        ("supervisor", {}, "service_id"),  # neither a service nor an agent
    ],
)
async def test_an_invalid_callback_is_400_naming_the_field(
    people: People, rival: Rival, who: str, payload: dict[str, Any], field: str
) -> None:
    client = people.alice if who == "alice" else people.supervisor
    refs = {
        "<rival service>": rival.service_id,
        "<rival agent>": rival.agent_id,
        "<supervisor>": people.ids["supervisor"],
    }
    body = {"number": _number(), "due_at": DUE}
    body |= {k: refs.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    before = await _ids(people.admin, "?state=all")

    status, answer = await client.call("POST", CALLBACKS, body)

    assert status == 400, answer
    assert _fields(answer) == [field], answer
    assert all(f["message"] for f in answer["fields"]), answer
    assert await _ids(people.admin, "?state=all") == before  # nothing was created


async def test_agents_create_callbacks_for_themselves_only(people: People) -> None:
    before = await _ids(people.admin, "?state=all")
    status, body = await people.alice.call(
        "POST", CALLBACKS, {"number": _number(), "due_at": DUE, "agent_id": people.ids["bob"]}
    )
    assert status == 403, body
    assert _fields(body) == ["agent_id"], body
    assert await _ids(people.admin, "?state=all") == before
    mine = await _create(people.alice, agent_id=people.ids["alice"])
    assert mine["agent_id"] == people.ids["alice"]


async def test_calling_back_needs_a_registered_device(people: People, rival: Rival) -> None:
    """Calling back rings the agent's device first: none registered, nothing is dialled.

    (tests/calls/test_agent_calls.py places a call-back for real.)
    """
    mine = await _create(people.alice)
    status, body = await people.alice.call("POST", f"{CALLBACKS}/{mine['id']}/call")
    assert status == 409 and "offline" in body["error"], body
    status, body = await people.alice.call(
        "PUT", "/api/v1/agents/me/state", {"state": "not_ready", "reason": "break"}
    )
    assert status == 200, body
    status, body = await people.alice.call("POST", f"{CALLBACKS}/{mine['id']}/call")
    assert status == 409 and "device" in body["error"], body
    assert mine["id"] in await _ids(people.alice)  # still pending

    # Access is checked first, exactly as for done: 404 for others, 409 once done.
    for client in (people.bob, rival.admin):
        status, body = await client.call("POST", f"{CALLBACKS}/{mine['id']}/call")
        assert status == 404, body
    assert (await people.alice.call("POST", f"{CALLBACKS}/{mine['id']}/done"))[0] == 200
    status, body = await people.alice.call("POST", f"{CALLBACKS}/{mine['id']}/call")
    assert status == 409, body
    status, body = await people.alice.call("POST", f"{CALLBACKS}/first/call")
    assert status == 400 and _fields(body) == ["callback_id"], body
    status, body = await people.alice.call("POST", f"{CALLBACKS}/999999999/call")
    assert status == 404, body


@pytest.mark.parametrize("query", ["state=open", "mine=perhaps", "limit=5"])
async def test_a_bad_list_query_is_400_naming_the_parameter(people: People, query: str) -> None:
    status, body = await people.admin.call("GET", f"{CALLBACKS}?{query}")
    assert status == 400, body
    assert _fields(body) == [query.partition("=")[0]], body
