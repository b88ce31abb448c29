"""The engine's HTTP face: REST API, OpenAPI document, health and Prometheus metrics."""

from server.api.http_app import build_http_app

__all__ = ["build_http_app"]
