from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from web.customer_fields import email_field, language_field, phone_field, plate_field


class WalkInForm(FlaskForm):
    """A customer at the counter: the plate first (a known car fills the rest), then what it shows."""

    plate = plate_field()
    name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=120)])
    phone = phone_field()
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=80)])
    email = email_field()
    language = language_field()
    symptom = SelectField(_l("What the customer reports"), validators=[DataRequired()])

    def as_walk_in(self) -> dict:
        """The same shape as POST /api/v1/cases by reception: a walk-in at its garage."""
        return {"customer": {"name": self.name.data, "phone": self.phone.data, "email": self.email.data or None,
                             "language": self.language.data or None},
                "vehicle": {"plate": self.plate.data, "model": self.model.data}, "symptom": self.symptom.data}
