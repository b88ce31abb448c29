"""Prometheus gauges of the live state, refreshed when scraped."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from prometheus_client import Gauge

if TYPE_CHECKING:
    from server.app import Engine

CALLS = Gauge("phones_calls", "Calls in progress by state", ["state"])
AGENTS = Gauge("phones_agents", "Agents by state", ["state"])
LONGEST_WAIT = Gauge("phones_queue_longest_wait_seconds", "Longest wait per service", ["service"])
ASTERISK_UP = Gauge("phones_asterisk_up", "1 when ARI is connected")


def refresh_metrics(engine: Engine) -> None:
    """Set every gauge from the controller's state."""
    control = engine.control
    if control is None:
        return
    ASTERISK_UP.set(1 if engine.ari is not None and engine.ari.connected.is_set() else 0)
    for state in ("queued", "offered", "connected", "closing"):
        CALLS.labels(state).set(sum(1 for c in control.calls.values() if c.state == state))
    for state in ("offline", "ready", "not_ready", "ringing", "busy", "wrap_up"):
        AGENTS.labels(state).set(sum(1 for a in control.agents.values() if a.state == state))
    now = time.monotonic()
    for service in control.services.values():
        waits = [
            now - c.enqueued_mono
            for c in control.calls.values()
            if c.service_id == service.id and c.state in ("queued", "offered")
        ]
        LONGEST_WAIT.labels(f"{service.tenant_id}:{service.name}").set(max(waits, default=0.0))
