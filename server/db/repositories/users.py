"""Users and their agent profiles (SIP account and skills)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.auth.secrets import generate_sip_secret
from server.db.models import ROLES, AgentProfile, Role, Tenant, User
from server.db.repositories._crud import apply_changes, check_skill_levels, get_scoped

# Usernames become part of the SIP username, so the same safe alphabet as tenant slugs.
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# username is absent: it is baked into the SIP username registered by the agent's phone.
_UPDATABLE = frozenset(
    {
        "display_name",
        "role",
        "password_hash",
        "failed_logins",
        "failed_logins_since",
        "locked_until",
        "language",
        "disabled",
    }
)


def sip_username_for(tenant_slug: str, username: str) -> str:
    """The globally unique SIP username of an agent: "<tenant-slug>-<username>"."""
    return f"{tenant_slug}-{username}"


async def create_user(
    session: AsyncSession,
    tenant_id: int,
    *,
    username: str,
    display_name: str,
    role: Role,
    password_hash: str,
    language: str | None = None,
    agent_skills: Mapping[str, int] | None = None,
    extension: str | None = None,
    can_dial_out: bool = False,
) -> User:
    """Insert a user; with `agent_skills` (even {}) also create its agent profile.

    `can_dial_out` (calling external numbers) only applies to that profile.

    Raises ValueError for a bad username or role, LookupError for an unknown tenant and
    IntegrityError when the username (per tenant) or SIP username (global) is taken.
    """
    if not USERNAME_PATTERN.fullmatch(username):
        raise ValueError(f"invalid username {username!r}: use a-z, 0-9, '.', '_', '-'")
    if role not in ROLES:
        raise ValueError(f"invalid role {role!r}")
    if await session.get(Tenant, tenant_id) is None:
        raise LookupError(f"tenant {tenant_id} not found")
    user = User(
        tenant_id=tenant_id,
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        language=language,
        agent_profile=None,
    )
    session.add(user)
    await session.flush()
    if agent_skills is not None:
        await set_agent_profile(
            session,
            tenant_id,
            user.id,
            skills=agent_skills,
            extension=extension,
            can_dial_out=can_dial_out,
        )
    return user


async def get_user(session: AsyncSession, tenant_id: int, user_id: int) -> User | None:
    """The user (with its agent profile) if it belongs to the tenant, else None."""
    return await get_scoped(session, User, tenant_id, user_id)


async def get_user_by_username(session: AsyncSession, tenant_id: int, username: str) -> User | None:
    """The tenant's user with this username (login), or None."""
    stmt = select(User).where(User.tenant_id == tenant_id, User.username == username)
    return (await session.scalars(stmt)).one_or_none()


async def list_users(
    session: AsyncSession, tenant_id: int, *, role: Role | None = None
) -> list[User]:
    """The tenant's users by username, optionally only one role; profiles included."""
    stmt = select(User).where(User.tenant_id == tenant_id).order_by(User.username)
    if role is not None:
        stmt = stmt.where(User.role == role)
    return list(await session.scalars(stmt))


async def update_user(
    session: AsyncSession, tenant_id: int, user_id: int, /, **changes: object
) -> User | None:
    """Update a user's mutable fields; None if it is not in the tenant."""
    user = await get_user(session, tenant_id, user_id)
    if user is None:
        return None
    if "role" in changes and changes["role"] not in ROLES:
        raise ValueError(f"invalid role {changes['role']!r}")
    apply_changes(user, changes, _UPDATABLE)
    await session.flush()
    return user


async def set_agent_profile(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    skills: Mapping[str, int],
    extension: str | None = None,
    can_dial_out: bool | None = None,
) -> AgentProfile:
    """Create the user's agent profile or update its skills and extension.

    A new profile gets fresh SIP credentials; an update keeps them. `can_dial_out` None
    keeps the permission (a new profile has none). Raises LookupError if the user is not
    in the tenant.
    """
    user = await get_user(session, tenant_id, user_id)
    if user is None:
        raise LookupError(f"user {user_id} not found in tenant {tenant_id}")
    checked = check_skill_levels(skills)
    profile = user.agent_profile
    if profile is None:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None  # the user row references it
        profile = AgentProfile(
            sip_username=sip_username_for(tenant.slug, user.username),
            sip_password=generate_sip_secret(),
            skills=checked,
            extension=extension,
            can_dial_out=bool(can_dial_out),
        )
        user.agent_profile = profile
    else:
        profile.skills = checked
        profile.extension = extension
        if can_dial_out is not None:
            profile.can_dial_out = can_dial_out
    await session.flush()
    return profile


async def reset_sip_password(session: AsyncSession, tenant_id: int, user_id: int) -> str:
    """Give the agent a new random SIP password and return it (Asterisk must be reloaded)."""
    user = await get_user(session, tenant_id, user_id)
    if user is None or user.agent_profile is None:
        raise LookupError(f"agent {user_id} not found in tenant {tenant_id}")
    user.agent_profile.sip_password = generate_sip_secret()
    await session.flush()
    return user.agent_profile.sip_password


async def list_sip_agents(session: AsyncSession) -> list[User]:
    """Every enabled user with an agent profile: the PJSIP endpoints Asterisk must know.

    Deliberately unscoped (all tenants); only the PBX configuration uses it.
    """
    stmt = (
        select(User)
        .join(AgentProfile, AgentProfile.user_id == User.id)
        .where(User.disabled.is_(False))
        .order_by(AgentProfile.sip_username)
    )
    return list(await session.scalars(stmt))
