"""Tenant-scoped fetch and whitelisted partial update, shared by the repository modules."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Base

M = TypeVar("M", bound=Base)


async def get_scoped(
    session: AsyncSession, model: type[M], tenant_id: int, row_id: int
) -> M | None:
    """The `model` row with `row_id` if it belongs to `tenant_id`, else None.

    Never session.get(): that would return another tenant's row from the identity map.
    """
    table = model.__table__
    stmt = select(model).where(table.c.id == row_id, table.c.tenant_id == tenant_id)
    return (await session.scalars(stmt)).one_or_none()


async def require_scoped(session: AsyncSession, model: type[M], tenant_id: int, row_id: int) -> M:
    """Like get_scoped but raise LookupError, for references that must exist in the tenant."""
    row = await get_scoped(session, model, tenant_id, row_id)
    if row is None:
        raise LookupError(f"{model.__tablename__} {row_id} not found in tenant {tenant_id}")
    return row


def apply_changes(row: Base, changes: Mapping[str, object], allowed: Collection[str]) -> None:
    """Set `changes` on `row`, refusing any field outside `allowed`.

    Ids, tenant_id and names baked into Asterisk objects are never allowed, so an API
    payload cannot move a row to another tenant.
    """
    refused = sorted(set(changes) - set(allowed))
    if refused:
        raise ValueError(f"cannot set {type(row).__name__} field(s): {', '.join(refused)}")
    for name, value in changes.items():
        setattr(row, name, value)


def check_skill_levels(skills: Mapping[str, int]) -> dict[str, int]:
    """Validate a {skill: level} map (levels 1..10) and return a plain dict copy."""
    for skill, level in skills.items():
        if not skill or not isinstance(level, int) or isinstance(level, bool):
            raise ValueError(f"invalid skill {skill!r}: {level!r}")
        if not 1 <= level <= 10:
            raise ValueError(f"skill {skill!r} level {level} outside 1..10")
    return dict(skills)
