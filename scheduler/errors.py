"""Refusals a service can give. Each says why and carries what the user needs next."""

from __future__ import annotations


class DomainError(Exception):
    code = "invalid"
    status = 422

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code, status = "not_found", 404


class Forbidden(DomainError):
    code, status = "forbidden", 403


class Conflict(DomainError):
    code, status = "conflict", 409


class SlotTaken(Conflict):
    code = "slot_taken"


class RuleBroken(DomainError):
    code, status = "rule_broken", 422


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


def refuse_fields(problems: dict[str, str], status: int = 400) -> None:
    """Refuse a form or a body with one message per bad field (the first also as the headline); nothing saved."""
    if problems:
        name, message = next(iter(problems.items()))
        error = Invalid(message, field=name, fields=dict(problems))
        error.status = status
        raise error
