"""The demo tenant: two services, two agents, a caller account and one line per service.

Real users' passwords are only stored hashed; the demo's own generated passwords are also
written to state_dir/demo.json (mode 0600) so that `phones demo info` can print them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.auth import generate_sip_secret, hash_password
from server.db import repositories as repo
from server.db.models import Role
from server.provisioning import DYNAMIC

TENANT = "demo"
CALLER_TRUNK = "caller"
CARRIER_TRUNK = "carrier"


@dataclass
class DemoAccount:
    """A demo person: API login and SIP account."""

    username: str
    password: str
    sip_username: str = ""
    sip_password: str = ""
    role: str = "agent"
    service: str = ""


@dataclass
class DemoData:
    """Everything a newcomer needs to try the demo."""

    tenant: str
    agents: list[DemoAccount]
    staff: list[DemoAccount]
    caller: DemoAccount
    lines: list[dict[str, str]] = field(default_factory=list)

    @staticmethod
    def load(path: Path) -> DemoData:
        """Read demo.json."""
        raw = json.loads(path.read_text())
        return DemoData(
            tenant=raw["tenant"],
            agents=[DemoAccount(**a) for a in raw["agents"]],
            staff=[DemoAccount(**a) for a in raw["staff"]],
            caller=DemoAccount(**raw["caller"]),
            lines=raw["lines"],
        )

    def save(self, path: Path) -> None:
        """Write demo.json readable by its owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2))
        path.chmod(0o600)


def _password() -> str:
    return secrets.token_urlsafe(9)


async def ensure_demo(
    sessions: async_sessionmaker[AsyncSession], state_dir: Path, carrier_port: int | None = None
) -> DemoData:
    """Create the demo tenant if absent (idempotent); return its credentials."""
    path = state_dir / "demo.json"
    async with sessions() as session, session.begin():
        tenant = await repo.get_tenant_by_slug(session, TENANT)
        if tenant is not None and path.exists():
            data = DemoData.load(path)
        else:
            if tenant is not None:
                raise RuntimeError(
                    f"the demo tenant exists but {path} (its passwords) is gone; "
                    "remove the database to recreate the demo"
                )
            data = await _create(session)
            data.save(path)
        if carrier_port is not None:
            await _ensure_carrier(session, carrier_port, data)
            data.save(path)
    return data


async def _create(session: AsyncSession) -> DemoData:
    tenant = await repo.create_tenant(session, slug=TENANT, name="Demo Company", language="en")
    sales = await repo.create_service(
        session,
        tenant.id,
        name="Sales",
        skills={"sales": 1},
        offer_timeout_s=15,
        wrap_up_s=5,
        disposition_codes=["sale", "no_sale"],
    )
    support = await repo.create_service(
        session,
        tenant.id,
        name="Support",
        skills={"support": 1},
        offer_timeout_s=15,
        wrap_up_s=5,
        disposition_codes=["solved", "escalated"],
    )
    agents = []
    for username, name, skills, service, extension in (
        ("alice", "Alice Rossi", {"sales": 5}, "Sales", "101"),
        ("bob", "Bob Bianchi", {"support": 5}, "Support", "102"),
    ):
        password = _password()
        user = await repo.create_user(
            session,
            tenant.id,
            username=username,
            display_name=name,
            role="agent",
            password_hash=hash_password(password),
            agent_skills=skills,
            extension=extension,
            # The demo shows outbound calling (call-backs, dialling a number) too.
            can_dial_out=True,
        )
        profile = user.agent_profile
        assert profile is not None
        agents.append(
            DemoAccount(
                username, password, profile.sip_username, profile.sip_password, service=service
            )
        )
    staff = []
    staff_roles: tuple[tuple[str, str, Role], ...] = (
        ("admin", "Demo Admin", "admin"),
        ("supervisor", "Demo Supervisor", "supervisor"),
    )
    for username, name, role in staff_roles:
        account = DemoAccount(username, _password(), role=role)
        await repo.create_user(
            session,
            tenant.id,
            username=username,
            display_name=name,
            role=role,
            password_hash=hash_password(account.password),
        )
        staff.append(account)
    caller = DemoAccount(
        "caller", "", f"{TENANT}-{CALLER_TRUNK}", generate_sip_secret(), role="caller"
    )
    await repo.create_trunk(
        session,
        tenant.id,
        name=CALLER_TRUNK,
        host=DYNAMIC,
        username=caller.sip_username,
        password=caller.sip_password,
        identify_by_ip=False,
    )
    lines = [{"number": "2001", "service": "Sales"}, {"number": "2002", "service": "Support"}]
    for line, target in zip(lines, (sales, support), strict=True):
        await repo.create_line(
            session,
            tenant.id,
            number=line["number"],
            service_id=target.id,
            name=f"Demo {target.name}",
        )
    return DemoData(TENANT, agents, staff, caller, lines)


async def _ensure_carrier(session: AsyncSession, port: int, data: DemoData) -> None:
    tenant = await repo.get_tenant_by_slug(session, TENANT)
    assert tenant is not None
    trunk = next(
        (t for t in await repo.list_trunks(session, tenant.id) if t.name == CARRIER_TRUNK), None
    )
    if trunk is not None:
        await repo.update_trunk(session, tenant.id, trunk.id, port=port)
        return
    trunk = await repo.create_trunk(
        session, tenant.id, name=CARRIER_TRUNK, host="127.0.0.1", port=port, identify_by_ip=True
    )
    services = {s.name: s for s in await repo.list_services(session, tenant.id)}
    for number, service in (("390212345001", "Sales"), ("390212345002", "Support")):
        await repo.create_line(
            session,
            tenant.id,
            number=number,
            trunk_id=trunk.id,
            service_id=services[service].id,
            name=f"PSTN {service}",
        )
        data.lines.append({"number": number, "service": service, "via": "carrier"})
