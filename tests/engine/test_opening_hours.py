"""Opening hours of a service (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from server.calls.model import is_open

HOURS = {
    "tz": "Europe/Rome",
    "mon": [["09:00", "13:00"], ["14:00", "18:00"]],
    "sat": [["10:00", "24:00"]],
    "holidays": ["2026-12-25"],
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_no_schedule_is_always_open() -> None:
    assert is_open(None, _at("2026-11-23T03:00:00+00:00"))


def test_open_within_a_range_in_the_services_time_zone() -> None:
    # Monday 23 Nov 2026, 09:30 in Rome is 08:30 UTC.
    assert is_open(HOURS, _at("2026-11-23T08:30:00+00:00"))
    assert not is_open(HOURS, _at("2026-11-23T07:59:00+00:00"))  # 08:59 in Rome


def test_closed_at_lunch_and_at_the_end_of_a_range() -> None:
    assert not is_open(HOURS, _at("2026-11-23T13:30:00+01:00"))
    assert not is_open(HOURS, _at("2026-11-23T18:00:00+01:00"))


def test_a_day_without_ranges_is_closed() -> None:
    assert not is_open(HOURS, _at("2026-11-24T10:00:00+01:00"))  # Tuesday


def test_until_midnight() -> None:
    assert is_open(HOURS, _at("2026-11-28T23:59:00+01:00"))  # Saturday


def test_holidays_are_closed_all_day() -> None:
    assert not is_open({**HOURS, "fri": [["00:00", "24:00"]]}, _at("2026-12-25T12:00:00+01:00"))
