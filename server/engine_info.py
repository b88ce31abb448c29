"""What a running engine publishes in state_dir/engine.json for the CLI and tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EngineInfo:
    """What a running engine publishes in state_dir/engine.json for the CLI and tests."""

    pid: int
    api: str
    sip_host: str
    sip_port: int
    ari_url: str


def read_engine_info(state_dir: Path) -> EngineInfo | None:
    """The running engine's published info, if any."""
    path = state_dir / "engine.json"
    if not path.exists():
        return None
    return EngineInfo(**json.loads(path.read_text()))
