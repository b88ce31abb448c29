"""Asterisk REST Interface client (REST + events WebSocket)."""

from server.ari.client import AriClient, AriError, Event, parse_ari_time

__all__ = ["AriClient", "AriError", "Event", "parse_ari_time"]
