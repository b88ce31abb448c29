"""Load services and agents from the database into the controller's runtime objects."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.calls.history import LineTarget
from server.calls.model import AgentRuntime, OutboundRoute, ServiceRuntime
from server.db.models import AgentPresence, AgentProfile, Line, Service, Tenant, Trunk, User
from server.provisioning import DYNAMIC, trunk_endpoint_name


async def load_services(session: AsyncSession) -> list[ServiceRuntime]:
    """Every service with its routing settings."""
    rows = await session.scalars(select(Service).order_by(Service.id))
    return [
        ServiceRuntime(
            id=s.id,
            tenant_id=s.tenant_id,
            name=s.name,
            skills=dict(s.skills or {}),
            priority=s.priority,
            offer_timeout_s=s.offer_timeout_s,
            wrap_up_s=s.wrap_up_s,
            max_wait_s=s.max_wait_s,
            no_answer_rule=s.no_answer_rule,
            not_ready_reason=s.not_ready_reason,
            opening_hours=s.opening_hours,
            fallback_closed=s.fallback_closed,
            fallback_no_agents=s.fallback_no_agents,
            fallback_max_wait=s.fallback_max_wait,
            disposition_codes=list(s.disposition_codes or []),
            recording=s.recording,
        )
        for s in rows
    ]


async def load_agents(session: AsyncSession) -> list[AgentRuntime]:
    """Every enabled agent with the state last recorded for them."""
    rows = await session.execute(
        select(User, AgentProfile, AgentPresence)
        .join(AgentProfile, AgentProfile.user_id == User.id)
        .outerjoin(AgentPresence, AgentPresence.agent_id == User.id)
        .where(User.disabled.is_(False))
        .order_by(User.id)
    )
    agents = []
    for user, profile, presence in rows.tuples():
        agent = AgentRuntime(
            user_id=user.id,
            tenant_id=user.tenant_id,
            username=user.username,
            sip_username=profile.sip_username,
            skills=dict(profile.skills or {}),
            display_name=user.display_name,
            extension=profile.extension,
            can_dial_out=profile.can_dial_out,
        )
        if presence is not None:
            agent.state, agent.reason, agent.since = presence.state, presence.reason, presence.since
        agents.append(agent)
    return agents


async def load_lines(session: AsyncSession) -> list[LineTarget]:
    """Every line: the controller finds a call's tenant and service by DNIS in memory."""
    rows = await session.scalars(select(Line).order_by(Line.id))
    return [LineTarget(line.id, line.number, line.tenant_id, line.service_id) for line in rows]


async def load_outbound(session: AsyncSession) -> dict[int, OutboundRoute]:
    """Per tenant, the first enabled carrier trunk and the caller id its calls show.

    The caller id is the trunk's own, else the number of a line on that trunk, else any line
    of the tenant: customers see a number that calls them back into the contact center.
    """
    tenants = {t.id: t.slug for t in await session.scalars(select(Tenant))}
    lines = list(await session.scalars(select(Line).order_by(Line.id)))
    routes: dict[int, OutboundRoute] = {}
    trunks = await session.scalars(
        select(Trunk).where(Trunk.enabled.is_(True), Trunk.host != DYNAMIC).order_by(Trunk.id)
    )
    for trunk in trunks:
        if trunk.tenant_id in routes:
            continue
        numbers = [line.number for line in lines if line.trunk_id == trunk.id] or [
            line.number for line in lines if line.tenant_id == trunk.tenant_id
        ]
        caller_id = trunk.caller_id or (numbers[0] if numbers else "anonymous")
        endpoint = trunk_endpoint_name(tenants[trunk.tenant_id], trunk.name)
        routes[trunk.tenant_id] = OutboundRoute(endpoint, caller_id)
    return routes
