"""Alembic environment: migrate SQLite or PostgreSQL through the project's async drivers.

The URL comes from `config.attributes["url"]` (set by server.db.migrate), else the
PHONES_DATABASE_URL environment variable, else `sqlalchemy.url` in alembic.ini.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from server.db.engine import create_engine, normalize_url
from server.db.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    """The database URL to migrate, from the first source that provides one."""
    url = (
        config.attributes.get("url")
        or os.environ.get("PHONES_DATABASE_URL")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise RuntimeError("no database URL: set PHONES_DATABASE_URL")
    return str(url)


def _run_offline() -> None:
    """Emit the SQL to stdout instead of running it (`alembic upgrade head --sql`)."""
    url = normalize_url(_url())
    context.configure(
        url=url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.get_backend_name() == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_on_connection(connection: Connection) -> None:
    """Run the migrations inside one transaction on a synchronous facade of the connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    """Connect with the async driver and hand Alembic a synchronous view of the connection."""
    engine = create_engine(_url(), enforce_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on_connection)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    _run_offline()
else:
    asyncio.run(_run_online())
