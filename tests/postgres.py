"""A private, throwaway PostgreSQL server for tests, built from Debian's postgresql package.

PostgreSQL refuses to run as root, so under root (as `make test` runs) the server runs as
the unprivileged system user `phones-pg`, created on first use. It listens on a free port
of 127.0.0.1 with trust authentication and keeps its socket in its own directory, so it
never meets a system cluster.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pbx.instance import free_port

PG_SYSTEM_USER = "phones-pg"
PG_ROLE = "postgres"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def find_postgres_bindir() -> Path:
    """The bin directory of the newest installed PostgreSQL major under /usr/lib/postgresql."""
    candidates = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if path.parent.name.isdigit()
        and (path / "initdb").exists()
        and (path / "postgres").exists()
    ]
    if not candidates:
        raise RuntimeError(
            "PostgreSQL is not installed: apt-get install postgresql (make test does it)"
        )
    return max(candidates, key=lambda path: int(path.parent.name))


def _ensure_system_user() -> pwd.struct_passwd:
    """The `phones-pg` account, created as a no-login system user if missing."""
    try:
        return pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        pass
    result = subprocess.run(
        [
            "useradd",
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            PG_SYSTEM_USER,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    # 9: created meanwhile by a concurrent test run; fine.
    if result.returncode not in (0, 9):
        raise RuntimeError(f"useradd {PG_SYSTEM_USER} failed: {result.stderr.strip()}")
    return pwd.getpwnam(PG_SYSTEM_USER)


def _run_as(account: pwd.struct_passwd | None) -> dict[str, Any]:
    """subprocess arguments that drop to `account` (and all its groups), if given."""
    if account is None:
        return {}
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _check_traversable(path: Path) -> None:
    """Fail clearly if another user cannot reach `path` (pytest's tmp dirs are 0700)."""
    for parent in [path, *path.parents]:
        if not parent.stat().st_mode & 0o001:
            raise RuntimeError(
                f"{parent} is not searchable by {PG_SYSTEM_USER}: pass a directory under a "
                "world-searchable one such as /tmp"
            )


@dataclass
class PgServer:
    """A running test server; `url` is an asyncpg URL of the database created at start."""

    root: Path
    bindir: Path
    port: int
    process: subprocess.Popen[bytes]
    url: str

    def url_for(self, database: str) -> str:
        """The asyncpg URL of `database` on this server."""
        return f"postgresql+asyncpg://{PG_ROLE}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its asyncpg URL."""
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"invalid database name {name!r}")
        subprocess.run(
            [str(self.bindir / "createdb"), *self._client_args(), name],
            check=True,
            capture_output=True,
        )
        return self.url_for(name)

    def _client_args(self) -> list[str]:
        """Connection options for the PostgreSQL client programs."""
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", PG_ROLE]

    def stop(self) -> None:
        """Fast shutdown (SIGINT: roll back sessions) and delete the data directory."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(tmpdir: Path, database: str = "phones_test") -> PgServer:
    """Start a server in a new directory under `tmpdir` with `database` created in it.

    Returns once the server accepts connections.
    """
    bindir = find_postgres_bindir()
    account = _ensure_system_user() if os.geteuid() == 0 else None
    if account is not None:
        _check_traversable(tmpdir)
    root = Path(tempfile.mkdtemp(prefix="phones-pg-", dir=tmpdir))
    try:
        if account is not None:
            os.chown(root, account.pw_uid, account.pw_gid)
        log = root / "postgres.log"
        subprocess.run(
            [
                str(bindir / "initdb"),
                *("-D", str(root / "data"), "-U", PG_ROLE, "--auth=trust"),
                *("--encoding=UTF8", "--no-locale", "--no-sync"),
            ],
            check=True,
            capture_output=True,
            **_run_as(account),
        )
        server = _launch(bindir, root, log, account)
        server.create_database(database)
        server.url = server.url_for(database)
        return server
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _launch(bindir: Path, root: Path, log: Path, account: pwd.struct_passwd | None) -> PgServer:
    """Start the postmaster, retrying on another port if the chosen one was taken."""
    for _attempt in range(3):
        port = free_port()
        with open(log, "ab") as log_file:
            process = subprocess.Popen(
                [
                    str(bindir / "postgres"),
                    *("-D", str(root / "data")),
                    *("-c", "listen_addresses=127.0.0.1", "-c", f"port={port}"),
                    *("-c", f"unix_socket_directories={root}"),
                    # Durability is pointless for a database deleted after the run.
                    *("-c", "fsync=off", "-c", "synchronous_commit=off"),
                    *("-c", "full_page_writes=off"),
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                **_run_as(account),
            )
        server = PgServer(root=root, bindir=bindir, port=port, process=process, url="")
        if _wait_ready(server):
            return server
        server.process.wait()
    raise RuntimeError(f"PostgreSQL did not start; see its log:\n{log.read_text()[-4000:]}")


def _wait_ready(server: PgServer) -> bool:
    """True once the server accepts connections; False if the process exited first."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        ready = subprocess.run(
            [str(server.bindir / "pg_isready"), "-q", *server._client_args(), "-d", "postgres"],
            check=False,
        )
        if ready.returncode == 0:
            return True
        time.sleep(0.1)
    server.process.kill()
    raise RuntimeError(f"PostgreSQL did not become ready within {START_TIMEOUT_S}s")
