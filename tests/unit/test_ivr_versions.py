"""Flow versions: publishing only clean flows, rollback as a new version, readable diffs."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from ivr_messenger import PublishRefused, can_publish, diff, parse_flow, publish, rollback, validate
from ivr_messenger.versions import ABSENT, FieldChange, find_version
from tests.unit.ivr_flows import CONTEXT, EXAMPLE, example

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def changed_example() -> dict[str, object]:
    document = copy.deepcopy(EXAMPLE)
    nodes = document["nodes"]
    nodes["sales"]["priority"] = 7
    nodes["main_menu"]["options"].append({"key": "3", "next": "sorry", "label": "Other"})
    nodes["main_menu"]["prompt"]["en"] = {"tts": "Press 1, 2 or 3."}
    del nodes["support"]["max_wait_s"]
    nodes["support"]["overflow"] = None
    nodes["goodbye"] = {"type": "hangup"}
    nodes["hours"]["closed"] = "goodbye"
    del nodes["message"]
    nodes["sales"]["overflow"] = "goodbye"
    document["languages"] = ["it", "en"]
    document["fallback"] = None
    return document


def test_publishing_numbers_versions_and_refuses_flows_with_problems() -> None:
    v1 = publish([], example(), validate(example(), CONTEXT), T0)
    assert (v1.number, v1.flow, v1.published_at) == (1, example(), T0)
    broken = copy.deepcopy(EXAMPLE)
    broken["nodes"]["sales"]["service_id"] = 99
    flow = parse_flow(broken)
    problems = validate(flow, CONTEXT)
    assert not can_publish(problems)
    with pytest.raises(PublishRefused) as refused:
        publish([v1], flow, problems, T0)
    assert refused.value.problems == problems
    v2 = publish([v1], parse_flow(changed_example()), [], T0, note="new menu")
    assert v2.number == 2


def test_rollback_publishes_the_old_document_as_a_new_version() -> None:
    v1 = publish([], example(), [], T0)
    v2 = publish([v1], parse_flow(changed_example()), [], T0)
    v3 = rollback([v1, v2], 1, validate(v1.flow, CONTEXT), T0)
    assert (v3.number, v3.flow, v3.note) == (3, v1.flow, "rollback to version 1")
    assert diff(v1.flow, v3.flow).empty
    with pytest.raises(KeyError):
        find_version([v1, v2], 7)


def test_a_rollback_to_a_version_that_became_invalid_is_refused() -> None:
    v1 = publish([], example(), [], T0)
    v2 = publish([v1], parse_flow(changed_example()), [], T0)
    services_now = type(CONTEXT)(services={2: "Support"}, prompts=CONTEXT.prompts)
    with pytest.raises(PublishRefused):
        rollback([v1, v2], 1, validate(v1.flow, services_now), T0)


def test_the_diff_lists_nodes_and_fields_in_a_stable_order() -> None:
    old, new = example(), parse_flow(changed_example())
    changes = diff(old, new)
    assert changes.added == ("goodbye",)
    assert changes.removed == ("message",)
    assert changes.settings == (FieldChange("fallback", "sorry", None),)
    assert dict(changes.changed)["sales"] == (
        FieldChange("overflow", "message", "goodbye"),
        FieldChange("priority", 5, 7),
    )
    assert changes.lines(old, new) == [
        '~ flow fallback: "sorry" → null',
        "+ node goodbye (hangup)",
        "- node message (voicemail)",
        '~ node hours: closed: "message" → "goodbye"',
        '~ node main_menu: options[2]: (absent) → {"key": "3", "next": "sorry", "label": "Other"}',
        '~ node main_menu: prompt.en.tts: "For sales press 1, for support press 2." → '
        '"Press 1, 2 or 3."',
        '~ node sales: overflow: "message" → "goodbye"',
        "~ node sales: priority: 5 → 7",
        "~ node support: max_wait_s: 600 → null",
        '~ node support: overflow: "message" → null',
    ]
    assert diff(new, old).lines(new, old)[0] == '~ flow fallback: null → "sorry"'


def test_a_changed_node_type_shows_every_field() -> None:
    document = copy.deepcopy(EXAMPLE)
    document["nodes"]["sorry"] = {"type": "transfer", "target": {"number": "+390612345"}}
    changes = dict(diff(example(), parse_flow(document)).changed)["sorry"]
    by_path = {change.path: change for change in changes}
    assert by_path["type"] == FieldChange("type", "hangup", "transfer")
    assert by_path["target"].before is ABSENT
    assert (
        by_path["target"].describe()
        == 'target: (absent) → {"number": "+390612345", "agent_id": null, "line": null}'
    )


def test_integers_and_floats_differ_in_a_document() -> None:
    old = parse_flow({**copy.deepcopy(EXAMPLE), "variables": {"x": 1}})
    new = parse_flow({**copy.deepcopy(EXAMPLE), "variables": {"x": 1.0}})
    assert diff(old, new).settings == (FieldChange("variables.x", 1, 1.0),)
