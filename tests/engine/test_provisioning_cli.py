"""`phones tenant|user|service|trunk|line create`: provisioning from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from server.provisioning_cli import ProvisioningError, parse_skills


def _phones(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "phones.toml"
    path.write_text(
        f'state_dir = "{tmp_path}"\n[database]\n'
        f'url = "sqlite+aiosqlite:///{tmp_path / "db.sqlite3"}"\n'
    )
    return path


def test_parse_skills() -> None:
    assert parse_skills("sales=3, support") == {"sales": 3, "support": 1}
    assert parse_skills("") == {}
    with pytest.raises(ProvisioningError, match="bad skill 'sales=high'"):
        parse_skills("sales=high")


def test_a_tenant_from_nothing(config: Path) -> None:
    tenant = _phones(config, "tenant", "create", "acme", "--name", "ACME", "--language", "it")
    assert tenant.returncode == 0, tenant.stderr
    assert len(json.loads(tenant.stdout)["admin_password"]) >= 12
    assert (
        _phones(
            config, "service", "create", "Help", "--tenant", "acme", "--skills", "help=2"
        ).returncode
        == 0
    )
    agent = _phones(config, "user", "create", "eve", "--tenant", "acme", "--skills", "help=4")
    assert agent.returncode == 0, agent.stderr
    created = json.loads(agent.stdout)
    assert created["sip_username"] == "acme-eve" and len(created["sip_password"]) >= 24
    line = _phones(config, "line", "create", "3001", "--tenant", "acme", "--service", "Help")
    assert line.returncode == 0, line.stderr
    listed = json.loads(_phones(config, "tenant", "list").stdout)
    assert [t["slug"] for t in listed["tenants"]] == ["acme"]


def test_errors_are_plain_and_change_nothing(config: Path) -> None:
    assert _phones(config, "tenant", "create", "acme").returncode == 0
    missing = _phones(config, "line", "create", "3001", "--tenant", "acme", "--service", "Nope")
    assert missing.returncode == 1
    assert "no service 'Nope' in tenant 'acme'" in missing.stderr
    unknown = _phones(config, "user", "create", "x", "--tenant", "nobody")
    assert unknown.returncode == 1 and "no tenant 'nobody'" in unknown.stderr
    again = _phones(config, "tenant", "create", "acme")
    assert again.returncode == 1 and "already taken" in again.stderr
    bad = _phones(config, "tenant", "create", "Bad Slug!")
    assert bad.returncode == 1 and "invalid tenant slug" in bad.stderr
    listed = json.loads(_phones(config, "tenant", "list").stdout)
    assert [t["slug"] for t in listed["tenants"]] == ["acme"]


def test_dial_out_permission_and_callbacks_from_the_cli(config: Path) -> None:
    assert _phones(config, "tenant", "create", "acme").returncode == 0
    assert _phones(config, "service", "create", "Help", "--tenant", "acme").returncode == 0
    dialler = _phones(config, "user", "create", "eve", "--tenant", "acme", "--can-dial-out")
    assert dialler.returncode == 0, dialler.stderr
    assert json.loads(dialler.stdout)["can_dial_out"] is True
    plain = _phones(config, "user", "create", "max", "--tenant", "acme")
    assert json.loads(plain.stdout)["can_dial_out"] is False

    for_service = _phones(
        config, "callback", "create", "+390212345678", "--tenant", "acme",
        "--service", "Help", "--due", "2026-12-01T15:00+01:00", "--name", "Ms Rossi",
    )  # fmt: skip
    assert for_service.returncode == 0, for_service.stderr
    created = json.loads(for_service.stdout)
    assert (created["service"], created["state"]) == ("Help", "pending")
    assert created["due_at"] == "2026-12-01T14:00:00+00:00"
    for_agent = _phones(
        config, "callback", "create", "0212345678", "--tenant", "acme",
        "--agent", "eve", "--due", "2026-12-01T16:00Z",
    )  # fmt: skip
    assert for_agent.returncode == 0, for_agent.stderr

    for args, message in (
        (("--service", "Help", "--due", "2026-12-01T15:00"), "due_at needs a time zone"),
        (("--service", "Help", "--due", "soon"), "bad --due 'soon'"),
        (("--due", "2026-12-01T15:00Z"), "needs --service or --agent"),
        (("--agent", "nobody", "--due", "2026-12-01T15:00Z"), "no user 'nobody'"),
    ):
        refused = _phones(config, "callback", "create", "0212", "--tenant", "acme", *args)
        assert refused.returncode == 1 and message in refused.stderr, (args, refused.stderr)
    bad_number = _phones(
        config, "callback", "create", "12ab", "--tenant", "acme",
        "--service", "Help", "--due", "2026-12-01T15:00Z",
    )  # fmt: skip
    assert bad_number.returncode == 1 and "invalid number '12ab'" in bad_number.stderr
