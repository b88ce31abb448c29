"""`phones tenant|user|service|trunk|line|callback create|list`: provisioning from the CLI.

The CLI writes through the same repositories as the REST API, then asks a running engine to
re-render and reload Asterisk (SIGHUP). Generated passwords are printed once, never stored.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth import hash_password
from server.config import Config
from server.db import repositories as repo
from server.db.engine import create_engine, create_sessionmaker
from server.db.migrate import upgrade_async
from server.db.models import Tenant
from server.engine_info import read_engine_info

Action = Callable[[AsyncSession, argparse.Namespace], Awaitable[dict[str, Any]]]


class ProvisioningError(ValueError):
    """A provisioning command cannot be carried out; the message says why."""


def parse_skills(text: str) -> dict[str, int]:
    """'sales=3,support=1' → {'sales': 3, 'support': 1}; a bare name means level 1."""
    skills: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, level = part.partition("=")
        if not name or (level and not level.isdigit()):
            raise ProvisioningError(f"bad skill {part!r}: use name=level, e.g. sales=3")
        skills[name] = int(level or 1)
    return skills


async def _tenant(session: AsyncSession, slug: str) -> Tenant:
    tenant = await repo.get_tenant_by_slug(session, slug)
    if tenant is None:
        raise ProvisioningError(f"no tenant {slug!r}")
    return tenant


async def _tenant_create(session: AsyncSession, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await repo.create_tenant(
        session, slug=args.slug, name=args.name or args.slug, language=args.language
    )
    password = secrets.token_urlsafe(12)
    await repo.create_user(
        session,
        tenant.id,
        username=args.admin,
        display_name="Administrator",
        role="admin",
        password_hash=hash_password(password),
    )
    return {"tenant": tenant.slug, "id": tenant.id, "admin": args.admin, "admin_password": password}


async def _tenant_list(session: AsyncSession, _: argparse.Namespace) -> dict[str, Any]:
    return {
        "tenants": [
            {"id": t.id, "slug": t.slug, "name": t.name, "language": t.language}
            for t in await repo.list_tenants(session)
        ]
    }


async def _user_create(session: AsyncSession, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await _tenant(session, args.tenant)
    password = secrets.token_urlsafe(12)
    skills = parse_skills(args.skills) if args.role == "agent" else None
    user = await repo.create_user(
        session,
        tenant.id,
        username=args.username,
        display_name=args.name or args.username,
        role=args.role,
        password_hash=hash_password(password),
        agent_skills=skills,
        extension=args.extension,
        can_dial_out=args.can_dial_out,
    )
    out: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "password": password,
    }
    if user.agent_profile is not None:
        out |= {
            "sip_username": user.agent_profile.sip_username,
            "sip_password": user.agent_profile.sip_password,
            "can_dial_out": user.agent_profile.can_dial_out,
        }
    return out


async def _service_create(session: AsyncSession, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await _tenant(session, args.tenant)
    service = await repo.create_service(
        session,
        tenant.id,
        name=args.name,
        skills=parse_skills(args.skills),
        offer_timeout_s=args.offer_timeout,
        wrap_up_s=args.wrap_up,
        priority=args.priority,
    )
    return {"id": service.id, "name": service.name, "skills": service.skills}


async def _trunk_create(session: AsyncSession, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await _tenant(session, args.tenant)
    if args.register and not (args.username and args.password):
        raise ProvisioningError("--register needs --username and --password")
    trunk = await repo.create_trunk(
        session,
        tenant.id,
        name=args.name,
        host=args.host,
        port=args.port,
        username=args.username,
        password=args.password,
        register=args.register,
        identify_by_ip=not args.no_identify,
    )
    return {"id": trunk.id, "name": trunk.name, "host": trunk.host, "port": trunk.port}


async def _line_create(session: AsyncSession, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await _tenant(session, args.tenant)
    services = {s.name: s for s in await repo.list_services(session, tenant.id)}
    if args.service not in services:
        raise ProvisioningError(
            f"no service {args.service!r} in tenant {tenant.slug!r}; "
            f"services: {', '.join(sorted(services)) or 'none'}"
        )
    trunk_id = None
    if args.trunk:
        trunks = {t.name: t for t in await repo.list_trunks(session, tenant.id)}
        if args.trunk not in trunks:
            raise ProvisioningError(f"no trunk {args.trunk!r} in tenant {tenant.slug!r}")
        trunk_id = trunks[args.trunk].id
    line = await repo.create_line(
        session,
        tenant.id,
        number=args.number,
        name=args.name or args.number,
        service_id=services[args.service].id,
        trunk_id=trunk_id,
    )
    return {"id": line.id, "number": line.number, "service": args.service}


async def _callback_create(session: AsyncSession, args: argparse.Namespace) -> dict[str, Any]:
    tenant = await _tenant(session, args.tenant)
    if not (args.service or args.agent):
        raise ProvisioningError("a call-back needs --service or --agent (or both)")
    service_id = agent_id = None
    if args.service:
        services = {s.name: s for s in await repo.list_services(session, tenant.id)}
        if args.service not in services:
            raise ProvisioningError(f"no service {args.service!r} in tenant {tenant.slug!r}")
        service_id = services[args.service].id
    if args.agent:
        agent = await repo.get_user_by_username(session, tenant.id, args.agent)
        if agent is None:
            raise ProvisioningError(f"no user {args.agent!r} in tenant {tenant.slug!r}")
        agent_id = agent.id
    try:
        due_at = datetime.fromisoformat(args.due)
    except ValueError as exc:
        raise ProvisioningError(
            f"bad --due {args.due!r}: ISO 8601 with a time zone, e.g. 2026-12-01T15:00+01:00"
        ) from exc
    callback = await repo.create_callback(
        session,
        tenant.id,
        number=args.number,
        due_at=due_at,
        name=args.name or "",
        notes=args.notes or "",
        service_id=service_id,
        agent_id=agent_id,
    )
    return {
        "id": callback.id,
        "number": callback.number,
        "due_at": callback.due_at.isoformat(),
        "service": args.service,
        "agent": args.agent,
        "state": callback.state,
    }


async def run(config: Config, action: Action, args: argparse.Namespace) -> dict[str, Any]:
    """Run one provisioning action in a transaction, then have a running engine reload."""
    await upgrade_async(config.database.url)
    engine = create_engine(config.database.url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            try:
                result = await action(session, args)
            except ProvisioningError:
                raise
            except IntegrityError as exc:
                raise ProvisioningError("that name or number is already taken") from exc
            except (LookupError, ValueError) as exc:
                raise ProvisioningError(str(exc.args[0]) if exc.args else str(exc)) from exc
    finally:
        await engine.dispose()
    info = read_engine_info(config.state_dir.resolve())
    # Call-backs are not part of Asterisk's configuration: nothing to reload for them.
    if info is not None and vars(args).get("reload_engine", True):
        try:
            os.kill(info.pid, signal.SIGHUP)
            result["engine_reloaded"] = True
        except ProcessLookupError:
            result["engine_reloaded"] = False
    return result


def add_commands(commands: Any, handler: Callable[[argparse.Namespace], int]) -> None:
    """Add the provisioning subcommands to the `phones` parser."""
    tenant = commands.add_parser("tenant", help="create or list tenants").add_subparsers(
        dest="sub", required=True
    )
    p = tenant.add_parser("create", help="a tenant with an admin user (password printed)")
    p.add_argument("slug")
    p.add_argument("--name")
    p.add_argument("--language", default="en", choices=["en", "it"])
    p.add_argument("--admin", default="admin", help="the admin's username")
    p.set_defaults(handler=handler, action=_tenant_create)
    tenant.add_parser("list").set_defaults(handler=handler, action=_tenant_list)

    user = commands.add_parser("user", help="create users and agents").add_subparsers(
        dest="sub", required=True
    )
    p = user.add_parser("create", help="a user (password printed; agents get SIP credentials)")
    p.add_argument("username")
    p.add_argument("--tenant", required=True)
    p.add_argument("--role", default="agent", choices=["admin", "supervisor", "agent"])
    p.add_argument("--name")
    p.add_argument("--skills", default="", help="e.g. sales=3,support=1")
    p.add_argument("--extension")
    p.add_argument(
        "--can-dial-out",
        action="store_true",
        help="agents: may call external numbers through a trunk",
    )
    p.set_defaults(handler=handler, action=_user_create)

    service = commands.add_parser("service", help="create services").add_subparsers(
        dest="sub", required=True
    )
    p = service.add_parser("create")
    p.add_argument("name")
    p.add_argument("--tenant", required=True)
    p.add_argument("--skills", default="", help="required skills, e.g. sales=1")
    p.add_argument("--offer-timeout", type=int, default=20)
    p.add_argument("--wrap-up", type=int, default=10)
    p.add_argument("--priority", type=int, default=0)
    p.set_defaults(handler=handler, action=_service_create)

    trunk = commands.add_parser("trunk", help="create SIP trunks").add_subparsers(
        dest="sub", required=True
    )
    p = trunk.add_parser("create")
    p.add_argument("name")
    p.add_argument("--tenant", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=5060)
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--register", action="store_true", help="register to the carrier")
    p.add_argument(
        "--no-identify",
        action="store_true",
        help="do not identify the carrier's calls by its address",
    )
    p.set_defaults(handler=handler, action=_trunk_create)

    line = commands.add_parser("line", help="create lines (numbers)").add_subparsers(
        dest="sub", required=True
    )
    p = line.add_parser("create")
    p.add_argument("number")
    p.add_argument("--tenant", required=True)
    p.add_argument("--service", required=True, help="the service's name")
    p.add_argument("--trunk", help="the trunk's name (none: reached by internal accounts)")
    p.add_argument("--name")
    p.set_defaults(handler=handler, action=_line_create)

    callback = commands.add_parser(
        "callback", help="create call-backs for a service or an agent"
    ).add_subparsers(dest="sub", required=True)
    p = callback.add_parser("create", help="a number to call back by a due time")
    p.add_argument("number")
    p.add_argument("--tenant", required=True)
    p.add_argument("--due", required=True, help="ISO 8601 with a time zone")
    p.add_argument("--service", help="the service's name: any of its agents calls back")
    p.add_argument("--agent", help="the agent's username: that agent calls back")
    p.add_argument("--name", help="who to call back")
    p.add_argument("--notes")
    p.set_defaults(handler=handler, action=_callback_create, reload_engine=False)


def print_result(result: dict[str, Any]) -> None:
    """Print a command's result as JSON."""
    print(json.dumps(result, indent=2))
