"""Agents' dial-out permission through the provisioning API: granted, listed, changed, refused."""

from __future__ import annotations

import secrets
from typing import Any

from tests.callbed import CallBed
from tests.testbed import ApiClient

USERS = "/api/v1/users"


async def _create(admin: ApiClient, role: str = "agent", **fields: Any) -> dict[str, Any]:
    status, body = await admin.call(
        "POST",
        USERS,
        {
            "username": f"d{secrets.token_hex(4)}",
            "display_name": "Dial Test",
            "role": role,
            "password": "dial-password-1",
            **fields,
        },
    )
    assert status == 201, body
    user: dict[str, Any] = body
    return user


async def _listed(admin: ApiClient, user_id: int) -> dict[str, Any]:
    status, body = await admin.call("GET", USERS)
    assert status == 200, body
    user: dict[str, Any] = next(u for u in body["items"] if u["id"] == user_id)
    return user


async def test_can_dial_out_round_trips_through_create_list_and_patch(testbed: CallBed) -> None:
    admin = testbed.admin
    granted = await _create(admin, skills={"sales": 2}, can_dial_out=True)
    plain = await _create(admin, skills={"sales": 2})
    staff = await _create(admin, role="supervisor")
    assert (granted["can_dial_out"], plain["can_dial_out"], staff["can_dial_out"]) == (
        True,
        False,
        None,  # not an agent: the permission does not apply
    )
    assert (await _listed(admin, granted["id"]))["can_dial_out"] is True
    assert (await _listed(admin, plain["id"]))["can_dial_out"] is False

    status, body = await admin.call("PATCH", f"{USERS}/{granted['id']}", {"can_dial_out": False})
    assert status == 200, body
    assert body["can_dial_out"] is False and body["skills"] == {"sales": 2}
    status, body = await admin.call(
        "PATCH", f"{USERS}/{plain['id']}", {"can_dial_out": True, "skills": {"support": 1}}
    )
    assert status == 200, body
    listed = await _listed(admin, plain["id"])
    assert (listed["can_dial_out"], listed["skills"]) == (True, {"support": 1})
    assert listed["sip_username"] == plain["sip_username"]  # the SIP account is kept
    assert (await _listed(admin, granted["id"]))["can_dial_out"] is False


async def test_the_demo_agents_may_dial_out(testbed: CallBed) -> None:
    _, body = await testbed.admin.call("GET", USERS)
    allowed = {u["username"]: u["can_dial_out"] for u in body["items"]}
    assert (allowed["alice"], allowed["bob"], allowed["admin"]) == (True, True, None)


async def test_refused_permission_changes_change_nothing(testbed: CallBed) -> None:
    admin = testbed.admin
    agent = await _create(admin)
    staff = await _create(admin, role="supervisor")
    for user_id, payload, status, fields in (
        (staff["id"], {"can_dial_out": True}, 400, ["can_dial_out"]),  # agents only
        (agent["id"], {"can_dial_out": None}, 400, ["can_dial_out"]),
        (agent["id"], {"can_dial_out": "maybe"}, 400, ["can_dial_out"]),
        (agent["id"], {"sip_password": "mine"}, 400, ["sip_password"]),
        (999_999_999, {"can_dial_out": True}, 404, []),
    ):
        got, body = await admin.call("PATCH", f"{USERS}/{user_id}", payload)
        assert got == status, (payload, body)
        assert [f["field"] for f in body.get("fields", [])] == fields, (payload, body)
    assert (await _listed(admin, agent["id"]))["can_dial_out"] is False
    assert (await _listed(admin, staff["id"]))["can_dial_out"] is None

    alice = testbed.agent("Sales")
    client = ApiClient(testbed.engine.api)
    try:
        await client.login("demo", alice.username, alice.password)
        status, body = await client.call("PATCH", f"{USERS}/{agent['id']}", {"can_dial_out": True})
        assert status == 403, body
    finally:
        await client.close()
    assert (await _listed(admin, agent["id"]))["can_dial_out"] is False
