"""Tenants: the unit every other query is scoped by."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import DEFAULT_NOT_READY_REASONS, Tenant
from server.db.repositories._crud import apply_changes

# The slug prefixes Asterisk endpoint, context and queue names, so keep it to characters
# that are safe in pjsip.conf section names and dialplan contexts.
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
# The slug is deliberately absent: renaming it would orphan every Asterisk object.
_UPDATABLE = frozenset({"name", "language", "not_ready_reasons"})


async def create_tenant(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    language: str = "en",
    not_ready_reasons: Sequence[str] = DEFAULT_NOT_READY_REASONS,
) -> Tenant:
    """Insert a tenant; raises ValueError for a bad slug, IntegrityError if it is taken."""
    if not SLUG_PATTERN.fullmatch(slug):
        raise ValueError(f"invalid tenant slug {slug!r}: use a-z, 0-9 and '-' (max 32)")
    tenant = Tenant(
        slug=slug, name=name, language=language, not_ready_reasons=list(not_ready_reasons)
    )
    session.add(tenant)
    await session.flush()
    return tenant


async def get_tenant(session: AsyncSession, tenant_id: int) -> Tenant | None:
    """The tenant with this id, or None."""
    return await session.get(Tenant, tenant_id)


async def get_tenant_by_slug(session: AsyncSession, slug: str) -> Tenant | None:
    """The tenant with this slug (used at login), or None."""
    return (await session.scalars(select(Tenant).where(Tenant.slug == slug))).one_or_none()


async def list_tenants(session: AsyncSession) -> list[Tenant]:
    """Every tenant, by id."""
    return list(await session.scalars(select(Tenant).order_by(Tenant.id)))


async def update_tenant(
    session: AsyncSession, tenant_id: int, /, **changes: object
) -> Tenant | None:
    """Update name, language or not_ready_reasons; None if the tenant does not exist."""
    tenant = await get_tenant(session, tenant_id)
    if tenant is None:
        return None
    apply_changes(tenant, changes, _UPDATABLE)
    await session.flush()
    return tenant
