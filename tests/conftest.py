"""Shared fixtures: the real Asterisk testbed every integration test reuses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pbx.config import PbxPlan
from pbx.instance import AsteriskInstance, InstanceSettings
from pbx.runtime import AsteriskRuntime, find_runtime

# The call testbed (carrier, engine, platform Asterisk) as fixtures for every test directory.
pytest_plugins = ["tests.callbed", "tests.browser"]


@pytest.fixture(scope="session")
def asterisk_runtime() -> AsteriskRuntime:
    """The Asterisk binary or chroot (built once and cached by `make test`)."""
    return find_runtime()


@pytest.fixture
async def bare_asterisk(
    asterisk_runtime: AsteriskRuntime, tmp_path: Path
) -> AsyncIterator[AsteriskInstance]:
    """A freshly started Asterisk with no endpoints, stopped after the test."""
    instance = AsteriskInstance(asterisk_runtime, InstanceSettings("bare", tmp_path / "ast"))
    try:
        await instance.start(PbxPlan())
        yield instance
    finally:
        await instance.stop()
