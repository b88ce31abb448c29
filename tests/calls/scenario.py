"""Helpers the call scenarios share: the newest interaction, its event types, going ready."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.callbed import CallBed
from tests.testbed import ApiClient


async def latest(
    bed: CallBed, api: ApiClient, wait_for: str = "", timeout: float = 10
) -> dict[str, Any]:
    """The newest interaction, once it has an event of type wait_for."""
    item: dict[str, Any] = {}
    for _ in range(int(timeout * 10)):
        status, page = await api.call("GET", "/api/v1/interactions?limit=1")
        assert status == 200, page
        if page["items"]:
            item = page["items"][0]
            fresh = item["id"] > bed.baseline_id  # not a call of an earlier test
            if fresh and (not wait_for or wait_for in [e["type"] for e in item["events"]]):
                return item
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {wait_for!r} event; last interaction: {item}")


def types(item: dict[str, Any]) -> list[str]:
    return [e["type"] for e in item["events"]]


async def ready(api: ApiClient) -> None:
    status, body = await api.call("PUT", "/api/v1/agents/me/state", {"state": "ready"})
    assert status == 200, body
