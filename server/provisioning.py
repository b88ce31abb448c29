"""Turn the database's agents and trunks into the PBX plan Asterisk is configured from.

Asterisk object names are unique across tenants: agents use their sip_username
("<tenant>-<user>"), trunks "<tenant>-<trunk>". A trunk whose host is "dynamic" is a SIP
account that registers to us (the demo caller): its calls are treated exactly like calls
arriving on a trunk.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pbx.config import Endpoint, OutboundAuth, PbxPlan, Registration
from server.calls.model import WEB_SUFFIX
from server.db.models import AgentProfile, Tenant, Trunk, User

AGENT_CONTEXT = "phones-agents"
INBOUND_CONTEXT = "phones-inbound"
DYNAMIC = "dynamic"


def trunk_endpoint_name(tenant_slug: str, trunk_name: str) -> str:
    """The Asterisk endpoint name of a trunk."""
    return f"{tenant_slug}-{trunk_name}"


def trunk_endpoint(tenant: Tenant, trunk: Trunk) -> Endpoint:
    """The PJSIP endpoint for a trunk (a carrier, or a registering SIP account)."""
    name = trunk_endpoint_name(tenant.slug, trunk.name)
    if trunk.host == DYNAMIC:
        return Endpoint(
            name=name,
            context=INBOUND_CONTEXT,
            comment=f"SIP account {trunk.name} of tenant {tenant.slug}, treated as a trunk",
            username=trunk.username or name,
            password=trunk.password or "",
            language=tenant.language,
        )
    uri = f"sip:{trunk.host}:{trunk.port}"
    credentials = None
    if trunk.username and trunk.password:
        credentials = OutboundAuth(trunk.username, trunk.password)
    registration = None
    if trunk.register and credentials is not None:
        registration = Registration(uri, f"sip:{trunk.username}@{trunk.host}:{trunk.port}")
    return Endpoint(
        name=name,
        context=INBOUND_CONTEXT,
        comment=f"trunk {trunk.name} of tenant {tenant.slug}",
        contact=uri,
        identify_match=_identify_match(trunk) if trunk.identify_by_ip else "",
        outbound_auth=credentials,
        registration=registration,
        callerid=trunk.caller_id or "",
        language=tenant.language,
    )


def _identify_match(trunk: Trunk) -> str:
    # A carrier on the standard port is matched by address, whatever port it sends from;
    # a non-standard port names one peer (a local carrier sharing our address, in tests).
    return trunk.host if trunk.port == 5060 else f"{trunk.host}:{trunk.port}"


# Browsers are asked often whether they are still there: a closed tab must stop taking calls.
WEB_QUALIFY_S = 10


def web_endpoint_name(sip_username: str) -> str:
    """The endpoint of an agent's browser softphone (`~` never appears in a user name)."""
    return sip_username + WEB_SUFFIX


def agent_endpoints(tenant: Tenant, user: User, profile: AgentProfile) -> list[Endpoint]:
    """The PJSIP endpoints of an agent: a SIP phone's, and the PhoneBar softphone's."""
    phone = Endpoint(
        name=profile.sip_username,
        context=AGENT_CONTEXT,
        comment=f"agent {user.username} of tenant {tenant.slug}: SIP phone",
        username=profile.sip_username,
        password=profile.sip_password,
        callerid=f'"{user.display_name}" <{profile.extension or profile.sip_username}>',
        language=user.language or tenant.language,
    )
    web = web_endpoint_name(profile.sip_username)
    browser = dataclasses.replace(
        phone,
        name=web,
        comment=f"agent {user.username} of tenant {tenant.slug}: PhoneBar softphone",
        username=web,
        webrtc=True,
        codecs="opus,ulaw",
        qualify_s=WEB_QUALIFY_S,
    )
    return [phone, browser]


async def build_plan(
    session: AsyncSession, app: str = "phones", bench_app_queue: bool = False
) -> PbxPlan:
    """The whole plan for the platform instance, from the database.

    `bench_app_queue` (bench only) adds a native app_queue whose members are every agent.
    """
    tenants = {t.id: t for t in (await session.scalars(select(Tenant))).all()}
    endpoints: list[Endpoint] = []
    rows = await session.execute(
        select(User, AgentProfile)
        .join(AgentProfile, AgentProfile.user_id == User.id)
        .where(User.disabled.is_(False))
        .order_by(User.id)
    )
    for user, profile in rows.tuples():
        endpoints += agent_endpoints(tenants[user.tenant_id], user, profile)
    members = [f"PJSIP/{e.name}" for e in endpoints if not e.webrtc] if bench_app_queue else []
    trunks = await session.scalars(select(Trunk).where(Trunk.enabled.is_(True)).order_by(Trunk.id))
    for trunk in trunks:
        endpoints.append(trunk_endpoint(tenants[trunk.tenant_id], trunk))
    return PbxPlan(
        endpoints=endpoints, app=app, with_app_queue=bench_app_queue, queue_members=members
    )
