"""Instants as whole minutes since the Unix epoch (UTC), and the slot grid."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo


def parse_instant(text: str | datetime) -> tuple[datetime, int]:
    """Parse an ISO 8601 time with a UTC offset; return it and its epoch minute.

    Raises ValueError with a readable message. Seconds are kept in the datetime but
    the minute is floored: callers that need a conservative bound use `ceil_minute`.
    """
    if isinstance(text, datetime):
        # An in-process caller (the scheduler) hands aware datetimes over as they are: formatting
        # tens of thousands of them as text only to parse them back was half of an offers call.
        moment = text
    elif not isinstance(text, str):
        raise ValueError("must be an ISO 8601 string with a UTC offset")
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset")
    try:
        seconds = moment.timestamp()
    except (OverflowError, ValueError):
        raise ValueError(f"{text!r} is out of range") from None
    return moment, int(seconds // 60)


def ceil_minute(moment: datetime) -> int:
    seconds = moment.timestamp()
    return -int(-seconds // 60)


def floor_minute(moment: datetime) -> int:
    return int(moment.timestamp() // 60)


def format_instant(minute: int, zone: tzinfo) -> str:
    return datetime.fromtimestamp(minute * 60, tz=timezone.utc).astimezone(zone).isoformat()


def grid_ceil(minute: int, slot: int) -> int:
    return -(-minute // slot) * slot


def grid_floor(minute: int, slot: int) -> int:
    return (minute // slot) * slot


def minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60
