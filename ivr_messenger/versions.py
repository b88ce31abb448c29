"""Versions of a flow: publishing rules, rollback, and a field-level diff between two documents.

Published versions are immutable and numbered 1, 2, 3...; a call keeps the version it started
on. Rolling back publishes an old version's document again as a new version, so history only
grows. These are the pure rules; server/db/repositories/call_flows.py stores the versions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ivr_messenger.flow import Flow
from ivr_messenger.validate import Problem


@dataclass(frozen=True, slots=True)
class FlowVersion:
    """A published, immutable version of a flow."""

    number: int
    flow: Flow
    published_at: datetime
    note: str = ""


class PublishRefused(ValueError):
    """The draft has problems; it stays a draft."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        """Keep the problems for the API's answer."""
        super().__init__(f"the flow has {len(problems)} problem(s) and cannot be published")
        self.problems = list(problems)


def can_publish(problems: Sequence[Problem]) -> bool:
    """Only a flow without problems may be published (any flow may be saved as a draft)."""
    return not problems


def publish(
    history: Sequence[FlowVersion],
    draft: Flow,
    problems: Sequence[Problem],
    at: datetime,
    note: str = "",
) -> FlowVersion:
    """The next version for `draft`, validated by the caller into `problems`."""
    if not can_publish(problems):
        raise PublishRefused(problems)
    number = max((v.number for v in history), default=0) + 1
    return FlowVersion(number, draft, at, note)


def find_version(history: Sequence[FlowVersion], number: int) -> FlowVersion:
    """A published version by number, or KeyError."""
    for version in history:
        if version.number == number:
            return version
    raise KeyError(f"there is no version {number}")


def rollback(
    history: Sequence[FlowVersion],
    number: int,
    problems: Sequence[Problem],
    at: datetime,
) -> FlowVersion:
    """Publish version `number`'s document again, as a new version.

    `problems` is that document validated against today's context: a service it names may
    have gone since, and then the rollback is refused like any publish.
    """
    old = find_version(history, number)
    return publish(history, old.flow, problems, at, note=f"rollback to version {number}")


class _Absent:
    """The value of a field a document does not have (a dict key or list item)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed field: its path and the JSON values before and after (ABSENT: no such field)."""

    path: str
    before: Any
    after: Any

    def describe(self) -> str:
        """The change in words: `path: before → after`."""
        return f"{self.path}: {_show(self.before)} → {_show(self.after)}"


@dataclass(frozen=True, slots=True)
class FlowDiff:
    """What changed between two flow documents, in a stable order (paths and ids sorted)."""

    settings: tuple[FieldChange, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[tuple[str, tuple[FieldChange, ...]], ...]

    @property
    def empty(self) -> bool:
        """Whether the documents are the same."""
        return not (self.settings or self.added or self.removed or self.changed)

    def lines(self, old: Flow, new: Flow) -> list[str]:
        """The diff as lines a person reads: + added, - removed, ~ changed."""
        out = [f"~ flow {change.describe()}" for change in self.settings]
        out += [f"+ node {n} ({new.nodes[n].type})" for n in self.added]
        out += [f"- node {n} ({old.nodes[n].type})" for n in self.removed]
        for node_id, changes in self.changed:
            out += [f"~ node {node_id}: {change.describe()}" for change in changes]
        return out


def diff(old: Flow, new: Flow) -> FlowDiff:
    """The differences between two flow documents, down to single fields."""
    before, after = old.to_data(), new.to_data()
    old_nodes, new_nodes = before.pop("nodes"), after.pop("nodes")
    changed = []
    for node_id in sorted(set(old_nodes) & set(new_nodes)):
        changes = _changes(old_nodes[node_id], new_nodes[node_id], "")
        if changes:
            changed.append((node_id, tuple(changes)))
    return FlowDiff(
        settings=tuple(_changes(before, after, "")),
        added=tuple(sorted(set(new_nodes) - set(old_nodes))),
        removed=tuple(sorted(set(old_nodes) - set(new_nodes))),
        changed=tuple(changed),
    )


def _changes(before: Any, after: Any, path: str) -> list[FieldChange]:
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[FieldChange] = []
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else str(key)
            out += _changes(before.get(key, ABSENT), after.get(key, ABSENT), sub)
        return out
    if isinstance(before, list) and isinstance(after, list):
        out = []
        for i in range(max(len(before), len(after))):
            left = before[i] if i < len(before) else ABSENT
            right = after[i] if i < len(after) else ABSENT
            out += _changes(left, right, f"{path}[{i}]")
        return out
    if _same(before, after):
        return []
    return [FieldChange(path, before, after)]


def _same(before: Any, after: Any) -> bool:
    # JSON equality: 1 and 1.0 differ in a document, and so do 1 and true.
    return type(before) is type(after) and before == after


def _show(value: Any) -> str:
    return "(absent)" if value is ABSENT else json.dumps(value, ensure_ascii=False)
