"""Customer fields that more than one desk types: the same label, the same check, wherever they appear."""

from __future__ import annotations

from babel import Locale
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from scheduler.services.cases import is_email, is_phone, is_plate
from scheduler.services.outbox import LANGUAGES


def _stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _a_phone(form, field) -> None:
    if not is_phone(field.data or ""):  # the service's own rule, said under the field with what was typed kept
        raise ValidationError(_l("Not a phone number: at least six digits, e.g. +33 6 12 34 56 78."))


def phone_field() -> StringField:
    """The customer's phone: the number the garage and the call centre call back on, and find them by."""
    return StringField(_l("Phone"), validators=[DataRequired(), Length(max=30), _a_phone])


def _an_email(form, field) -> None:
    if not is_email(field.data):  # the service's own rule: a form never accepts what the API refuses
        raise ValidationError(_l("Not an e-mail address."))


def email_field() -> EmailField:
    """The customer's e-mail, optional: without one, the confirmation waits at the garage to be told by phone."""
    return EmailField(_l("E-mail (for the confirmation)"), filters=[_stripped],
                      validators=[Optional(), Length(max=200), _an_email])


def language_field() -> SelectField:
    """The language the customer's messages are written in, among those the outbox writes: as on file unless
    another is picked (a new customer: the network's, French). Each is named in itself, for the customer to
    recognise it read out."""
    return SelectField(_l("Messages in"), default="", choices=[SelectChoice("", _l("as on file (French if new)"))] + [
        SelectChoice(code, Locale.parse(code).get_display_name(code).capitalize()) for code in LANGUAGES])


def _a_plate(form, field) -> None:
    if not is_plate((field.data or "").strip()):  # the service's own rule, said under the field
        raise ValidationError(_l("Not a registration plate: letters and digits, e.g. AB-123-CD."))


def plate_field() -> StringField:
    """The car's plate: what finds the car, its owner and its cases again."""
    return StringField(_l("Plate"), filters=[_stripped], validators=[DataRequired(), Length(max=20), _a_plate])


def symptom_choices(symptoms, french: bool, blank: str) -> list[SelectChoice]:
    """What a caller or a customer at the counter reports, grouped by the urgency it suggests. Each option starts
    with its own words, so that typing "Vid" in the list finds "Vidange" (all began "P3 · ", and typing found
    nothing)."""
    chosen = sorted(symptoms, key=lambda s: (s.urgency, (s.label_fr if french else s.label) or s.code))
    return [SelectChoice("", blank)] + [SelectChoice(s.code, s.label_fr if french else s.label, optgroup=s.urgency)
                                        for s in chosen]
