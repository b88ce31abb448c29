"""Create the async engine and session factory for SQLite (aiosqlite) or PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

# How long a SQLite writer waits for another writer's lock before failing with "locked".
SQLITE_BUSY_TIMEOUT_MS = 5000

_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def normalize_url(url: str | URL) -> URL:
    """Return `url` with this project's async driver for its backend.

    Plain sqlite:// and postgresql:// are accepted so configuration can carry the
    conventional spelling.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    wanted = _ASYNC_DRIVERS[backend]
    if parsed.drivername not in (backend, wanted):
        raise ValueError(f"unsupported driver {parsed.drivername!r}: use {wanted}")
    return parsed.set(drivername=wanted)


def sqlite_url(path: Path) -> str:
    """The async URL of the SQLite database file at `path`."""
    return f"sqlite+aiosqlite:///{path}"


def create_engine(
    url: str | URL, *, echo: bool = False, enforce_foreign_keys: bool = True
) -> AsyncEngine:
    """Create the AsyncEngine for `url`, with SQLite tuned for a concurrent server.

    `enforce_foreign_keys=False` exists for migrations only: Alembic's SQLite batch mode
    recreates tables, which foreign key enforcement would turn into cascades or errors.
    """
    parsed = normalize_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "postgresql":
        # Connections dropped by a PostgreSQL restart are replaced instead of failing a call.
        kwargs["pool_pre_ping"] = True
    elif parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = _create_async_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine, enforce_foreign_keys=enforce_foreign_keys)
    return engine


def _configure_sqlite(engine: AsyncEngine, *, enforce_foreign_keys: bool) -> None:
    """Apply the per-connection pragmas.

    WAL lets readers run beside the single writer, foreign keys are off by default in
    SQLite, and busy_timeout makes a writer wait for the lock instead of failing at once.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode; only an OS crash
            # can lose the last transactions, and it saves an fsync per commit.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if enforce_foreign_keys else 'OFF'}")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory that keeps objects readable after commit.

    Async code cannot lazily reload expired attributes, hence expire_on_commit=False.
    """
    return async_sessionmaker(engine, expire_on_commit=False)
