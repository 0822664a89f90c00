"""What can be done (job types) and what callers report (symptoms)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base

URGENCIES = ("P1", "P2", "P3")


class JobType(Base):
    __tablename__ = "job_type"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    # An admin's own job type has no entry in the translation catalog: its French label, when given, is read instead.
    label_fr: Mapped[str | None] = mapped_column(String(120), nullable=True)
    skill_code: Mapped[str] = mapped_column(ForeignKey("skill.code"))
    duration_minutes: Mapped[int]
    needs_lift: Mapped[bool] = mapped_column(default=True)

    skill: Mapped[Skill] = relationship()


class Symptom(Base):
    __tablename__ = "symptom"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(160))
    label_fr: Mapped[str] = mapped_column(String(160))
    urgency: Mapped[str] = mapped_column(String(2))
    job_type_code: Mapped[str] = mapped_column(ForeignKey("job_type.code"))

    job_type: Mapped[JobType] = relationship()

    def to_dict(self, locale: str = "en") -> dict:
        return {"code": self.code, "label": self.label_fr if locale == "fr" else self.label,
                "urgency": self.urgency, "job_type": self.job_type_code}


from scheduler.models.technician import Skill  # noqa: E402
