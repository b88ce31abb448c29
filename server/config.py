"""Engine configuration: a TOML file plus PHONES_* environment variables, validated.

Environment variables override the file: PHONES_<SECTION>_<KEY>, e.g. PHONES_HTTP_PORT=8080,
PHONES_DATABASE_URL=postgresql+asyncpg://..., PHONES_ASTERISK_BINARY=/usr/sbin/asterisk.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpConfig(_Section):
    """Where the REST API, metrics and (later) the PhoneBar are served."""

    host: str = "127.0.0.1"
    port: int = Field(8088, ge=0, le=65535)


class DatabaseConfig(_Section):
    """The database URL: SQLite by default, PostgreSQL (asyncpg) in production."""

    url: str = "sqlite+aiosqlite:///var/phones.sqlite3"


class AsteriskConfig(_Section):
    """The Asterisk the engine drives: managed (started by us) or external."""

    managed: bool = True
    binary: str | None = None
    directory: Path = Path("var/asterisk")
    name: str = "phones"
    bind: str = "127.0.0.1"
    external_address: str = ""
    sip_port: int = Field(5060, ge=0, le=65535)
    http_port: int = Field(8089, ge=0, le=65535)
    ami_port: int = Field(5038, ge=0, le=65535)
    rtp_start: int = Field(10000, ge=1024, le=65535)
    rtp_end: int = Field(10999, ge=1024, le=65535)
    app: str = "phones"
    # Only for an external Asterisk (managed = false): how to reach ARI and AMI.
    ari_url: str = ""
    ari_user: str = ""
    ari_password: str = ""
    ami_user: str = ""
    ami_password: str = ""
    # Bench only (bench/routed_calls.py): also route pbx.config.BENCH_APP_QUEUE_NUMBER to a
    # native app_queue "bench" whose members are every agent. Never on in production.
    bench_app_queue: bool = False


class AuthConfig(_Section):
    """Login and token rules."""

    token_ttl_s: int = Field(12 * 3600, ge=60)
    max_failed_logins: int = Field(5, ge=1)
    lockout_s: int = Field(15 * 60, ge=1)


class PhonebarConfig(_Section):
    """The agents' browser workstation."""

    # How long an agent's PhoneBar may be gone before a browser-only agent is logged out.
    grace_s: float = Field(10.0, gt=0)
    # Where browsers reach Asterisk's SIP WebSocket; empty: ws://<asterisk bind>:<http port>/ws.
    sip_ws_url: str = ""


class Config(_Section):
    """The whole configuration."""

    http: HttpConfig = HttpConfig()
    database: DatabaseConfig = DatabaseConfig()
    asterisk: AsteriskConfig = AsteriskConfig()
    auth: AuthConfig = AuthConfig()
    phonebar: PhonebarConfig = PhonebarConfig()
    state_dir: Path = Path("var")


def _apply_env(data: dict[str, Any], environ: Mapping[str, str]) -> None:
    sections = {name for name, field in Config.model_fields.items() if field.annotation}
    for key, value in environ.items():
        if not key.startswith("PHONES_"):
            continue
        rest = key[len("PHONES_") :].lower()
        if rest == "state_dir":
            data["state_dir"] = value
            continue
        section, _, name = rest.partition("_")
        if section in sections and name and section != "state":
            data.setdefault(section, {})[name] = value


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the TOML file (if any), apply PHONES_* variables, validate; raise ConfigError."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    _apply_env(data, os.environ if environ is None else environ)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        where = f" in {path}" if path else ""
        raise ConfigError(f"invalid configuration{where}: {problems}") from exc
