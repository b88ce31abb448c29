"""Configuration: file, environment overrides and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError, load_config


def test_defaults_bind_to_loopback() -> None:
    config = load_config(None, environ={})
    assert config.http.host == "127.0.0.1"
    assert config.asterisk.bind == "127.0.0.1"
    assert config.database.url.startswith("sqlite+aiosqlite:///")


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "phones.toml"
    path.write_text("[http]\nport = 9000\n[asterisk]\nsip_port = 5070\n")
    config = load_config(
        path, environ={"PHONES_HTTP_PORT": "9100", "PHONES_STATE_DIR": str(tmp_path)}
    )
    assert config.http.port == 9100
    assert config.asterisk.sip_port == 5070
    assert config.state_dir == tmp_path


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "phones.toml"
    path.write_text("[http]\nprot = 9000\n")
    with pytest.raises(ConfigError, match=r"http\.prot"):
        load_config(path, environ={})


def test_bad_value_is_named() -> None:
    with pytest.raises(ConfigError, match=r"http\.port"):
        load_config(None, environ={"PHONES_HTTP_PORT": "eighty"})


def test_invalid_toml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "phones.toml"
    path.write_text("[http\nport = 1\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(path, environ={})


def test_bench_app_queue_is_off_unless_set() -> None:
    assert load_config(None, environ={}).asterisk.bench_app_queue is False
    environ = {"PHONES_ASTERISK_BENCH_APP_QUEUE": "true"}
    assert load_config(None, environ=environ).asterisk.bench_app_queue is True
