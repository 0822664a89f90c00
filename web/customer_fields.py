"""Customer fields that more than one desk types: the same label, the same check, wherever they appear."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField
from wtforms.validators import Length, Optional, ValidationError

from scheduler.services.cases import is_email


def _stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _an_email(form, field) -> None:
    if not is_email(field.data):  # the service's own rule: a form never accepts what the API refuses
        raise ValidationError(_l("Not an e-mail address."))


def email_field() -> EmailField:
    """The customer's e-mail, optional: without one, the confirmation waits at the garage to be told by phone."""
    return EmailField(_l("E-mail (for the confirmation)"), filters=[_stripped],
                      validators=[Optional(), Length(max=200), _an_email])
