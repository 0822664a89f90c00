"""Days, times and numbers as people type them at a French desk ("14h15", "25/12/2026", "27,5"), read into the
forms the API speaks ("14:15", "2026-12-25", 27.5). The pages pass what was typed through these; the API takes its
own forms only.
"""

from __future__ import annotations

import re
from datetime import date, time

# "14:15", "14h15", "14h", "14", "9.30", "0930"
_CLOCK = re.compile(r"(\d{1,2})\s*(?:[:hH.]\s*(\d{2})?)?|(\d{2})(\d{2})")
_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
# "7h45 – 18h30", "07:45 - 18:30": a range typed with spaces, an en or em dash (the pages show hours with an en dash)
_RANGE = re.compile(r"\s*[-\u2010-\u2015\u2212]\s*")


def clock_time(text: str) -> time:
    """A time of day as a person types it; ValueError when it is none."""
    found = _CLOCK.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"not a time of day: {text!r}")
    hours, minutes = (found[1], found[2]) if found[1] is not None else (found[3], found[4])
    return time(int(hours), int(minutes or 0))  # ValueError past 23:59


def as_clock(text: str) -> str:
    """"7h45" as "07:45"; what is not a time comes back as typed, for the refusal to quote."""
    try:
        return f"{clock_time(text):%H:%M}"
    except ValueError:
        return text


def as_ranges(text: str) -> str:
    """Every range of a line written as "07:45-18:30": "lun. 7h45 – 18h30" is "lun. 7h45-18h30"."""
    return _RANGE.sub("-", text)


def as_day(text: str) -> str:
    """"25/12/2026" (day first, as written in France) as "2026-12-25"; anything else as typed."""
    found = _DAY.fullmatch(text.strip())
    if found is None:
        return text
    try:
        return date(int(found[3]), int(found[2]), int(found[1])).isoformat()
    except ValueError:
        return text


def as_moment(text: str) -> str:
    """A day, or a day and a time: "24/11/2026 14h" as "2026-11-24T14:00"; anything else as typed."""
    day, _, clock = text.strip().replace("T", " ").partition(" ")
    day = as_day(day)
    if not clock.strip():
        return day if day != text.strip() else text
    hour = as_clock(clock.strip().removeprefix("à").strip())
    return f"{day}T{hour}" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) and re.fullmatch(r"\d{2}:\d{2}", hour) else text


def as_end(text: str, start: str) -> str:
    """The end of a span as a person types it: a time alone ("16h") is on the day of the start typed before it
    ("01/12/2026 14h" to "16h" ends at 16:00 that day); anything else as `as_moment` reads it."""
    try:
        clock = clock_time(text)
    except ValueError:
        return as_moment(text)
    day = as_moment(start)[:10]
    return f"{day}T{clock:%H:%M}" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) else text


def as_number(text: str) -> float | int | str:
    """A number as a person types it, "27,5" with a French decimal comma too; a whole one as an int. Anything else
    comes back as typed, for the service to refuse under its field."""
    try:
        number = float(text.strip().replace(",", "."))
    except ValueError:
        return text.strip()
    return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
