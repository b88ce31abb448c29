"""The engine's data layer: models, engine/session factory, migrations and repositories.

Import repositories as `from server.db import repositories as repo` (or by name from
`server.db.repositories`); this module re-exports the pieces wiring code needs.
"""

from server.db.engine import create_engine, create_sessionmaker, normalize_url, sqlite_url
from server.db.migrate import head_revision, upgrade, upgrade_async
from server.db.models import (
    AgentPresence,
    AgentProfile,
    AgentState,
    AgentStateEvent,
    ApiToken,
    AuditLog,
    Base,
    Callback,
    CallbackState,
    Direction,
    Interaction,
    InteractionEvent,
    InteractionState,
    Line,
    Role,
    Service,
    Tenant,
    Trunk,
    User,
)
from server.db.types import UTCDateTime, utcnow

__all__ = [
    "AgentPresence",
    "AgentProfile",
    "AgentState",
    "AgentStateEvent",
    "ApiToken",
    "AuditLog",
    "Base",
    "Callback",
    "CallbackState",
    "Direction",
    "Interaction",
    "InteractionEvent",
    "InteractionState",
    "Line",
    "Role",
    "Service",
    "Tenant",
    "Trunk",
    "UTCDateTime",
    "User",
    "create_engine",
    "create_sessionmaker",
    "head_revision",
    "normalize_url",
    "sqlite_url",
    "upgrade",
    "upgrade_async",
    "utcnow",
]
