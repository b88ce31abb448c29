"""Call flows in the database, on SQLite and PostgreSQL: drafts, versions, context, lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from ivr_messenger import Flow, PublishRefused, parse_flow, validate
from server.db import repositories as repo
from server.db.engine import create_sessionmaker
from server.db.models import CallFlow, CallFlowVersion, Line, Service, Tenant, User

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Acme:
    """A tenant with a service, an agent, a disabled agent, a supervisor and a line."""

    tenant: Tenant
    sales: Service
    mario: User
    gone: User  # a disabled agent
    boss: User
    line: Line


async def _acme(session: AsyncSession, slug: str = "acme", number: str = "5551001") -> Acme:
    tenant = await repo.create_tenant(session, slug=slug, name=slug.title())
    users = [
        await repo.create_user(
            session,
            tenant.id,
            username=name,
            display_name=name.title(),
            role=role,
            password_hash="x",
            agent_skills={} if role == "agent" else None,
        )
        for name, role in (("mario", "agent"), ("gone", "agent"), ("boss", "supervisor"))
    ]
    await repo.update_user(session, tenant.id, users[1].id, disabled=True)
    sales = await repo.create_service(session, tenant.id, name="sales")
    line = await repo.create_line(
        session, tenant.id, number=number, name="main", service_id=sales.id
    )
    return Acme(tenant, sales, users[0], users[1], users[2], line)


def _main(service_id: int, greeting: str = "Welcome", **node: Any) -> Flow:
    """Greet, run an optional extra node, then queue to `service_id`."""
    nodes: dict[str, Any] = {
        "start": {"type": "start", "next": "welcome"},
        "welcome": {"type": "play", "prompt": {"en": {"tts": greeting}}, "next": "queue"},
        "queue": {"type": "queue", "service_id": service_id},
    }
    if node:
        nodes["welcome"]["next"] = "extra"
        nodes["extra"] = {**node, "next": "queue"} if node["type"] != "transfer" else node
    return parse_flow({"languages": ["en"], "start": "start", "nodes": nodes})


def _sub(*, calls: int | None = None) -> Flow:
    """A sub-flow asking for an order number (and running sub-flow `calls` first)."""
    nodes: dict[str, Any] = {
        "start": {"type": "start", "next": "ask"},
        "ask": {
            "type": "collect",
            "prompt": {"en": {"tts": "Order?"}},
            "into": "order",
            "next": "back",
        },
        "back": {"type": "return"},
    }
    if calls is not None:
        nodes["start"]["next"] = "inner"
        nodes["inner"] = {"type": "subflow", "flow_id": calls, "next": "ask"}
    return parse_flow({"kind": "subflow", "languages": ["en"], "start": "start", "nodes": nodes})


async def _published(
    session: AsyncSession, acme: Acme, name: str, document: Flow
) -> tuple[CallFlow, CallFlowVersion]:
    flow = await repo.create_flow(session, acme.tenant.id, name=name, document=document, at=T0)
    context = await repo.flow_context(session, acme.tenant.id)
    version = await repo.publish_draft(session, flow, context, by=acme.boss.id, at=T0)
    return flow, version


async def test_the_context_is_the_tenants_own_and_only_published_subflows(
    session: AsyncSession,
) -> None:
    acme = await _acme(session)
    globex = await _acme(session, "globex", "5552001")
    sub, _ = await _published(session, acme, "order number", _sub())
    await repo.create_flow(session, acme.tenant.id, name="draft sub", document=_sub(), at=T0)
    main, _ = await _published(session, acme, "main", _main(acme.sales.id))
    await _published(session, globex, "order number", _sub())

    context = await repo.flow_context(session, acme.tenant.id)

    assert dict(context.services) == {acme.sales.id: "sales"}
    assert context.agents == {acme.mario.id}  # not the disabled agent, not the supervisor
    assert context.lines == {"5551001"}
    assert context.subflows == {sub.id}  # not a never-published one, nor a main flow
    assert context.prompts == frozenset()
    assert main.id not in context.subflows


async def test_a_draft_is_saved_with_problems_and_names_are_unique_per_tenant(
    session: AsyncSession,
) -> None:
    acme = await _acme(session)
    globex = await _acme(session, "globex", "5552001")
    broken = _main(999)  # no such service
    flow = await repo.create_flow(session, acme.tenant.id, name="main", document=broken, at=T0)
    await session.commit()

    loaded = await repo.get_flow(session, acme.tenant.id, flow.id)
    assert loaded is not None
    assert (loaded.name, loaded.kind, loaded.current_version) == ("main", "main", None)
    assert repo.draft_of(loaded) == broken
    assert (loaded.draft_updated_at, loaded.created_at) == (T0, T0)
    problems = validate(repo.draft_of(loaded), await repo.flow_context(session, acme.tenant.id))
    assert [(p.node_id, p.code) for p in problems] == [("queue", "unknown_service")]

    with pytest.raises(repo.FlowNameTaken):
        await repo.create_flow(session, acme.tenant.id, name="main", document=broken, at=T0)
    other = await repo.create_flow(session, globex.tenant.id, name="main", document=broken, at=T0)
    assert await repo.get_flow(session, globex.tenant.id, flow.id) is None
    assert [f.id for f in await repo.list_flows(session, acme.tenant.id)] == [flow.id]
    assert [f.id for f in await repo.list_flows(session, globex.tenant.id)] == [other.id]

    fixed = _main(acme.sales.id)
    await repo.save_draft(session, loaded, fixed, T0 + timedelta(minutes=1))
    assert repo.draft_of(loaded) == fixed and loaded.draft_updated_at == T0 + timedelta(minutes=1)


async def test_publish_refuses_problems_then_numbers_versions_from_one(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    acme = await _acme(session)
    flow = await repo.create_flow(session, acme.tenant.id, name="main", document=_main(999), at=T0)
    context = await repo.flow_context(session, acme.tenant.id)

    with pytest.raises(PublishRefused) as refused:
        await repo.publish_draft(session, flow, context, by=acme.boss.id, at=T0)
    assert refused.value.problems == validate(repo.draft_of(flow), context)
    assert flow.current_version is None
    assert await repo.list_versions(session, flow) == []

    await repo.save_draft(session, flow, _main(acme.sales.id), T0)
    first = await repo.publish_draft(session, flow, context, by=acme.boss.id, at=T0, note="go")
    await repo.save_draft(session, flow, _main(acme.sales.id, "Hello"), T0)
    second = await repo.publish_draft(session, flow, context, by=None, at=T0 + timedelta(1))
    await session.commit()

    assert (first.number, second.number, flow.current_version) == (1, 2, 2)
    assert (first.note, first.published_by, second.published_by) == ("go", acme.boss.id, None)
    assert repo.version_flow(first) == _main(acme.sales.id)
    assert repo.version_flow(second) == _main(acme.sales.id, "Hello")
    async with create_sessionmaker(engine)() as other:
        listed = await repo.list_versions(other, flow)
        assert [v.number for v in listed] == [2, 1]
        with pytest.raises(InvalidRequestError):
            _ = listed[0].document  # the list leaves documents out
    stored = await repo.get_version(session, acme.tenant.id, flow.id, 1)
    assert stored is not None and stored.document == first.document


async def test_versions_are_immutable(session: AsyncSession) -> None:
    acme = await _acme(session)
    flow, version = await _published(session, acme, "main", _main(acme.sales.id))
    await session.commit()
    flow_id, document = flow.id, version.document  # the rollback below expires the rows

    version.note = "rewritten"
    with pytest.raises(TypeError, match="immutable"):
        await session.flush()
    await session.rollback()

    # Nor can a second version 1 slip in beside it.
    session.add(
        CallFlowVersion(
            flow_id=flow_id,
            number=1,
            kind="main",
            document=document,
            published_at=T0,
            note="",
        )
    )
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_rollback_publishes_the_old_document_again_if_still_valid(
    session: AsyncSession,
) -> None:
    acme = await _acme(session)
    transfer = {"type": "transfer", "target": {"agent_id": acme.mario.id}, "failure": "queue"}
    flow, first = await _published(session, acme, "main", _main(acme.sales.id, **transfer))
    await repo.save_draft(session, flow, _main(acme.sales.id, "Hi"), T0)
    context = await repo.flow_context(session, acme.tenant.id)
    await repo.publish_draft(session, flow, context, by=acme.boss.id, at=T0)
    await repo.save_draft(session, flow, _main(acme.sales.id, "Unpublished"), T0)

    third = await repo.rollback_flow(session, flow, 1, context, by=acme.boss.id, at=T0)

    assert (third.number, flow.current_version) == (3, 3)
    assert third.document == first.document and third.note == "rollback to version 1"
    assert repo.draft_of(flow) == _main(acme.sales.id, "Unpublished")  # the draft is kept
    with pytest.raises(LookupError):
        await repo.rollback_flow(session, flow, 9, context, by=None, at=T0)

    # Version 1 transfers to mario; once he is disabled it can no longer be published.
    await repo.update_user(session, acme.tenant.id, acme.mario.id, disabled=True)
    today = await repo.flow_context(session, acme.tenant.id)
    with pytest.raises(PublishRefused) as refused:
        await repo.rollback_flow(session, flow, 1, today, by=None, at=T0)
    assert [(p.node_id, p.code) for p in refused.value.problems] == [("extra", "unknown_agent")]
    assert flow.current_version == 3


async def test_a_line_points_only_to_the_tenants_published_main_flows(
    session: AsyncSession,
) -> None:
    acme = await _acme(session)
    globex = await _acme(session, "globex", "5552001")
    flow = await repo.create_flow(
        session, acme.tenant.id, name="main", document=_main(acme.sales.id), at=T0
    )
    sub, _ = await _published(session, acme, "sub", _sub())
    theirs, _ = await _published(session, globex, "main", _main(globex.sales.id))

    with pytest.raises(repo.FlowNotAssignable, match="no published version"):
        await repo.set_line_flow(session, acme.tenant.id, acme.line.id, flow.id)
    with pytest.raises(repo.FlowNotAssignable, match="sub-flow"):
        await repo.set_line_flow(session, acme.tenant.id, acme.line.id, sub.id)
    with pytest.raises(LookupError):
        await repo.set_line_flow(session, acme.tenant.id, acme.line.id, theirs.id)
    with pytest.raises(LookupError):
        await repo.set_line_flow(session, acme.tenant.id, globex.line.id, flow.id)
    assert acme.line.call_flow_id is None

    context = await repo.flow_context(session, acme.tenant.id)
    await repo.publish_draft(session, flow, context, by=None, at=T0)
    line = await repo.set_line_flow(session, acme.tenant.id, acme.line.id, flow.id)
    assert line.call_flow_id == flow.id
    assert [ln.id for ln in await repo.lines_of_flow(session, acme.tenant.id, flow.id)] == [line.id]

    # A flow that answers a line cannot be published as a sub-flow.
    await repo.save_draft(session, flow, _sub(), T0)
    with pytest.raises(repo.FlowInUse):
        await repo.publish_draft(session, flow, context, by=None, at=T0)
    assert flow.current_version == 1

    await repo.set_line_flow(session, acme.tenant.id, acme.line.id, None)
    assert acme.line.call_flow_id is None


async def test_the_foreign_key_refuses_a_flow_that_does_not_exist(session: AsyncSession) -> None:
    acme = await _acme(session)
    acme.line.call_flow_id = 999_999
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_a_call_pins_its_version_and_its_subflows(
    session: AsyncSession, engine: AsyncEngine
) -> None:
    acme = await _acme(session)
    inner, _ = await _published(session, acme, "inner", _sub())
    outer, _ = await _published(session, acme, "outer", _sub(calls=inner.id))
    document = _main(acme.sales.id, type="subflow", flow_id=outer.id)
    flow, _ = await _published(session, acme, "main", document)
    assert await repo.published_flow_for_line(session, acme.line) is None  # not assigned
    await repo.set_line_flow(session, acme.tenant.id, acme.line.id, flow.id)
    await session.commit()

    async with create_sessionmaker(engine)() as other:
        line = await repo.find_line_by_number(other, "5551001")
        assert line is not None
        started = await repo.published_flow_for_line(other, line)
    assert started is not None
    assert (started.flow_id, started.version, started.flow) == (flow.id, 1, document)
    assert started.subflow_versions == {outer.id: 1, inner.id: 1}
    assert started.subflows == {outer.id: _sub(calls=inner.id), inner.id: _sub()}

    # Publishing later changes new calls, not the one that started.
    context = await repo.flow_context(session, acme.tenant.id)
    changed = parse_flow({**_sub().to_data(), "variables": {"order": "none"}})
    await repo.save_draft(session, inner, changed, T0)
    await repo.publish_draft(session, inner, context, by=None, at=T0)
    await session.commit()
    again = await repo.pinned_flow(
        session, acme.tenant.id, flow.id, started.version, started.subflow_versions
    )
    assert again is not None and again.subflows == started.subflows
    new_call = await repo.published_flow_for_line(session, acme.line)
    assert new_call is not None and new_call.subflow_versions == {outer.id: 1, inner.id: 2}
    assert new_call.subflows[inner.id] == changed

    assert await repo.pinned_flow(session, acme.tenant.id, flow.id, 7) is None
    globex = await _acme(session, "globex", "5552001")
    assert await repo.pinned_flow(session, globex.tenant.id, flow.id, 1) is None
