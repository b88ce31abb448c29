"""The managed Asterisk boots, answers AMI and ARI, adopts, reloads and reports failures."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest

from pbx.config import Endpoint, PbxPlan
from pbx.instance import AsteriskFailed, AsteriskInstance, InstanceSettings
from pbx.runtime import AsteriskRuntime


async def test_boots_and_answers_ami_and_ari(bare_asterisk: AsteriskInstance) -> None:
    ami = bare_asterisk.ami_client()
    await ami.connect()
    try:
        version = await ami.command("core show version")
        modules = await ami.command("module show like res_ari.so")
    finally:
        await ami.close()
    assert version.startswith("Asterisk 2")
    assert "Running" in modules
    auth = aiohttp.encode_basic_auth(bare_asterisk.ari.user, bare_asterisk.ari.password)
    async with (
        aiohttp.ClientSession(headers={"Authorization": auth}) as http,
        http.get(f"{bare_asterisk.ari_url}/asterisk/info") as response,
    ):
        assert response.status == 200
        info = await response.json()
    assert info["system"]["entity_id"]
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{bare_asterisk.ari_url}/asterisk/info") as response,
    ):
        assert response.status == 401


async def test_a_restarted_manager_adopts_the_running_instance(
    bare_asterisk: AsteriskInstance, asterisk_runtime: AsteriskRuntime
) -> None:
    pid = bare_asterisk.pid()
    assert pid is not None
    again = AsteriskInstance(asterisk_runtime, bare_asterisk.settings)
    assert again.ports == bare_asterisk.ports
    adopted = await again.start(PbxPlan())
    assert adopted
    assert again.pid() == pid


async def test_reload_provisions_an_endpoint_without_restart(
    bare_asterisk: AsteriskInstance,
) -> None:
    pid = bare_asterisk.pid()
    ami = bare_asterisk.ami_client()
    await ami.connect()
    try:
        plan = PbxPlan(
            endpoints=[Endpoint("t-agent", "phones-agents", username="t-agent", password="x" * 32)]
        )
        assert await bare_asterisk.reload(plan, ami)
        endpoints = await ami.command("pjsip show endpoints")
        assert not await bare_asterisk.reload(plan, ami)
    finally:
        await ami.close()
    assert "t-agent" in endpoints
    assert bare_asterisk.pid() == pid


async def test_a_broken_config_fails_with_the_log_tail(
    asterisk_runtime: AsteriskRuntime, tmp_path: Path
) -> None:
    instance = AsteriskInstance(asterisk_runtime, InstanceSettings("broken", tmp_path / "ast"))
    instance.write_config(PbxPlan())
    modules = instance.dir / "etc" / "modules.conf"
    # A required module that does not exist makes Asterisk refuse to start.
    modules.write_text(modules.read_text() + "require = res_does_not_exist.so\n")
    instance.start_process()
    try:
        with pytest.raises(AsteriskFailed) as failure:
            await instance.wait_booted(timeout=20)
    finally:
        await instance.stop()
    assert "res_does_not_exist" in str(failure.value)
    assert instance.pid() is None
    assert os.path.exists(instance.log_dir / "console.log")
