from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from scheduler.services import places
from web.customer_fields import email_field, language_field, phone_field, plate_field


class CallForm(FlaskForm):
    """A call: who, which car, what it shows, and where the caller is."""

    name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=120)])
    phone = phone_field()
    plate = plate_field()
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=80)])
    # optional: a known caller keeps the address on file unless another is typed (scheduler.services.cases.open_case)
    email = email_field()
    language = language_field()
    # a town, a postcode or a garage of the network: `find` (scheduler.services.places) says where that is
    near = StringField(_l("Caller is near"), validators=[DataRequired(), Length(max=120)])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    # Last before the button: picking the symptom is the step that leads straight to the offers.
    symptom = SelectField(_l("Reported symptom"), validators=[DataRequired()])

    def __init__(self, *args, find=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._find, self.place = find, None

    def validate_near(self, field):
        self.place = self._find(field.data) if self._find else None
        if self.place is None and (choices := places.several(field.data)):
            shown = ", ".join(c.name for c in choices[:8]) + ("…" if len(choices) > 8 else "")
            raise ValidationError(_("%(typed)s is more than one place: which one? %(places)s",
                                    typed=field.data.strip(), places=shown))
        if self.place is None:
            raise ValidationError(_l("Not a town, postcode or garage of the network's area: pick one from the list "
                                     "(e.g. Vénissieux or 69200), or type where the caller is as latitude, "
                                     "longitude (e.g. 45.7335, 4.8335)."))

    def as_call(self) -> dict:
        """The same shape as POST /api/v1/cases, so the page and the API share one service."""
        return {"customer": {"name": self.name.data, "phone": self.phone.data, "email": self.email.data or None,
                             "language": self.language.data or None},
                "vehicle": {"plate": self.plate.data, "model": self.model.data},
                "symptom": self.symptom.data, "location": {"lat": self.place.lat, "lon": self.place.lon},
                "note": self.note.data}
