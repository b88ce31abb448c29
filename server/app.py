"""Composition root: builds the database, Asterisk, ARI client, call controller and HTTP API.

Startup mirrors shutdown: everything started in `start` is stopped in reverse in `stop`.
A deliberate stop also stops the managed Asterisk; a crash leaves it running with its calls,
and the next start adopts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from pbx.ami import AmiClient
from pbx.config import Ports
from pbx.instance import AsteriskInstance, InstanceSettings
from pbx.runtime import find_runtime
from server.api import build_http_app
from server.ari import AriClient
from server.auth import resolve_token
from server.calls.control import CallControl
from server.calls.history import History
from server.calls.loader import load_agents, load_lines, load_outbound, load_services
from server.calls.reconcile import reconcile
from server.config import Config
from server.db.engine import create_engine
from server.db.migrate import upgrade_async as migrate
from server.db.repositories import caller_history
from server.engine_info import EngineInfo
from server.hub import Hub
from server.provisioning import build_plan
from server.router import Router

log = logging.getLogger(__name__)


class Engine:
    """The whole product in one asyncio process."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.state_dir = config.state_dir.resolve()
        self.db: AsyncEngine | None = None
        self.sessions: async_sessionmaker[AsyncSession] | None = None
        self.asterisk: AsteriskInstance | None = None
        self.ami: AmiClient | None = None
        self.ari: AriClient | None = None
        self.control: CallControl | None = None
        self.hub: Hub | None = None
        self.http: web.AppRunner | None = None
        self.http_port = 0
        self.started_at = time.time()
        self._tasks: list[asyncio.Task[None]] = []
        self.stopped = asyncio.Event()

    async def start(self) -> None:
        """Bring everything up; raise with a clear message when something cannot start."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        cfg = self.config
        await migrate(cfg.database.url)
        self.db = create_engine(cfg.database.url)
        self.sessions = async_sessionmaker(self.db, expire_on_commit=False)
        async with self.sessions() as session:
            plan = await build_plan(session, cfg.asterisk.app, cfg.asterisk.bench_app_queue)
        self.asterisk = self._asterisk_instance()
        adopted = await self.asterisk.start(plan)
        log.info(
            "Asterisk %s (%s)", self.asterisk.settings.name, "adopted" if adopted else "started"
        )
        self.ami = self.asterisk.ami_client()
        await self.ami.connect()
        self.ari = AriClient(
            self.asterisk.ari_url,
            self.asterisk.ari.user,
            self.asterisk.ari.password,
            cfg.asterisk.app,
        )
        history = History(self.sessions)
        history.start()
        self.control = CallControl(self.ari, history, Router())
        self.hub = Hub(self.control, self._hub_user, self._caller_history, cfg.phonebar.grace_s)
        self.control.on_change = self.hub.changed
        await self.reload_routing()
        self._tasks.append(
            asyncio.create_task(
                self.ari.run_events(self.control.handle, self._on_ari_connect), name="ari-events"
            )
        )
        self._tasks.append(asyncio.create_task(self._watch_asterisk(), name="asterisk-watch"))
        await asyncio.wait_for(self.ari.connected.wait(), 15)
        self.http = web.AppRunner(build_http_app(self), access_log=None)
        await self.http.setup()
        site = web.TCPSite(self.http, cfg.http.host, cfg.http.port)
        await site.start()
        server = site._server
        assert server is not None and hasattr(server, "sockets")
        self.http_port = int(server.sockets[0].getsockname()[1])
        self._publish_info()

    def _asterisk_instance(self) -> AsteriskInstance:
        cfg = self.config.asterisk
        runtime = find_runtime(cfg.binary)
        ports = Ports(cfg.sip_port, cfg.http_port, cfg.ami_port, cfg.rtp_start, cfg.rtp_end)
        directory = cfg.directory if cfg.directory.is_absolute() else self.state_dir / cfg.directory
        settings = InstanceSettings(
            cfg.name,
            directory,
            bind=cfg.bind,
            ports=ports,
            external_address=cfg.external_address,
        )
        return AsteriskInstance(runtime, settings)

    async def _hub_user(self, token: str) -> tuple[int, int] | None:
        async with self.db_session() as session, session.begin():
            user = await resolve_token(session, token, now=datetime.now(UTC))
        return (user.id, user.tenant_id) if user is not None else None

    async def _caller_history(self, tenant_id: int, number: str) -> list[dict[str, Any]]:
        async with self.db_session() as session:
            return await caller_history(session, tenant_id, number)

    def db_session(self) -> AsyncSession:
        """A new database session."""
        assert self.sessions is not None, "engine not started"
        return self.sessions()

    def call_control(self) -> CallControl:
        """The call controller."""
        assert self.control is not None, "engine not started"
        return self.control

    @property
    def api_url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://{self.config.http.host}:{self.http_port}"

    def _publish_info(self) -> None:
        assert self.asterisk is not None
        info = EngineInfo(
            os.getpid(),
            self.api_url,
            self.config.asterisk.bind,
            self.asterisk.ports.sip,
            self.asterisk.ari_url,
        )
        path = self.state_dir / "engine.json"
        path.write_text(json.dumps(info.__dict__, indent=2))

    async def _on_ari_connect(self) -> None:
        assert self.control is not None and self.ari is not None
        await reconcile(self.control, self.ari)
        # PhoneBars may have connected while reconciliation was adopting calls: publish.
        if self.control.on_change is not None:
            await self.control.on_change()

    async def _watch_asterisk(self) -> None:
        # A managed Asterisk that died is started again; ARI then reconnects and reconciles.
        assert self.asterisk is not None and self.sessions is not None
        while True:
            await asyncio.sleep(1.0)
            if self.asterisk.pid() is not None or not self.config.asterisk.managed:
                continue
            log.warning("Asterisk is gone; starting it again")
            async with self.sessions() as session:
                plan = await build_plan(
                    session, self.config.asterisk.app, self.config.asterisk.bench_app_queue
                )
            try:
                await self.asterisk.start(plan)
                if self.ami is not None:
                    await self.ami.close()
                self.ami = self.asterisk.ami_client()
                await self.ami.connect()
            except Exception:
                log.exception("restarting Asterisk failed; retrying")

    async def reload_routing(self) -> None:
        """Reload services and agents into the controller (after provisioning changes)."""
        assert self.sessions is not None and self.control is not None
        async with self.sessions() as session:
            services = await load_services(session)
            agents = await load_agents(session)
            lines = await load_lines(session)
            outbound = await load_outbound(session)
        async with self.control.lock:
            self.control.load(services, agents, lines)
            self.control.outbound = outbound

    async def apply_provisioning(self) -> None:
        """Re-render Asterisk's config from the database, reload it, and reload routing."""
        assert self.sessions is not None and self.asterisk is not None and self.ami is not None
        async with self.sessions() as session:
            plan = await build_plan(
                session, self.config.asterisk.app, self.config.asterisk.bench_app_queue
            )
        await self.asterisk.reload(plan, self.ami)
        await self.reload_routing()

    async def health(self) -> dict[str, Any]:
        """Asterisk and database status for /healthz."""
        asterisk = "up" if self.ari is not None and self.ari.connected.is_set() else "down"
        database = "down"
        if self.sessions is not None:
            with contextlib.suppress(Exception):
                async with self.sessions() as session:
                    await session.execute(text("SELECT 1"))
                database = "up"
        return {"asterisk": asterisk, "database": database}

    async def stop(self, stop_asterisk: bool = True) -> None:
        """Stop taking calls, then stop everything in reverse order."""
        if self.control is not None:
            self.control.accepting = False
        if self.hub is not None:
            await self.hub.close()
        if self.http is not None:
            await self.http.cleanup()
        for task in reversed(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.ari is not None:
            await self.ari.close()
        if self.control is not None:
            await self.control.history.stop()
        if self.ami is not None:
            await self.ami.close()
        if stop_asterisk and self.asterisk is not None:
            await self.asterisk.stop()
        if self.db is not None:
            await self.db.dispose()
        with contextlib.suppress(FileNotFoundError):
            (self.state_dir / "engine.json").unlink()
        self.stopped.set()
