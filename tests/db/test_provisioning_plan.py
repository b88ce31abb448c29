"""The platform's PBX plan built from the database (server.provisioning.build_plan)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from server.db import repositories as repo
from server.provisioning import build_plan


async def _tenant_with_agent(session: AsyncSession) -> None:
    tenant = await repo.create_tenant(session, slug="acme", name="Acme")
    await repo.create_user(
        session,
        tenant.id,
        username="mario",
        display_name="Mario",
        role="agent",
        password_hash="x",
        agent_skills={"sales": 5},
    )
    await repo.create_trunk(session, tenant.id, name="carrier", host="127.0.0.1", port=5080)


async def test_no_app_queue_unless_the_bench_asks(session: AsyncSession) -> None:
    await _tenant_with_agent(session)
    plan = await build_plan(session)
    assert not plan.with_app_queue and list(plan.queue_members) == []


async def test_bench_app_queue_has_every_agent_and_no_trunk(session: AsyncSession) -> None:
    await _tenant_with_agent(session)
    plan = await build_plan(session, bench_app_queue=True)
    assert plan.with_app_queue
    assert list(plan.queue_members) == ["PJSIP/acme-mario"]
