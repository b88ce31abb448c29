"""Business hours and call-back times: checking them, and evaluating with the product's evaluator.

Evaluation is server.calls.model.opening_state, the same function services' opening hours
use, so a schedule means the same thing everywhere. The checks here accept a strict subset of
what it reads ("HH:MM" only), so a schedule that validates always evaluates.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ivr_messenger.node_parts import Schedule
from server.calls.model import OpeningState, opening_state

_CLOCK = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def state_at(schedule: Schedule, now: datetime) -> OpeningState:
    """ "open", "closed" or "holiday" at `now` (an aware datetime)."""
    return opening_state(schedule.model_dump(), now)


def zone_problem(name: str) -> str | None:
    """Why `name` is not a usable IANA time zone, or None."""
    if not _ZONE_NAME.fullmatch(name):
        return f"the time zone {name!r} is not a name such as 'Europe/Rome'"
    try:
        ZoneInfo(name)
    # Unknown keys are KeyError; odd ones ValueError; a directory such as "Europe" an OSError.
    except (KeyError, ValueError, OSError):
        return f"the time zone {name!r} is not known"
    return None


def clock_problem(text: str) -> str | None:
    """Why `text` is not a time of day "HH:MM" (00:00 to 24:00), or None."""
    if _CLOCK.fullmatch(text):
        return None
    return f"the time {text!r} is not a time of day written HH:MM (00:00 to 24:00)"


def schedule_problems(schedule: Schedule) -> list[tuple[str, str]]:
    """Every mistake in a schedule, as (field path inside the schedule, sentence)."""
    problems: list[tuple[str, str]] = []
    if (zone := zone_problem(schedule.tz)) is not None:
        problems.append(("tz", zone))
    for day in DAYS:
        for i, (start, end) in enumerate(getattr(schedule, day)):
            field = f"{day}[{i}]"
            bad = [p for p in (clock_problem(start), clock_problem(end)) if p is not None]
            if start == "24:00":
                bad.append("a range cannot start at 24:00")
            problems.extend((field, sentence) for sentence in bad)
            if not bad and _minutes(start) >= _minutes(end):
                problems.append(
                    (field, f"the range {start}-{end} ends before it starts; split it at 24:00")
                )
    for i, holiday in enumerate(schedule.holidays):
        if not _is_iso_date(holiday):
            problems.append((f"holidays[{i}]", f"the holiday {holiday!r} is not a date YYYY-MM-DD"))
    return problems


def _is_iso_date(text: str) -> bool:
    # Only the form opening_state compares with (date.isoformat()); fromisoformat alone
    # would also take "20261225" or week dates, which would then never match.
    if not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def next_time_of_day(clock: str, zone: str, now: datetime) -> datetime:
    """The first moment at or after `now` showing `clock` ("HH:MM") on the zone's wall clock."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz)
    hours, minutes = (int(part) for part in clock.split(":"))
    day = local.date()
    if hours == 24:  # 24:00 is the next midnight
        hours, day = 0, day + timedelta(days=1)
    candidate = datetime.combine(day, time(hours, minutes), tz)
    if candidate < local:
        candidate = datetime.combine(day + timedelta(days=1), time(hours, minutes), tz)
    return candidate
