"""Business hours in flows: the product's one evaluator, and checks that keep it safe to call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr_messenger.node_parts import Schedule
from ivr_messenger.schedule import next_time_of_day, schedule_problems, state_at
from server.calls.model import is_open, opening_state

ROME = Schedule(tz="Europe/Rome", mon=[("09:00", "18:00")], holidays=["2026-11-23"])


def test_opening_state_tells_a_holiday_from_closed_and_is_open_stays_a_boolean() -> None:
    monday_10 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    tuesday_10 = monday_10 + timedelta(days=1)
    hours = ROME.model_dump()
    assert opening_state(hours, monday_10) == "holiday"
    assert is_open(hours, monday_10) is False
    assert opening_state({**hours, "holidays": []}, monday_10) == "open"
    assert opening_state(hours, tuesday_10) == "closed"
    assert opening_state(None, tuesday_10) == "open"
    assert state_at(ROME, monday_10) == "holiday"


def test_next_time_of_day_in_the_zone() -> None:
    at_noon = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 12:00 in Rome
    assert next_time_of_day("17:00", "Europe/Rome", at_noon) == datetime(
        2026, 11, 23, 16, 0, tzinfo=UTC
    )
    assert next_time_of_day("09:00", "Europe/Rome", at_noon) == datetime(
        2026, 11, 24, 8, 0, tzinfo=UTC
    )
    assert next_time_of_day("24:00", "Europe/Rome", at_noon) == datetime(
        2026, 11, 23, 23, 0, tzinfo=UTC
    )
    # Summer time: 17:00 in Rome is 15:00 UTC in July.
    july = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    assert next_time_of_day("17:00", "Europe/Rome", july) == datetime(2026, 7, 1, 15, 0, tzinfo=UTC)


clock_texts = st.one_of(
    st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 24), st.integers(0, 59)),
    st.sampled_from(["9:00", "09:00:00", "0900", "24:01", "", "noon", "23:59"]),
)
ranges = st.lists(st.tuples(clock_texts, clock_texts), max_size=3)
schedules = st.builds(
    Schedule,
    tz=st.sampled_from(["UTC", "Europe/Rome", "America/New_York", "Mars/Base", "Europe", "../x"]),
    mon=ranges,
    sat=ranges,
    holidays=st.lists(
        st.sampled_from(["2026-11-23", "20261123", "2026-W48-1", "2026-02-30"]), max_size=2
    ),
)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=300)
@given(schedules, moments)
def test_a_schedule_without_problems_always_evaluates(schedule: Schedule, now: datetime) -> None:
    if schedule_problems(schedule):
        return
    assert state_at(schedule, now) in ("open", "closed", "holiday")
    assert is_open(schedule.model_dump(), now) == (state_at(schedule, now) == "open")
