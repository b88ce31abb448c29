"""Database fixtures that run each test on both SQLite and PostgreSQL.

Every test using `db_url`, `engine` or `session` runs twice; PostgreSQL is one server per
test session with a fresh database per test.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.db.engine import create_engine, create_sessionmaker, sqlite_url
from server.db.migrate import upgrade_async
from tests.postgres import PgServer, start_postgres

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server, started on first use."""
    # Not tmp_path_factory: pytest's base temp dir is 0700 root, unreachable for the
    # unprivileged account PostgreSQL runs as.
    server = start_postgres(Path(tempfile.gettempdir()))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty database on the parametrised backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "phones.db")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database(f"test_{next(_database_numbers)}")


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database migrated to head."""
    await upgrade_async(db_url)
    engine = create_engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session on the migrated database; tests commit when they need a second session."""
    async with create_sessionmaker(engine)() as session:
        yield session
