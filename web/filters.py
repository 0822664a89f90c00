"""Template helpers: times in the garage's zone, urgency badges, durations."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, get_locale
from flask_login import current_user


def local_time(moment: datetime | None, garage=None) -> str:
    if moment is None:
        return ""
    return (garage.local(moment) if garage is not None else moment).strftime("%H:%M")


def local_datetime(moment: datetime | None, garage=None) -> str:
    if moment is None:
        return ""
    local = garage.local(moment) if garage is not None else moment
    return f"{format_date(local.date(), 'EEE d MMM')} {local:%H:%M}"


def day_label(day: date) -> str:
    return format_date(day, "EEEE d MMMM y")


def minutes_label(minutes: int | None) -> str:
    if minutes is None:
        return "—"
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    if minutes >= 1440:
        return f"{sign}{minutes / 1440:.1f} d"
    if minutes >= 60:
        return f"{sign}{minutes // 60} h {minutes % 60:02d}"
    return f"{sign}{minutes} min"


def register(app: Flask) -> None:
    app.jinja_env.filters.update(local_time=local_time, local_datetime=local_datetime,
                                 day_label=day_label, minutes_label=minutes_label)

    @app.context_processor
    def globals_():
        from web.auth import home_url

        return {"current_locale": str(get_locale() or "en"),
                "home_url": home_url(current_user) if current_user.is_authenticated else "/"}
