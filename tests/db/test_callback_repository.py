"""Call-backs in the database, on SQLite and PostgreSQL: validation, who sees what, done once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db import repositories as repo
from server.db.engine import create_sessionmaker
from server.db.models import Callback, Service, Tenant, User

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Acme:
    """A tenant with three services and two agents of different skills, plus a supervisor."""

    tenant: Tenant
    sales: Service  # requires sales 3
    support: Service  # requires support 1
    front_desk: Service  # requires nothing
    mario: User  # sales 5
    luigi: User  # support 2
    boss: User  # supervisor, no agent profile


async def _agent(session: AsyncSession, tenant: Tenant, name: str, skills: dict[str, int]) -> User:
    return await repo.create_user(
        session,
        tenant.id,
        username=name,
        display_name=name.title(),
        role="agent",
        password_hash="x",
        agent_skills=skills,
    )


async def _acme(session: AsyncSession, slug: str = "acme") -> Acme:
    tenant = await repo.create_tenant(session, slug=slug, name=slug.title())
    return Acme(
        tenant=tenant,
        sales=await repo.create_service(session, tenant.id, name="sales", skills={"sales": 3}),
        support=await repo.create_service(
            session, tenant.id, name="support", skills={"support": 1}
        ),
        front_desk=await repo.create_service(session, tenant.id, name="front desk"),
        mario=await _agent(session, tenant, "mario", {"sales": 5}),
        luigi=await _agent(session, tenant, "luigi", {"support": 2}),
        boss=await repo.create_user(
            session,
            tenant.id,
            username="boss",
            display_name="Boss",
            role="supervisor",
            password_hash="x",
        ),
    )


async def _callback(
    session: AsyncSession, acme: Acme, due: timedelta = timedelta(0), **fields: object
) -> Callback:
    return await repo.create_callback(
        session,
        acme.tenant.id,
        number="+390212345678",
        due_at=T0 + due,
        **fields,  # type: ignore[arg-type]
    )


async def test_create_stores_a_pending_callback_with_its_fields(session: AsyncSession) -> None:
    acme = await _acme(session)
    call = await repo.create_interaction(
        session, acme.tenant.id, direction="inbound", ani="+391", dnis="+392", created_at=T0
    )
    created = await repo.create_callback(
        session,
        acme.tenant.id,
        number="0212345678",
        due_at=T0.astimezone(timezone(timedelta(hours=1))),
        name="Ms Rossi",
        notes="about the invoice",
        service_id=acme.sales.id,
        created_by=acme.boss.id,
        interaction_id=call.id,
    )
    await session.commit()

    loaded = await repo.get_callback(session, acme.tenant.id, created.id)
    assert loaded is not None
    assert (loaded.number, loaded.name, loaded.notes) == (
        "0212345678",
        "Ms Rossi",
        "about the invoice",
    )
    assert (loaded.state, loaded.done_at, loaded.agent_id) == ("pending", None, None)
    assert (loaded.service_id, loaded.created_by, loaded.interaction_id) == (
        acme.sales.id,
        acme.boss.id,
        call.id,
    )
    assert created.due_at.tzinfo is UTC  # as a later read returns it, also before one
    assert loaded.due_at == T0 and loaded.created_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"number": "12ab", "service_id": "sales"}, "number"),
        ({"number": "1", "service_id": "sales"}, "number"),
        ({"number": "1" * 33, "service_id": "sales"}, "number"),
        ({"number": "++12", "service_id": "sales"}, "number"),
        ({"due_at": datetime(2026, 3, 2, 9, 0), "service_id": "sales"}, "due_at"),
        ({}, "service_id"),  # neither a service nor an agent: nobody would ever see it
        ({"service_id": "globex"}, "service_id"),
        ({"service_id": 999_999}, "service_id"),
        ({"agent_id": "boss"}, "agent_id"),  # a user, but not an agent
        ({"agent_id": "globex-agent"}, "agent_id"),
        ({"service_id": "sales", "name": "x" * 201}, "name"),
        ({"service_id": "sales", "interaction_id": 999_999}, "interaction_id"),
    ],
)
async def test_create_refuses_bad_fields_naming_them(
    session: AsyncSession, fields: dict[str, object], field: str
) -> None:
    acme = await _acme(session)
    globex = await _acme(session, "globex")
    # Rows are named in the parameters: their ids exist only once the test has made them.
    ids = {
        "sales": acme.sales.id,
        "globex": globex.sales.id,
        "boss": acme.boss.id,
        "globex-agent": globex.mario.id,
    }
    values: dict[str, object] = {"number": "+390212345678", "due_at": T0}
    for name, value in fields.items():
        values[name] = ids[value] if name.endswith("_id") and isinstance(value, str) else value

    with pytest.raises(repo.CallbackFieldError) as refused:
        await repo.create_callback(session, acme.tenant.id, **values)  # type: ignore[arg-type]

    assert refused.value.field == field, refused.value
    assert await repo.list_callbacks(session, acme.tenant.id) == []


async def test_an_agent_sees_their_own_and_their_services_unassigned_ones(
    session: AsyncSession,
) -> None:
    acme = await _acme(session)
    globex = await _acme(session, "globex")
    sales = await _callback(session, acme, service_id=acme.sales.id)
    luigis = await _callback(session, acme, service_id=acme.sales.id, agent_id=acme.luigi.id)
    support = await _callback(session, acme, service_id=acme.support.id)
    marios = await _callback(session, acme, agent_id=acme.mario.id)
    everyones = await _callback(session, acme, service_id=acme.front_desk.id)
    await _callback(session, globex, service_id=globex.sales.id)
    await _callback(session, globex, agent_id=globex.mario.id)

    async def visible(user: User) -> set[int]:
        return {
            c.id for c in await repo.list_callbacks(session, acme.tenant.id, visible_to=user.id)
        }

    assert await visible(acme.mario) == {sales.id, marios.id, everyones.id}
    # luigi's own sales call-back is his although he cannot serve sales.
    assert await visible(acme.luigi) == {luigis.id, support.id, everyones.id}
    assert await visible(acme.boss) == {everyones.id}
    every = {c.id for c in await repo.list_callbacks(session, acme.tenant.id)}
    assert every == {sales.id, luigis.id, support.id, marios.id, everyones.id}

    # Fetching one applies the same rule, and the tenant always.
    assert (
        await repo.get_callback(session, acme.tenant.id, luigis.id, visible_to=acme.mario.id)
        is None
    )
    assert await repo.get_callback(session, acme.tenant.id, sales.id, visible_to=acme.mario.id)
    assert await repo.get_callback(session, acme.tenant.id, luigis.id) is not None
    assert await repo.get_callback(session, globex.tenant.id, sales.id) is None


async def test_skills_decide_at_read_time(session: AsyncSession) -> None:
    acme = await _acme(session)
    support = await _callback(session, acme, service_id=acme.support.id)
    assert await repo.agent_services(session, acme.tenant.id, acme.mario.id) == {
        acme.sales.id,
        acme.front_desk.id,
    }
    await repo.set_agent_profile(session, acme.tenant.id, acme.mario.id, skills={"support": 1})

    assert await repo.get_callback(session, acme.tenant.id, support.id, visible_to=acme.mario.id)
    assert await repo.agent_services(session, acme.tenant.id, acme.mario.id) == {
        acme.support.id,
        acme.front_desk.id,
    }


async def test_list_is_pending_first_each_by_due_time_and_filters_states(
    session: AsyncSession,
) -> None:
    acme = await _acme(session)
    late = await _callback(session, acme, timedelta(hours=3), service_id=acme.sales.id)
    early = await _callback(session, acme, timedelta(hours=1), service_id=acme.sales.id)
    done_late = await _callback(session, acme, timedelta(hours=4), service_id=acme.sales.id)
    done_early = await _callback(session, acme, timedelta(hours=0), service_id=acme.sales.id)
    for callback in (done_late, done_early):
        await repo.mark_callback_done(session, callback, T0)

    ids = [c.id for c in await repo.list_callbacks(session, acme.tenant.id)]
    assert ids == [early.id, late.id, done_early.id, done_late.id]
    pending = await repo.list_callbacks(session, acme.tenant.id, states=["pending"])
    assert [c.id for c in pending] == [early.id, late.id]
    done = await repo.list_callbacks(session, acme.tenant.id, states=["done"])
    assert [c.id for c in done] == [done_early.id, done_late.id]


async def test_mark_done_once_even_from_two_sessions(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    acme = await _acme(session)
    callback = await _callback(session, acme, service_id=acme.sales.id)
    await session.commit()
    factory = create_sessionmaker(engine)

    # Both requests read it pending; the second one's write must still be refused.
    async with factory() as first, factory() as second:
        mine = await repo.get_callback(first, acme.tenant.id, callback.id)
        theirs = await repo.get_callback(second, acme.tenant.id, callback.id)
        assert mine is not None and theirs is not None
        assert mine.state == theirs.state == "pending"
        done = await repo.mark_callback_done(first, mine, T0 + timedelta(minutes=5))
        await first.commit()
        with pytest.raises(repo.CallbackNotPending, match="already done"):
            await repo.mark_callback_done(second, theirs, T0 + timedelta(minutes=6))
        assert theirs.state == "done"

    assert (done.state, done.done_at) == ("done", T0 + timedelta(minutes=5))
    async with factory() as other:
        stored = await repo.get_callback(other, acme.tenant.id, callback.id)
    assert stored is not None and stored.done_at == T0 + timedelta(minutes=5)


async def test_can_dial_out_is_off_unless_granted(session: AsyncSession) -> None:
    acme = await _acme(session)
    granted = await repo.create_user(
        session,
        acme.tenant.id,
        username="peach",
        display_name="Peach",
        role="agent",
        password_hash="x",
        agent_skills={},
        can_dial_out=True,
    )
    assert acme.mario.agent_profile is not None and granted.agent_profile is not None
    assert (acme.mario.agent_profile.can_dial_out, granted.agent_profile.can_dial_out) == (
        False,
        True,
    )
    # Changing skills keeps the permission; it changes only when asked to.
    await repo.set_agent_profile(session, acme.tenant.id, granted.id, skills={"sales": 1})
    assert granted.agent_profile.can_dial_out is True
    await repo.set_agent_profile(
        session, acme.tenant.id, granted.id, skills={"sales": 1}, can_dial_out=False
    )
    await session.commit()
    reloaded = await repo.get_user(session, acme.tenant.id, granted.id)
    assert reloaded is not None and reloaded.agent_profile is not None
    assert reloaded.agent_profile.can_dial_out is False
