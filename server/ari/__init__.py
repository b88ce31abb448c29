"""Asterisk REST Interface client (REST + events WebSocket)."""

from server.ari.client import AriClient, AriError, Event

__all__ = ["AriClient", "AriError", "Event"]
