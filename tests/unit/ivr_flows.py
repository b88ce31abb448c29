"""Flows shared by the IVR tests: the documented example and a small builder for variations."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from ivr_messenger import Flow, FlowContext, parse_flow

SALES, SUPPORT = 1, 2
CONTEXT = FlowContext(
    services={SALES: "Sales", SUPPORT: "Support"},
    agents=frozenset({7}),
    lines=frozenset({"5551002"}),
    prompts=frozenset({"welcome-it", "welcome-en"}),
    subflows=frozenset({40}),
)

# Monday 23 November 2026: 10:00 and 20:00 in Rome; Christmas Day at noon.
OPEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CLOSED = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
HOLIDAY = datetime(2026, 12, 25, 11, 0, tzinfo=UTC)


def say(it: str, en: str) -> dict[str, Any]:
    """A TTS prompt in Italian and English."""
    return {"it": {"tts": it}, "en": {"tts": en}}


# The example of docs/ivr.md, word for word (a test checks that the two agree).
EXAMPLE: dict[str, Any] = {
    "languages": ["it", "en"],
    "start": "start",
    "fallback": "sorry",
    "variables": {},
    "nodes": {
        "start": {"type": "start", "next": "welcome"},
        "welcome": {
            "type": "play",
            "prompt": {"it": {"recording": "welcome-it"}, "en": {"recording": "welcome-en"}},
            "next": "hours",
        },
        "hours": {
            "type": "business_hours",
            "schedule": {
                "tz": "Europe/Rome",
                "mon": [["09:00", "13:00"], ["14:00", "18:00"]],
                "tue": [["09:00", "18:00"]],
                "wed": [["09:00", "18:00"]],
                "thu": [["09:00", "18:00"]],
                "fri": [["09:00", "17:00"]],
                "holidays": ["2026-12-25", "2027-01-01"],
            },
            "open": "main_menu",
            "closed": "message",
        },
        "main_menu": {
            "type": "menu",
            "prompt": {
                "it": {"tts": "Per le vendite premi 1, per l'assistenza premi 2."},
                "en": {"tts": "For sales press 1, for support press 2."},
            },
            "options": [
                {"key": "1", "next": "sales", "label": "Sales"},
                {"key": "2", "next": "support", "label": "Support"},
            ],
            "timeout_s": 5,
            "max_retries": 2,
            "invalid_prompt": {
                "it": {"tts": "Scelta non valida."},
                "en": {"tts": "That is not a valid choice."},
            },
            "invalid": "sorry",
            "timeout": "sales",
        },
        "sales": {
            "type": "queue",
            "service_id": 1,
            "priority": 5,
            "announce_position": True,
            "announce_every_s": 60,
            "max_wait_s": 300,
            "overflow": "message",
        },
        "support": {"type": "queue", "service_id": 2, "max_wait_s": 600, "overflow": "message"},
        "message": {
            "type": "voicemail",
            "service_id": 2,
            "prompt": {
                "it": {"tts": "Siamo chiusi. Lasciate un messaggio dopo il segnale."},
                "en": {"tts": "We are closed. Please leave a message after the tone."},
            },
            "max_duration_s": 120,
        },
        "sorry": {
            "type": "hangup",
            "prompt": {
                "it": {"tts": "Ci scusiamo, riprovate più tardi."},
                "en": {"tts": "Sorry, please call again later."},
            },
        },
    },
}


def example() -> Flow:
    """The documented example as a Flow."""
    return parse_flow(EXAMPLE)


def flow(nodes: dict[str, Any], **settings: Any) -> Flow:
    """A flow from node dicts: Italian and English, starting at "start"."""
    document: dict[str, Any] = {"languages": ["it", "en"], "start": "start", "nodes": nodes}
    document.update(settings)
    return parse_flow(document)


def edited(changes: dict[str, Any]) -> Flow:
    """The example with some nodes replaced (None removes a node)."""
    document = copy.deepcopy(EXAMPLE)
    for node_id, node in changes.items():
        if node is None:
            del document["nodes"][node_id]
        else:
            document["nodes"][node_id] = node
    return parse_flow(document)


# Sub-flow 40 of CONTEXT: asks for an order number, then returns.
SUB = flow(
    {
        "start": {"type": "start", "next": "ask"},
        "ask": {
            "type": "collect",
            "prompt": say("Numero ordine?", "Order number?"),
            "into": "order",
            "next": "back",
        },
        "back": {"type": "return"},
    },
    kind="subflow",
)
