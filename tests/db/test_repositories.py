"""Repository behaviour on SQLite and PostgreSQL, plus the auth helpers built on them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.auth import lockout, passwords, tokens
from server.db import repositories as repo
from server.db.engine import create_sessionmaker
from server.db.models import ApiToken, Interaction, Tenant, User

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _tenant(session: AsyncSession, slug: str) -> Tenant:
    return await repo.create_tenant(session, slug=slug, name=slug.title())


async def _agent(session: AsyncSession, tenant: Tenant, username: str) -> User:
    return await repo.create_user(
        session,
        tenant.id,
        username=username,
        display_name=username.title(),
        role="agent",
        password_hash="x",
        agent_skills={"sales": 5},
    )


async def _call(session: AsyncSession, tenant: Tenant, at: datetime) -> Interaction:
    return await repo.create_interaction(
        session, tenant.id, direction="inbound", ani="+391", dnis="+392", created_at=at
    )


# -- tenants, users, agent profiles -------------------------------------------------------


async def test_tenant_defaults_and_lookup_by_slug(session: AsyncSession) -> None:
    tenant = await _tenant(session, "acme")

    found = await repo.get_tenant_by_slug(session, "acme")
    assert found is not None and found.id == tenant.id
    assert found.not_ready_reasons == ["break", "lunch", "training", "missed"]
    assert found.language == "en"
    assert await repo.get_tenant_by_slug(session, "nope") is None


@pytest.mark.parametrize("slug", ["Acme", "acme_co", "-acme", "acme-", "", "a" * 33])
async def test_tenant_slug_must_be_safe_for_asterisk(session: AsyncSession, slug: str) -> None:
    with pytest.raises(ValueError, match="invalid tenant slug"):
        await repo.create_tenant(session, slug=slug, name="x")


async def test_tenant_slug_is_unique(session: AsyncSession) -> None:
    await _tenant(session, "acme")
    with pytest.raises(IntegrityError):
        await _tenant(session, "acme")


async def test_username_is_unique_per_tenant_only(session: AsyncSession) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    await _agent(session, acme, "mario")
    await _agent(session, globex, "mario")  # same name, other tenant: fine

    with pytest.raises(IntegrityError):
        await repo.create_user(
            session, acme.id, username="mario", display_name="M", role="admin", password_hash="x"
        )


async def test_sip_username_is_globally_unique(session: AsyncSession) -> None:
    # "a-b" + "c" and "a" + "b-c" both yield "a-b-c": the global constraint must catch it.
    await _agent(session, await _tenant(session, "a-b"), "c")
    with pytest.raises(IntegrityError):
        await _agent(session, await _tenant(session, "a"), "b-c")


async def test_agent_profile_gets_sip_credentials(session: AsyncSession) -> None:
    acme = await _tenant(session, "acme")
    mario, luigi = await _agent(session, acme, "mario"), await _agent(session, acme, "luigi")

    assert mario.agent_profile is not None and luigi.agent_profile is not None
    assert mario.agent_profile.sip_username == "acme-mario"
    assert len(mario.agent_profile.sip_password) >= 32
    assert mario.agent_profile.sip_password != luigi.agent_profile.sip_password
    old = mario.agent_profile.sip_password
    assert await repo.reset_sip_password(session, acme.id, mario.id) != old


async def test_set_agent_profile_updates_and_validates_skills(session: AsyncSession) -> None:
    acme = await _tenant(session, "acme")
    mario = await _agent(session, acme, "mario")
    assert mario.agent_profile is not None
    sip_password = mario.agent_profile.sip_password

    profile = await repo.set_agent_profile(
        session, acme.id, mario.id, skills={"sales": 7, "it": 2}, extension="201"
    )
    assert (profile.skills, profile.extension) == ({"sales": 7, "it": 2}, "201")
    assert profile.sip_password == sip_password  # updating skills keeps the SIP account
    with pytest.raises(ValueError, match=r"outside 1\.\.10"):
        await repo.set_agent_profile(session, acme.id, mario.id, skills={"sales": 11})


async def test_admins_have_no_agent_profile_and_sip_agents_skip_disabled(
    session: AsyncSession,
) -> None:
    acme = await _tenant(session, "acme")
    admin = await repo.create_user(
        session, acme.id, username="boss", display_name="Boss", role="admin", password_hash="x"
    )
    mario, luigi = await _agent(session, acme, "mario"), await _agent(session, acme, "luigi")
    await repo.update_user(session, acme.id, luigi.id, disabled=True)

    assert admin.agent_profile is None
    assert [u.id for u in await repo.list_sip_agents(session)] == [mario.id]
    assert [u.username for u in await repo.list_users(session, acme.id, role="agent")] == [
        "luigi",
        "mario",
    ]


async def test_user_update_refuses_moving_tenant(session: AsyncSession) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    mario = await _agent(session, acme, "mario")

    with pytest.raises(ValueError, match="tenant_id"):
        await repo.update_user(session, acme.id, mario.id, tenant_id=globex.id)
    assert await repo.update_user(session, globex.id, mario.id, display_name="X") is None
    assert mario.display_name == "Mario"


# -- services, trunks, lines ----------------------------------------------------------------


async def test_tenant_cannot_read_or_change_another_tenants_service(
    session: AsyncSession,
) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    sales = await repo.create_service(session, acme.id, name="sales", skills={"sales": 3})

    assert await repo.get_service(session, globex.id, sales.id) is None
    assert await repo.list_services(session, globex.id) == []
    assert await repo.update_service(session, globex.id, sales.id, priority=9) is None
    assert sales.priority == 0
    own = await repo.get_service(session, acme.id, sales.id)
    assert own is not None and own.offer_timeout_s == 20 and own.no_answer_rule == "not_ready"


async def test_service_names_unique_per_tenant_and_fields_checked(
    session: AsyncSession,
) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    await repo.create_service(session, acme.id, name="sales")
    await repo.create_service(session, globex.id, name="sales")

    with pytest.raises(ValueError, match="unknown service field"):
        await repo.create_service(session, acme.id, name="x", colour="red")
    with pytest.raises(IntegrityError):
        await repo.create_service(session, acme.id, name="sales")


async def test_service_update_round_trips_json(session: AsyncSession, engine: AsyncEngine) -> None:
    acme = await _tenant(session, "acme")
    sales = await repo.create_service(session, acme.id, name="sales")
    hours = {"tz": "Europe/Rome", "mon": [["09:00", "18:00"]]}
    overflow = {"action": "overflow", "service_id": sales.id}
    await repo.update_service(
        session, acme.id, sales.id, opening_hours=hours, fallback_max_wait=overflow
    )
    await session.commit()

    async with create_sessionmaker(engine)() as other:
        loaded = await repo.get_service(other, acme.id, sales.id)
    assert loaded is not None
    assert (loaded.opening_hours, loaded.fallback_max_wait) == (hours, overflow)
    assert loaded.fallback_closed is None


async def test_line_number_is_globally_unique_and_routes_across_tenants(
    session: AsyncSession,
) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    trunk = await repo.create_trunk(session, acme.id, name="carrier", host="192.0.2.10")
    line = await repo.create_line(
        session, acme.id, number="+390212345", name="main", trunk_id=trunk.id
    )

    found = await repo.find_line_by_number(session, "+390212345")
    assert found is not None and (found.id, found.tenant_id) == (line.id, acme.id)
    assert await repo.find_line_by_number(session, "+390299999") is None
    with pytest.raises(IntegrityError):
        await repo.create_line(session, globex.id, number="+390212345", name="stolen")


async def test_line_cannot_point_at_another_tenants_service_or_trunk(
    session: AsyncSession,
) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    sales = await repo.create_service(session, acme.id, name="sales")
    trunk = await repo.create_trunk(session, acme.id, name="carrier", host="192.0.2.10")
    line = await repo.create_line(session, globex.id, number="100", name="demo")

    with pytest.raises(LookupError):
        await repo.create_line(session, globex.id, number="101", name="x", service_id=sales.id)
    with pytest.raises(LookupError):
        await repo.update_line(session, globex.id, line.id, trunk_id=trunk.id)
    with pytest.raises(ValueError, match="invalid line number"):
        await repo.create_line(session, acme.id, number="12a", name="x")


async def test_trunks_scoped_and_enabled_listing(session: AsyncSession) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    first = await repo.create_trunk(session, acme.id, name="a", host="192.0.2.1")
    await repo.create_trunk(session, globex.id, name="b", host="192.0.2.2", enabled=False)

    assert await repo.get_trunk(session, globex.id, first.id) is None
    assert [t.id for t in await repo.list_enabled_trunks(session)] == [first.id]
    assert first.port == 5060 and first.transport == "udp"


# -- interactions -----------------------------------------------------------------------


async def test_list_interactions_keyset_pages_newest_first(session: AsyncSession) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    mine = []
    for i in range(7):
        mine.append(await _call(session, acme, T0 + timedelta(minutes=i)))
        await _call(session, globex, T0)  # interleaved rows of another tenant
    expected = [c.id for c in reversed(mine)]

    seen: list[int] = []
    cursor: str | None = None
    sizes = []
    while True:
        page = await repo.list_interactions(session, acme.id, limit=3, cursor=cursor)
        sizes.append(len(page.items))
        seen += [c.id for c in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor

    assert seen == expected
    assert sizes == [3, 3, 1]
    with pytest.raises(ValueError, match="invalid cursor"):
        await repo.list_interactions(session, acme.id, cursor="not-a-cursor")


async def test_cursor_round_trip_and_exact_last_page(session: AsyncSession) -> None:
    acme = await _tenant(session, "acme")
    for i in range(4):
        await _call(session, acme, T0 + timedelta(seconds=i))

    assert repo.decode_cursor(repo.encode_cursor(12345)) == 12345
    page = await repo.list_interactions(session, acme.id, limit=4)
    assert len(page.items) == 4 and page.next_cursor is None


async def test_events_are_kept_in_append_order(session: AsyncSession, engine: AsyncEngine) -> None:
    acme = await _tenant(session, "acme")
    mario = await _agent(session, acme, "mario")
    call = await _call(session, acme, T0)
    # Same timestamp on purpose: order must follow appends, not clock resolution.
    for kind in ("queued", "offered", "answered", "ended"):
        await repo.append_interaction_event(session, call, kind, T0, agent_id=mario.id, side="x")
    assert [e.type for e in call.events] == ["queued", "offered", "answered", "ended"]
    await session.commit()

    async with create_sessionmaker(engine)() as other:
        page = await repo.list_interactions(other, acme.id)
        loaded = await repo.get_interaction(other, acme.id, call.id, with_events=True)
    assert [e.type for e in page.items[0].events] == ["queued", "offered", "answered", "ended"]
    assert loaded is not None and loaded.events[0].data == {"side": "x"}
    assert loaded.events[0].agent_id == mario.id and loaded.events[0].at == T0


async def test_open_interactions_span_tenants_and_skip_finished(session: AsyncSession) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    queued = await _call(session, acme, T0)
    connected = await _call(session, globex, T0)
    connected.state, connected.asterisk_channel_id = "connected", "1700000000.42"
    for final in ("ended", "abandoned"):
        (await _call(session, acme, T0)).state = final
    await session.flush()

    assert [c.id for c in await repo.open_interactions(session)] == [queued.id, connected.id]
    found = await repo.find_interaction_by_channel(session, "1700000000.42")
    assert found is not None and found.id == connected.id
    assert await repo.get_interaction(session, acme.id, connected.id) is None


# -- agent state and presence ---------------------------------------------------------------


async def test_agent_state_appends_history_and_upserts_presence(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    mario = await _agent(session, acme, "mario")
    await repo.append_agent_state(session, acme.id, mario.id, "ready", None, T0)
    first = await repo.get_presence(session, acme.id, mario.id)
    assert first is not None and (first.state, first.reason) == ("ready", None)
    await repo.append_agent_state(session, acme.id, mario.id, "not_ready", "lunch", T0)
    await session.commit()

    # The upsert refreshed the object this session had already loaded.
    assert (first.state, first.reason) == ("not_ready", "lunch")
    async with create_sessionmaker(engine)() as other:
        presence = await repo.list_presence(other, acme.id)
        history = await repo.list_agent_states(other, acme.id, mario.id)
        assert await repo.list_presence(other, globex.id) == []
        with pytest.raises(LookupError):
            await repo.append_agent_state(other, globex.id, mario.id, "ready", None, T0)
    assert [(p.agent_id, p.state, p.reason) for p in presence] == [(mario.id, "not_ready", "lunch")]
    assert [(h.state, h.reason) for h in history] == [("ready", None), ("not_ready", "lunch")]


async def test_audit_log_is_tenant_scoped(session: AsyncSession) -> None:
    acme, globex = await _tenant(session, "acme"), await _tenant(session, "globex")
    await repo.append_audit(
        session, tenant_id=acme.id, user_id=None, action="service.create", target="sales", x=1
    )
    entries = await repo.list_audit(session, acme.id)
    assert [(e.action, e.data) for e in entries] == [("service.create", {"x": 1})]
    assert await repo.list_audit(session, globex.id) == []


# -- tokens, passwords, lockout ----------------------------------------------------------------


async def test_token_issue_resolve_expire_revoke(session: AsyncSession) -> None:
    acme = await _tenant(session, "acme")
    mario = await _agent(session, acme, "mario")
    token = await tokens.issue_token(session, mario.id, now=T0, ttl=timedelta(hours=1))

    stored = (await session.scalars(select(ApiToken))).one()
    assert stored.token_sha256 == hashlib.sha256(token.encode()).hexdigest() != token
    resolved = await tokens.resolve_token(session, token, now=T0 + timedelta(minutes=59))
    assert resolved is not None and resolved.id == mario.id
    assert await tokens.resolve_token(session, token, now=T0 + timedelta(hours=1)) is None
    assert await tokens.resolve_token(session, token + "x", now=T0) is None

    assert await tokens.revoke_token(session, token) is True
    assert await tokens.revoke_token(session, token) is False
    assert await tokens.resolve_token(session, token, now=T0) is None


async def test_revoke_user_tokens_and_disabled_users(session: AsyncSession) -> None:
    acme = await _tenant(session, "acme")
    mario, luigi = await _agent(session, acme, "mario"), await _agent(session, acme, "luigi")
    a = await tokens.issue_token(session, mario.id, now=T0)
    await tokens.issue_token(session, mario.id, now=T0)
    b = await tokens.issue_token(session, luigi.id, now=T0)

    assert await tokens.revoke_user_tokens(session, mario.id) == 2
    assert await tokens.resolve_token(session, a, now=T0) is None
    assert await tokens.resolve_token(session, b, now=T0) is not None
    await repo.update_user(session, acme.id, luigi.id, disabled=True)
    assert await tokens.resolve_token(session, b, now=T0) is None


def test_password_hash_verify_and_rehash() -> None:
    hashed = passwords.hash_password("correct horse")

    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert passwords.verify_password(hashed, "correct horse")
    assert not passwords.verify_password(hashed, "wrong horse")
    assert not passwords.verify_password("not-a-hash", "correct horse")
    assert passwords.hash_password("correct horse") != hashed  # salted
    assert not passwords.needs_rehash(hashed)
    assert passwords.needs_rehash(PasswordHasher(time_cost=1, memory_cost=8192).hash("p"))


def test_lockout_after_n_failures_within_window() -> None:
    policy = lockout.LockoutPolicy(
        max_failures=3, window=timedelta(minutes=5), lock_for=timedelta(minutes=10)
    )
    state = lockout.LoginState()
    for minute in (0, 1):
        state = lockout.register_failure(state, T0 + timedelta(minutes=minute), policy)
    assert state.failed_logins == 2 and not lockout.is_locked(state, T0 + timedelta(minutes=1))

    state = lockout.register_failure(state, T0 + timedelta(minutes=2), policy)
    assert lockout.is_locked(state, T0 + timedelta(minutes=11))
    assert not lockout.is_locked(state, T0 + timedelta(minutes=12))
    # Failures while locked do not extend the lock.
    assert lockout.register_failure(state, T0 + timedelta(minutes=3), policy) == state


def test_lockout_window_expiry_and_success_reset() -> None:
    policy = lockout.LockoutPolicy(max_failures=3, window=timedelta(minutes=5))
    state = lockout.LoginState()
    for minute in (0, 1, 7):  # the third failure falls outside the first one's window
        state = lockout.register_failure(state, T0 + timedelta(minutes=minute), policy)
    assert state.failed_logins == 1 and state.locked_until is None
    assert state.failed_logins_since == T0 + timedelta(minutes=7)
    assert lockout.register_success(state) == lockout.LoginState()


async def test_lockout_state_round_trips_through_user_row(session: AsyncSession) -> None:
    acme = await _tenant(session, "acme")
    mario = await _agent(session, acme, "mario")
    policy = lockout.LockoutPolicy(max_failures=1)

    lockout.register_failure(lockout.LoginState.of(mario), T0, policy).apply_to(mario)
    await session.flush()

    loaded = await repo.get_user(session, acme.id, mario.id)
    assert loaded is not None and lockout.is_locked(lockout.LoginState.of(loaded), T0)
