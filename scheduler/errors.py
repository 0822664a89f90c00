"""Refusals a service can give. Each says why and carries what the user needs next.

A refusal's words are a fact: `template` is the English text marked with `N_` (the msgid), `words` the values
of its %(name)s placeholders. web renders them in the reader's language (web/refusals.py); `message` is the
English, for logs, the CLI and clients that ask for English.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from scheduler.texts import short_date


class Weekday(int):
    """A weekday (0 = Monday) among a refusal's words: "Mon" in English, the reader's own short name on a page."""

    NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

    def __str__(self) -> str:
        return self.NAMES[self]


def plain(value: object) -> str:
    """A value of a refusal's words in English: local times as "Tue 24 Nov 10:00" ("Thu 3 Dec 2099 10:00" in
    another year: scheduler.texts.short_date)."""
    today = datetime.now(timezone.utc).date()  # the English is for logs and the CLI: the real clock's year
    if isinstance(value, datetime):
        return f"{short_date(value.date(), today)} {value:%H:%M}"
    if isinstance(value, date):
        return short_date(value, today)
    return str(value)


class Said(str):
    """One field's refusal (refuse_fields): the English as a string, for logs and the API's details, and the
    template marked with `N_` with its words, for web to word in the reader's language (web/refusals.py).

    `Said(N_("%(day)s is given twice."), day="Mon")`; a refusal without words is the marked text alone.
    """

    template: str
    words: dict

    def __new__(cls, template: str, **words):
        said = super().__new__(cls, template % {k: plain(v) for k, v in words.items()} if words else template)
        said.template, said.words = template, words
        return said


class DomainError(Exception):
    code = "invalid"
    status = 422

    def __init__(self, message: str, *, words: dict | None = None, **details):
        if isinstance(message, Said):  # a field's refusal as the headline
            message, words = message.template, {**message.words, **(words or {})}
        self.template = message
        self.words = dict(words or {})
        self.message = message % {k: plain(v) for k, v in self.words.items()} if self.words else message
        super().__init__(self.message)
        self.details = details


class NotFound(DomainError):
    code, status = "not_found", 404


class Forbidden(DomainError):
    code, status = "forbidden", 403


class Conflict(DomainError):
    code, status = "conflict", 409


class PlanChanged(Conflict):
    """The plan a preview was computed on changed before it was confirmed (API.md's 409 of a squeeze's confirm)."""

    code = "plan_changed"


class SlotTaken(Conflict):
    code = "slot_taken"
    # (case id, planning.CaseOffers) of the fresh offers given instead, when they are the network's: the web seals
    # them (web/shown.py) so that booking one of them need not search again
    fresh: tuple | None = None


class RuleBroken(DomainError):
    code, status = "rule_broken", 422


class TooFarAhead(RuleBroken):
    """A start beyond the booking window (scheduler.services.capacity.BOOKING_WINDOW): a typo, not a booking."""

    code = "too_far_ahead"


class NothingFits(RuleBroken):
    """A preview with no placement confirmed: nothing changed since, there was never anything to apply."""

    code = "nothing_fits"


class ReasonRequired(RuleBroken):
    code = "reason_required"


class Invalid(DomainError):
    """Malformed input: a field missing or of the wrong kind."""

    code, status = "bad_request", 400


class AlreadyAnswered(Conflict):
    code = "already_answered"


class AlreadyBooked(Conflict):
    code = "already_booked"


class LastAdmin(Conflict):
    """The network would be left without an active admin."""

    code = "last_admin"


class MissesTarget(RuleBroken):
    """A start that misses the urgency target, not confirmed as such."""

    code = "misses_target"


def refuse_fields(problems: dict[str, str], status: int = 400, taken: set[str] | frozenset[str] = frozenset()) -> None:
    """Refuse a form or a body with one message per bad field (the first also as the headline); nothing saved.
    `taken`: the fields whose value another row already holds (a username, a code); when those are the only
    problems, the body is right and clashes with what is stored: a conflict (API.md's 409), not a 400."""
    if problems:
        name, message = next(iter(problems.items()))
        if set(problems) <= taken:
            raise Conflict(message, field=name, fields=dict(problems))
        error = Invalid(message, field=name, fields=dict(problems))
        error.status = status
        raise error
