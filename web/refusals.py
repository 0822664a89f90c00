"""A service's refusal in the reader's language: the template is the msgid, its words are filled in here."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _

from scheduler.errors import DomainError, Said, Weekday
from scheduler.texts import Phrase


def _word(name: str, value: object) -> object:
    from web.filters import day_name, number_text, said_date, status_label

    if isinstance(value, float):  # "entre 0,1 et 60", not "0.1" or "1e+06"
        return number_text(value)

    if isinstance(value, datetime):  # already in the garage's zone
        return f"{said_date(value.date(), value.tzinfo)} {value:%H:%M}"
    if isinstance(value, date):
        return said_date(value)
    if isinstance(value, Weekday):
        return day_name(value)
    if isinstance(value, Phrase):
        return _(value) if value else value
    if name == "status" and isinstance(value, str):
        return status_label(value)
    if name == "reason" and isinstance(value, str):  # an absence's "sick" or "leave", the app's own words
        from web.filters import absence_reason

        return absence_reason(value)
    if name == "skill" and isinstance(value, str):  # a code ("tyres"): said as the catalogue names it
        from web.filters import skill_label

        return skill_label(value)
    return value


def said_text(text: str) -> str:
    """One field's refusal in the reader's language: a Said with its words, or a text marked alone."""
    if isinstance(text, Said):
        return _worded(text.template, text.words)
    return _(text) if text else text


def field_texts(exc: DomainError) -> dict[str, str]:
    """A form's refusal, one message per bad field, in the reader's language ({} when no field was named)."""
    return {name: said_text(text) for name, text in (exc.details.get("fields") or {}).items()}


def refusal_text(exc: DomainError) -> str:
    return _worded(getattr(exc, "template", exc.message), getattr(exc, "words", {}))


def _worded(template: str, words: dict) -> str:
    """A template in the reader's language with its words filled in (each said as a reader reads it)."""
    from web.i18n import in_french

    said = {name: _word(name, value) for name, value in words.items()}
    return in_french(_(template, **said) if said else _(template))
