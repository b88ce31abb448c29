"""The administrators' audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import AuditLog
from server.db.types import utcnow


async def append_audit(
    session: AsyncSession,
    *,
    tenant_id: int | None,
    user_id: int | None,
    action: str,
    target: str,
    at: datetime | None = None,
    **data: Any,
) -> AuditLog:
    """Record who did what to which object; `data` must be JSON-serialisable."""
    entry = AuditLog(
        tenant_id=tenant_id,
        user_id=user_id,
        action=action,
        target=target,
        data=data,
        at=at or utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def list_audit(
    session: AsyncSession, tenant_id: int, *, limit: int = 100, before_id: int | None = None
) -> list[AuditLog]:
    """The tenant's audit entries newest first; pass the last id seen to page back."""
    stmt = (
        select(AuditLog)
        .where(AuditLog.tenant_id == tenant_id)
        .order_by(AuditLog.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(AuditLog.id < before_id)
    return list(await session.scalars(stmt))
