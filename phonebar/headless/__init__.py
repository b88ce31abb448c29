"""Headless pjsua2 SIP user agent: a separate process driven by an asyncio controller.

``HeadlessUA`` spawns ``python -m phonebar.headless.ua_process`` (pjsua2 needs its own
main-thread event loop, so it never runs inside the asyncio engine) and talks JSON lines.
"""

from phonebar.headless.controller import (
    DEFAULT_TIMEOUT,
    Event,
    HeadlessUA,
    HeadlessUAError,
    HeadlessUATimeout,
)

__all__ = ["DEFAULT_TIMEOUT", "Event", "HeadlessUA", "HeadlessUAError", "HeadlessUATimeout"]
