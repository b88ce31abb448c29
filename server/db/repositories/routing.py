"""Services (queues), trunks and lines: the tenant's routing configuration."""

from __future__ import annotations

import re
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Line, Service, Trunk
from server.db.repositories._crud import (
    apply_changes,
    check_skill_levels,
    get_scoped,
    require_scoped,
)

# A DNIS as carriers deliver it: digits, optionally E.164's leading '+'.
NUMBER_PATTERN = re.compile(r"^\+?[0-9]{1,31}$")

_SERVICE_FIELDS = frozenset(
    {
        "name",
        "skills",
        "priority",
        "offer_timeout_s",
        "wrap_up_s",
        "max_wait_s",
        "no_answer_rule",
        "not_ready_reason",
        "sla_target_s",
        "opening_hours",
        "fallback_closed",
        "fallback_no_agents",
        "fallback_max_wait",
        "recording",
        "disposition_codes",
    }
)
_TRUNK_FIELDS = frozenset(
    {
        "name",
        "host",
        "port",
        "transport",
        "username",
        "password",
        "identify_by_ip",
        "register",
        "caller_id",
        "enabled",
    }
)
_LINE_FIELDS = frozenset({"number", "name", "trunk_id", "service_id", "call_flow_id"})


def _refuse_unknown(fields: Collection[str], allowed: frozenset[str], what: str) -> None:
    """Raise ValueError naming any field that is not a settable column."""
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValueError(f"unknown {what} field(s): {', '.join(unknown)}")


# -- services ---------------------------------------------------------------------------


async def create_service(
    session: AsyncSession, tenant_id: int, /, *, name: str, **fields: object
) -> Service:
    """Insert a service; `fields` are Service columns, omitted ones take their defaults."""
    _refuse_unknown(fields, _SERVICE_FIELDS, "service")
    service = Service(tenant_id=tenant_id, name=name)
    apply_changes(service, _checked_service_fields(fields), _SERVICE_FIELDS)
    session.add(service)
    await session.flush()
    return service


async def get_service(session: AsyncSession, tenant_id: int, service_id: int) -> Service | None:
    """The service if it belongs to the tenant, else None."""
    return await get_scoped(session, Service, tenant_id, service_id)


async def list_services(session: AsyncSession, tenant_id: int) -> list[Service]:
    """The tenant's services by name."""
    stmt = select(Service).where(Service.tenant_id == tenant_id).order_by(Service.name)
    return list(await session.scalars(stmt))


async def update_service(
    session: AsyncSession, tenant_id: int, service_id: int, /, **changes: object
) -> Service | None:
    """Update a service's fields; None if it is not in the tenant."""
    service = await get_service(session, tenant_id, service_id)
    if service is None:
        return None
    apply_changes(service, _checked_service_fields(changes), _SERVICE_FIELDS)
    await session.flush()
    return service


def _checked_service_fields(fields: dict[str, object]) -> dict[str, object]:
    """Validate the skills map (min levels 1..10); other shapes are the API's business."""
    skills = fields.get("skills")
    if skills is not None:
        if not isinstance(skills, dict):
            raise ValueError("service skills must be a {skill: min_level} map")
        fields = {**fields, "skills": check_skill_levels(skills)}
    return fields


# -- trunks -----------------------------------------------------------------------------


async def create_trunk(
    session: AsyncSession, tenant_id: int, /, *, name: str, host: str, **fields: object
) -> Trunk:
    """Insert a trunk; `fields` are Trunk columns, omitted ones take their defaults."""
    _refuse_unknown(fields, _TRUNK_FIELDS, "trunk")
    trunk = Trunk(tenant_id=tenant_id, name=name, host=host)
    apply_changes(trunk, fields, _TRUNK_FIELDS)
    session.add(trunk)
    await session.flush()
    return trunk


async def get_trunk(session: AsyncSession, tenant_id: int, trunk_id: int) -> Trunk | None:
    """The trunk if it belongs to the tenant, else None."""
    return await get_scoped(session, Trunk, tenant_id, trunk_id)


async def list_trunks(session: AsyncSession, tenant_id: int) -> list[Trunk]:
    """The tenant's trunks by name."""
    stmt = select(Trunk).where(Trunk.tenant_id == tenant_id).order_by(Trunk.name)
    return list(await session.scalars(stmt))


async def update_trunk(
    session: AsyncSession, tenant_id: int, trunk_id: int, /, **changes: object
) -> Trunk | None:
    """Update a trunk's fields; None if it is not in the tenant."""
    trunk = await get_trunk(session, tenant_id, trunk_id)
    if trunk is None:
        return None
    apply_changes(trunk, changes, _TRUNK_FIELDS)
    await session.flush()
    return trunk


async def list_enabled_trunks(session: AsyncSession) -> list[Trunk]:
    """Enabled trunks of every tenant, for Asterisk's PJSIP configuration.

    Deliberately unscoped; only the PBX configuration uses it.
    """
    stmt = select(Trunk).where(Trunk.enabled.is_(True)).order_by(Trunk.tenant_id, Trunk.name)
    return list(await session.scalars(stmt))


# -- lines ------------------------------------------------------------------------------


async def create_line(
    session: AsyncSession,
    tenant_id: int,
    *,
    number: str,
    name: str,
    trunk_id: int | None = None,
    service_id: int | None = None,
    call_flow_id: int | None = None,
) -> Line:
    """Insert a line.

    The trunk and service must be the tenant's own (else LookupError) and the number new
    across all tenants (else IntegrityError).
    """
    line = Line(tenant_id=tenant_id, number="", name=name, call_flow_id=call_flow_id)
    await _set_line_fields(
        session, line, {"number": number, "trunk_id": trunk_id, "service_id": service_id}
    )
    session.add(line)
    await session.flush()
    return line


async def get_line(session: AsyncSession, tenant_id: int, line_id: int) -> Line | None:
    """The line if it belongs to the tenant, else None."""
    return await get_scoped(session, Line, tenant_id, line_id)


async def list_lines(session: AsyncSession, tenant_id: int) -> list[Line]:
    """The tenant's lines by number."""
    stmt = select(Line).where(Line.tenant_id == tenant_id).order_by(Line.number)
    return list(await session.scalars(stmt))


async def update_line(
    session: AsyncSession, tenant_id: int, line_id: int, /, **changes: object
) -> Line | None:
    """Update a line's fields (same ownership checks as create); None if not in tenant."""
    line = await get_line(session, tenant_id, line_id)
    if line is None:
        return None
    await _set_line_fields(session, line, changes)
    await session.flush()
    return line


async def find_line_by_number(session: AsyncSession, number: str) -> Line | None:
    """The line for a dialled number, whatever its tenant.

    Unscoped: this is how an inbound call finds its tenant in the first place.
    """
    return (await session.scalars(select(Line).where(Line.number == number))).one_or_none()


async def _set_line_fields(session: AsyncSession, line: Line, changes: dict[str, object]) -> None:
    """Validate the number and that referenced trunk/service are the line's tenant's."""
    _refuse_unknown(changes, _LINE_FIELDS, "line")
    number = changes.get("number")
    if "number" in changes and not (isinstance(number, str) and NUMBER_PATTERN.fullmatch(number)):
        raise ValueError(f"invalid line number {number!r}: digits with an optional '+'")
    for key, model in (("trunk_id", Trunk), ("service_id", Service)):
        ref = changes.get(key)
        if ref is not None:
            if not isinstance(ref, int):
                raise ValueError(f"{key} must be an integer")
            await require_scoped(session, model, line.tenant_id, ref)
    apply_changes(line, changes, _LINE_FIELDS)
