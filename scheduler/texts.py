"""Texts the scheduler (and the seed) hand to people, marked for the translators but worded by web.

`N_` marks a literal for extraction (`flask --app web translate update`) and returns it unchanged: the
scheduler imports no Flask and speaks no language; web renders the English msgid in the reader's language.
"""

from __future__ import annotations

from datetime import date


def N_(text: str) -> str:  # noqa: N802 - gettext's conventional name for "mark, do not translate now"
    return text


class Phrase(str):
    """A marked text used as a word of another (a refusal's reason): web translates it before filling it in."""


def short_date(day: date, today: date, locale: str = "en", *, weekday: str = "EEE", month: str = "MMM") -> str:
    """A date said short, as people say it: "jeu. 3 déc." — with its year when it is not in `today`'s year
    ("jeu. 3 déc. 2099"), so a date decades ahead never passes for one next week.

    The one rule for every date a person reads short: pages, refusals, the customer's messages. `today` is the
    reader's (the garage's local day where one applies); `weekday` and `month` are Babel widths ("EEEE", "MMMM"
    say them in full; an empty `weekday` leaves the weekday out).
    """
    from babel.dates import format_date

    pattern = " ".join(part for part in (weekday, "d", month) if part)
    if day.year != today.year:
        pattern += " y"
    return format_date(day, pattern, locale=locale)
