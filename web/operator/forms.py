from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class CallForm(FlaskForm):
    """A call: who, which car, what it shows, and where the caller is."""

    name = StringField(_l("Customer name"), validators=[DataRequired(), Length(max=120)])
    phone = StringField(_l("Phone"), validators=[DataRequired(), Length(max=30)])
    plate = StringField(_l("Plate"), validators=[DataRequired(), Length(max=20)])
    model = StringField(_l("Model"), validators=[DataRequired(), Length(max=80)])
    near = SelectField(_l("Caller is near"), validators=[DataRequired()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    # Last before the button: picking the symptom is the step that leads straight to the offers.
    symptom = SelectField(_l("Reported symptom"), validators=[DataRequired()])

    def as_call(self, garages: dict) -> dict:
        """The same shape as POST /api/v1/cases, so the page and the API share one service."""
        near = garages[self.near.data]
        return {"customer": {"name": self.name.data, "phone": self.phone.data},
                "vehicle": {"plate": self.plate.data, "model": self.model.data},
                "symptom": self.symptom.data, "location": {"lat": near.lat, "lon": near.lon}, "note": self.note.data}
