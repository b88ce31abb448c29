"""The REST API's contract, through HTTP only: status codes, error bodies, roles, tenancy, paging.

Every test talks to the real `phones run --demo` engine of the session testbed. Requests the
API must refuse change nothing, so those tests use the session testbed as it is; tests that
change agent state or place calls use `bed`, which resets the demo tenant around them.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from server.auth import hash_password
from server.db import repositories as repo
from server.db.engine import create_engine, create_sessionmaker
from tests.callbed import CallBed
from tests.testbed import ApiClient

CALLER_TONE, AGENT_TONE = 700.0, 1300.0
STATE = "/api/v1/agents/me/state"
LOGIN = "/api/v1/auth/login"
MAX_FAILED_LOGINS = 5  # the engine's default auth.max_failed_logins


@dataclass(frozen=True)
class OtherTenant:
    """A second tenant created straight in the database, with an admin of known password."""

    slug: str
    admin: str
    password: str


@pytest.fixture(scope="module")
async def other_tenant(testbed: CallBed) -> OtherTenant:
    """Tenant "other" (created once; the per-test reset only touches the demo tenant)."""
    tenant = OtherTenant("other", "root", "other-admin-password")
    db = create_engine(testbed.engine.database_url)
    try:
        async with create_sessionmaker(db)() as session, session.begin():
            row = await repo.get_tenant_by_slug(session, tenant.slug)
            if row is None:
                row = await repo.create_tenant(session, slug=tenant.slug, name="Other Company")
            admin = await repo.get_user_by_username(session, row.id, tenant.admin)
            if admin is None:
                await repo.create_user(
                    session,
                    row.id,
                    username=tenant.admin,
                    display_name="Other Admin",
                    role="admin",
                    password_hash=hash_password(tenant.password),
                )
    finally:
        await db.dispose()
    return tenant


@pytest.fixture
async def anon(testbed: CallBed) -> AsyncIterator[ApiClient]:
    """A client without a token."""
    client = ApiClient(testbed.engine.api)
    try:
        yield client
    finally:
        await client.close()


async def _login(testbed: CallBed, tenant: str, username: str, password: str) -> ApiClient:
    client = ApiClient(testbed.engine.api)
    await client.login(tenant, username, password)
    return client


def _staff_password(testbed: CallBed, role: str) -> str:
    return next(s.password for s in testbed.engine.demo().staff if s.role == role)


async def _new_staff_user(testbed: CallBed, role: str = "supervisor") -> tuple[str, str]:
    """A fresh demo user (no agent profile) created through the API: (username, password)."""
    username, password = f"u{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    status, body = await testbed.admin.call(
        "POST",
        "/api/v1/users",
        {"username": username, "display_name": "Test User", "role": role, "password": password},
    )
    assert status == 201, body
    return username, password


def _fields(body: dict[str, Any]) -> list[str]:
    return [f["field"] for f in body.get("fields", [])]


async def _newest_id(api: ApiClient) -> int:
    status, page = await api.call("GET", "/api/v1/interactions?limit=1")
    assert status == 200, page
    return page["items"][0]["id"] if page["items"] else 0


async def _wait_for_event(api: ApiClient, after_id: int, event: str) -> dict[str, Any]:
    """The newest interaction with an id above after_id, once it has an event of that type."""
    item: dict[str, Any] = {}
    for _ in range(100):
        status, page = await api.call("GET", "/api/v1/interactions?limit=1")
        assert status == 200, page
        if page["items"] and page["items"][0]["id"] > after_id:
            item = page["items"][0]
            if event in [e["type"] for e in item["events"]]:
                return item
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {event!r} event after interaction {after_id}; last: {item}")


async def _place_abandoned_calls(bed: CallBed, count: int) -> list[int]:
    """Calls to Sales that wait in queue (alice on a break) and hang up; their ids."""
    api = await bed.agent_api(bed.agent("Sales"))
    caller = await bed.pstn_phone(0, CALLER_TONE)
    ids = []
    try:
        status, body = await api.call("PUT", STATE, {"state": "not_ready", "reason": "break"})
        assert status == 200, body
        for _ in range(count):
            before = await _newest_id(api)
            call_id = await caller.call(bed.carrier_uri("Sales"))
            await caller.wait_for("confirmed", call_id=call_id, timeout=15)
            item = await _wait_for_event(api, before, "queued")
            await caller.hangup(call_id)
            await _wait_for_event(api, item["id"] - 1, "abandoned")
            ids.append(item["id"])
    finally:
        await caller.stop()
        await api.close()
    return ids


# -- health and metrics ---------------------------------------------------------------------


async def test_healthz_reports_asterisk_and_database_up(anon: ApiClient) -> None:
    status, body = await anon.call("GET", "/healthz")
    assert status == 200, body
    assert body == {"status": "ok", "asterisk": "up", "database": "up"}


async def test_metrics_are_prometheus_text_with_agents_and_asterisk_up(testbed: CallBed) -> None:
    async with aiohttp.ClientSession() as http, http.get(testbed.engine.api + "/metrics") as r:
        text = await r.text()
        assert r.status == 200, text
        assert r.headers["Content-Type"].startswith("text/plain")
    lines = text.splitlines()
    assert "# TYPE phones_agents gauge" in lines
    assert any(line.startswith('phones_agents{state="offline"} ') for line in lines), text
    assert "phones_asterisk_up 1.0" in lines


# -- login, lockout, logout -----------------------------------------------------------------


async def test_login_returns_a_bearer_token_for_the_user(testbed: CallBed, anon: ApiClient) -> None:
    username, password = await _new_staff_user(testbed)
    status, body = await anon.call(
        "POST", LOGIN, {"tenant": "demo", "username": username, "password": password}
    )
    assert status == 200, body
    assert body["role"] == "supervisor" and body["tenant"] == "demo"
    assert body["token"].startswith("phn_")
    status, services = await anon.call("GET", "/api/v1/services", token=body["token"])
    assert status == 200, services
    assert {s["name"] for s in services["items"]} >= {"Sales", "Support"}


async def test_failed_logins_do_not_reveal_what_was_wrong(
    testbed: CallBed, anon: ApiClient
) -> None:
    username, password = await _new_staff_user(testbed)
    attempts = {
        "wrong password": {"tenant": "demo", "username": username, "password": "not-it-at-all"},
        "unknown user": {"tenant": "demo", "username": "nobody-here", "password": password},
        "unknown tenant": {"tenant": "no-such-co", "username": username, "password": password},
    }
    answers = {what: await anon.call("POST", LOGIN, body) for what, body in attempts.items()}
    for what, (status, body) in answers.items():
        assert status == 401, (what, body)
        assert username not in str(body) and "lock" not in body["error"], (what, body)
    assert len({str(body) for _, body in answers.values()}) == 1, answers
    # One failure does not lock: the right password still works.
    status, body = await anon.call(
        "POST", LOGIN, {"tenant": "demo", "username": username, "password": password}
    )
    assert status == 200, body


async def test_repeated_wrong_passwords_lock_the_account(testbed: CallBed, anon: ApiClient) -> None:
    username, password = await _new_staff_user(testbed)
    wrong = {"tenant": "demo", "username": username, "password": "guess-guess-guess"}
    right = {**wrong, "password": password}
    _, unknown_user = await anon.call("POST", LOGIN, {**wrong, "username": "nobody-here"})
    for attempt in range(MAX_FAILED_LOGINS):
        status, body = await anon.call("POST", LOGIN, wrong)
        assert status == 401, (attempt, body)
        assert body == unknown_user, (attempt, body)  # locking is reported on the next try
    status, body = await anon.call("POST", LOGIN, right)
    assert status == 401, body
    assert "locked" in body["error"], body
    assert body["locked_until"], body
    # The lock is the account's only: other users of the tenant still log in.
    status, body = await anon.call(
        "POST",
        LOGIN,
        {"tenant": "demo", "username": "admin", "password": _staff_password(testbed, "admin")},
    )
    assert status == 200, body


async def test_logout_revokes_the_token(testbed: CallBed, anon: ApiClient) -> None:
    username, password = await _new_staff_user(testbed)
    token = await anon.login("demo", username, password)
    other_session = await _login(testbed, "demo", username, password)
    try:
        assert (await anon.call("GET", "/api/v1/services"))[0] == 200
        status, body = await anon.call("POST", "/api/v1/auth/logout")
        assert status == 204, body
        status, body = await anon.call("GET", "/api/v1/services", token=token)
        assert status == 401, body
        assert "token" in body["error"]
        assert (await anon.call("POST", "/api/v1/auth/logout", token=token))[0] == 401
        # Only that token: the same user's other session goes on.
        assert (await other_session.call("GET", "/api/v1/services"))[0] == 200
    finally:
        await other_session.close()


# -- malformed requests ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"state": "ready"', "malformed JSON"),
        (b"state=ready", "malformed JSON"),
        (b"\x80{}", "malformed JSON"),
        (b"", "request body is empty"),
    ],
    ids=["truncated", "form-encoded", "not-utf8", "empty"],
)
async def test_a_body_that_is_not_json_is_400(
    testbed: CallBed, anon: ApiClient, raw: bytes, message: str
) -> None:
    status, body = await anon.call("POST", LOGIN, raw=raw)
    assert status == 400, body
    assert body["error"].startswith(message), body
    agent = testbed.agent("Sales")
    await anon.login("demo", agent.username, agent.password)
    status, body = await anon.call("PUT", STATE, raw=raw)
    assert status == 400, body
    assert body["error"].startswith(message), body


@pytest.mark.parametrize(
    ("who", "method", "path", "payload", "field"),
    [
        ("agent", "PUT", STATE, {"state": "sleeping"}, "state"),
        ("agent", "PUT", STATE, {"state": 1}, "state"),
        ("agent", "PUT", STATE, {}, "state"),
        ("agent", "PUT", STATE, {"state": "ready", "mood": "happy"}, "mood"),
        ("agent", "PUT", STATE, ["ready"], "body"),
        ("agent", "PUT", STATE, "ready", "body"),
        (None, "POST", LOGIN, {"tenant": "demo", "username": "alice"}, "password"),
        (
            "admin",
            "POST",
            "/api/v1/users",
            {"username": "Bad Name", "display_name": "B", "role": "agent", "password": "p" * 12},
            "username",
        ),
        (
            "admin",
            "POST",
            "/api/v1/users",
            {"username": "shorty", "display_name": "S", "role": "agent", "password": "short"},
            "password",
        ),
        (
            "admin",
            "POST",
            "/api/v1/services",
            {"name": "Bad1", "offer_timeout_s": 0},
            "offer_timeout_s",
        ),
        ("admin", "POST", "/api/v1/services", {"name": "Bad2", "priority": "high"}, "priority"),
        ("admin", "POST", "/api/v1/services", {"name": "Bad3", "colour": "red"}, "colour"),
        ("admin", "POST", "/api/v1/services", {"priority": 1}, "name"),
        ("admin", "POST", "/api/v1/lines", {"number": "5559001", "name": "x"}, "service_id"),
        (
            "admin",
            "POST",
            "/api/v1/lines",
            {"number": "12ab", "name": "x", "service_id": 1},
            "number",
        ),
        ("admin", "PATCH", "/api/v1/services/{sales}", {"wrap_up_s": -1}, "wrap_up_s"),
        ("admin", "PATCH", "/api/v1/services/{sales}", {"name": "Renamed"}, "name"),
    ],
)
async def test_an_invalid_body_is_400_naming_the_field(
    testbed: CallBed,
    anon: ApiClient,
    who: str | None,
    method: str,
    path: str,
    payload: Any,
    field: str,
) -> None:
    if who == "agent":
        agent = testbed.agent("Sales")
        await anon.login("demo", agent.username, agent.password)
    elif who == "admin":
        anon.token = testbed.admin.token
    _, before = await testbed.admin.call("GET", "/api/v1/services")
    status, body = await anon.call(method, path.format(sales=testbed.services["Sales"]), payload)
    assert status == 400, body
    assert body["error"] == "invalid request body", body
    assert field in _fields(body), body
    assert all(f["message"] for f in body["fields"]), body
    _, after = await testbed.admin.call("GET", "/api/v1/services")
    assert after == before  # nothing was created or changed


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=abc", "limit"),
        ("cursor=garbage", "cursor"),
        ("cursor=", "cursor"),
        ("colour=red", "colour"),
    ],
)
async def test_a_bad_query_is_400_naming_the_parameter(
    testbed: CallBed, query: str, field: str
) -> None:
    status, body = await testbed.admin.call("GET", f"/api/v1/interactions?{query}")
    assert status == 400, body
    assert field in _fields(body), body


async def test_a_non_numeric_path_id_is_400(testbed: CallBed) -> None:
    status, body = await testbed.admin.call("PATCH", "/api/v1/services/sales", {"priority": 1})
    assert status == 400, body
    assert _fields(body) == ["service_id"], body


# -- roles and tokens -----------------------------------------------------------------------


async def test_roles_are_enforced(testbed: CallBed) -> None:
    agent = await testbed.agent_api(testbed.agent("Sales"))
    supervisor = await _login(testbed, "demo", "supervisor", _staff_password(testbed, "supervisor"))
    try:
        new = {"name": f"Role test {secrets.token_hex(3)}"}
        for client in (agent, supervisor):
            status, body = await client.call("POST", "/api/v1/services", new)
            assert status == 403, body
            assert "may not" in body["error"], body
        status, body = await agent.call("GET", "/api/v1/live/agents")
        assert status == 403, body
        status, body = await agent.call("GET", "/api/v1/users")
        assert status == 403, body
        # What a supervisor may do, and what an agent may see.
        assert (await supervisor.call("GET", "/api/v1/live/agents"))[0] == 200
        assert (await agent.call("GET", "/api/v1/live/queues"))[0] == 200
        _, services = await testbed.admin.call("GET", "/api/v1/services")
        assert new["name"] not in {s["name"] for s in services["items"]}
    finally:
        await agent.close()
        await supervisor.close()


@pytest.mark.parametrize("token", [None, "garbage", "phn_garbage", "Bearer"])
async def test_a_missing_or_invalid_token_is_401(anon: ApiClient, token: str | None) -> None:
    for method, path, body in (
        ("GET", "/api/v1/services", None),
        ("POST", "/api/v1/services", {"name": "Nope"}),
        ("GET", "/api/v1/agents/me", None),
        ("PUT", STATE, {"state": "ready"}),
        ("POST", "/api/v1/auth/logout", None),
    ):
        status, answer = await anon.call(method, path, body, token=token)
        assert status == 401, (method, path, answer)
        assert answer == {"error": "missing, invalid or expired token"}


# -- tenancy --------------------------------------------------------------------------------


async def test_tenants_see_and_touch_only_their_own_objects(
    bed: CallBed, other_tenant: OtherTenant
) -> None:
    demo = bed.admin
    if await _newest_id(demo) == 0:
        await _place_abandoned_calls(bed, 1)
    other = await _login(bed, other_tenant.slug, other_tenant.admin, other_tenant.password)
    try:
        # The other tenant provisions through the API; a name taken in demo is free there.
        status, service = await other.call("POST", "/api/v1/services", {"name": "Sales"})
        assert status == 201, service
        agent_name = f"olga{secrets.token_hex(2)}"
        status, agent = await other.call(
            "POST",
            "/api/v1/users",
            {
                "username": agent_name,
                "display_name": "Olga",
                "role": "agent",
                "password": "olga-password-1",
                "skills": {"sales": 2},
            },
        )
        assert status == 201, agent
        assert agent["sip_username"] == f"other-{agent_name}"

        # It sees its own objects only.
        _, services = await other.call("GET", "/api/v1/services")
        assert service["id"] in {s["id"] for s in services["items"]}
        assert not {s["id"] for s in services["items"]} & set(bed.services.values())
        _, users = await other.call("GET", "/api/v1/users")
        assert {u["username"] for u in users["items"]} >= {other_tenant.admin, agent_name}
        assert not {u["username"] for u in users["items"]} & {"alice", "bob", "carol", "admin"}
        status, page = await other.call("GET", "/api/v1/interactions")
        assert status == 200 and page == {"items": [], "next_cursor": None}, page
        _, live = await other.call("GET", "/api/v1/live/agents")
        live_names = {a["username"] for a in live["items"]}
        assert agent_name in live_names
        assert live_names <= {u["username"] for u in users["items"]}, live_names
        _, queues = await other.call("GET", "/api/v1/live/queues")
        assert service["id"] in {q["service_id"] for q in queues["items"]}
        assert not {q["service_id"] for q in queues["items"]} & set(bed.services.values())

        # It cannot touch the demo tenant's objects: they do not exist for it.
        sales_id = bed.services["Sales"]
        status, body = await other.call("PATCH", f"/api/v1/services/{sales_id}", {"priority": 9})
        assert status == 404, body
        status, body = await other.call(
            "POST",
            "/api/v1/lines",
            {"number": f"777{secrets.randbelow(10**6):06d}", "name": "x", "service_id": sales_id},
        )
        assert status == 404, body
        _, demo_services = await demo.call("GET", "/api/v1/services")
        sales = next(s for s in demo_services["items"] if s["id"] == sales_id)
        assert sales["priority"] != 9

        # And the demo tenant does not see (or touch) the other's.
        assert service["id"] not in {s["id"] for s in demo_services["items"]}
        _, demo_users = await demo.call("GET", "/api/v1/users")
        assert agent_name not in {u["username"] for u in demo_users["items"]}
        _, demo_live = await demo.call("GET", "/api/v1/live/agents")
        assert agent_name not in {a["username"] for a in demo_live["items"]}
        status, body = await demo.call(
            "PATCH", f"/api/v1/services/{service['id']}", {"priority": 9}
        )
        assert status == 404, body
        _, demo_page = await demo.call("GET", "/api/v1/interactions")
        assert demo_page["items"], "the demo tenant should have interactions to hide"
    finally:
        await other.close()


# -- agent state ----------------------------------------------------------------------------


async def test_agent_state_changes_and_their_validation(bed: CallBed) -> None:
    api = await bed.agent_api(bed.agent("Sales"))
    try:
        status, body = await api.call("PUT", STATE, {"state": "ready"})
        assert status == 200, body
        assert body["state"] == "ready" and body["reason"] is None
        _, me = await api.call("GET", "/api/v1/agents/me")
        assert me["state"] == "ready" and me["username"] == "alice"

        status, body = await api.call("PUT", STATE, {"state": "not_ready", "reason": "lunch"})
        assert status == 200, body
        _, me = await api.call("GET", "/api/v1/agents/me")
        assert (me["state"], me["reason"]) == ("not_ready", "lunch")

        for refused in (
            {"state": "not_ready"},
            {"state": "not_ready", "reason": "napping"},
            {"state": "ready", "reason": "lunch"},
        ):
            status, body = await api.call("PUT", STATE, refused)
            assert status == 400, (refused, body)
            assert _fields(body) == ["reason"], (refused, body)
        _, me = await api.call("GET", "/api/v1/agents/me")
        assert (me["state"], me["reason"]) == ("not_ready", "lunch")  # refusals changed nothing
    finally:
        await api.close()


async def test_staff_without_an_agent_profile_have_no_agent_state(bed: CallBed) -> None:
    supervisor = await _login(bed, "demo", "supervisor", _staff_password(bed, "supervisor"))
    try:
        for client in (supervisor, bed.admin):
            status, body = await client.call("GET", "/api/v1/agents/me")
            assert status == 404, body
            status, body = await client.call("PUT", STATE, {"state": "ready"})
            assert status == 404, body
    finally:
        await supervisor.close()


async def test_agent_state_change_is_refused_while_busy(bed: CallBed) -> None:
    alice = bed.agent("Sales")
    agent_phone = await bed.agent_phone(alice, AGENT_TONE, auto_answer=True)
    api = await bed.agent_api(alice)
    caller = await bed.pstn_phone(0, CALLER_TONE)
    try:
        status, body = await api.call("PUT", STATE, {"state": "ready"})
        assert status == 200, body
        call_id = await caller.call(bed.carrier_uri("Sales"))
        incoming = await agent_phone.wait_for("incoming", timeout=15)
        await agent_phone.wait_for("confirmed", call_id=incoming["call_id"], timeout=10)
        for _ in range(50):
            _, me = await api.call("GET", "/api/v1/agents/me")
            if me["state"] == "busy":
                break
            await asyncio.sleep(0.1)
        assert me["state"] == "busy", me
        for request in (
            {"state": "not_ready", "reason": "lunch"},
            {"state": "offline"},
            {"state": "ready"},
        ):
            status, body = await api.call("PUT", STATE, request)
            assert status == 409, (request, body)
            assert body["state"] == "busy", body
        _, me = await api.call("GET", "/api/v1/agents/me")
        assert me["state"] == "busy"
        await caller.hangup(call_id)
    finally:
        await caller.stop()
        await agent_phone.stop()
        await api.close()


# -- interactions paging --------------------------------------------------------------------


async def test_interaction_pages_are_newest_first_and_never_repeat(bed: CallBed) -> None:
    placed = await _place_abandoned_calls(bed, 3)
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(1000):
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = await bed.admin.call("GET", f"/api/v1/interactions?{query}")
        assert status == 200, page
        assert 1 <= len(page["items"]) <= 2, page
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), seen
    assert seen == sorted(seen, reverse=True), seen
    assert seen[:3] == sorted(placed, reverse=True)
    status, whole = await bed.admin.call("GET", "/api/v1/interactions?limit=500")
    assert status == 200, whole
    assert [item["id"] for item in whole["items"]] == seen
    assert whole["next_cursor"] is None
    newest = whole["items"][0]
    assert newest["state"] == "abandoned" and newest["service"] == "Sales"


# -- provisioning conflicts -----------------------------------------------------------------


async def test_duplicate_names_and_numbers_are_409(testbed: CallBed) -> None:
    admin = testbed.admin
    _, before = await admin.call("GET", "/api/v1/services")
    status, body = await admin.call("POST", "/api/v1/services", {"name": "Sales"})
    assert status == 409, body
    status, body = await admin.call(
        "POST",
        "/api/v1/lines",
        {"number": "5551001", "name": "again", "service_id": testbed.services["Support"]},
    )
    assert status == 409, body
    status, body = await admin.call(
        "POST", "/api/v1/trunks", {"name": "carrier", "host": "127.0.0.1"}
    )
    assert status == 409, body
    status, body = await admin.call(
        "POST",
        "/api/v1/users",
        {"username": "alice", "display_name": "A", "role": "agent", "password": "p" * 12},
    )
    assert status == 409, body
    _, after = await admin.call("GET", "/api/v1/services")
    assert after == before
    # The refusals left the engine working.
    status, health = await admin.call("GET", "/healthz")
    assert status == 200, health
