"""The catalogue at the admin desk: skills (what a technician can do, in English and French), job types (skill,
duration, lift) and symptoms (labels in French and English, suggested urgency and job type). Codes never change: cases and statistics refer to them.

A new duration applies to work booked from then on; what is booked keeps the time it was given.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.errors import Said, refuse_fields
from scheduler.models import URGENCIES, JobType, Skill, Symptom, Technician, User
from scheduler.models.case import name_key
from scheduler.models.technician import technician_skill
from scheduler.services import audit
from scheduler.texts import N_

# The columns' names as the API and the trail call them.
NAMES = {"skill_code": "skill", "needs_lift": "lift", "job_type_code": "job_type"}
CODE = re.compile(r"^[a-z0-9][a-z0-9_]{1,39}$")
MAX_DURATION = 8 * 60


def skill_dict(s: Skill) -> dict:
    return {"code": s.code, "label": s.label, "label_fr": s.label_fr}


def job_type_dict(j: JobType) -> dict:
    return {"code": j.code, "label": j.label, "label_fr": j.label_fr, "skill": j.skill_code,
            "duration_minutes": j.duration_minutes, "lift": j.needs_lift}


def symptom_dict(s: Symptom) -> dict:
    return {"code": s.code, "label": s.label, "label_fr": s.label_fr, "urgency": s.urgency,
            "job_type": s.job_type_code}


def job_label(job_type: JobType, locale: str, translate) -> str:
    """A job type's label in `locale`: its own French label when an admin gave one, else the catalog's word."""
    if locale == "fr" and job_type.label_fr:
        return job_type.label_fr
    return translate(job_type.label)


def skills(session: Session) -> list[Skill]:
    return list(session.scalars(select(Skill).order_by(Skill.code)))


def holders(session: Session) -> dict[str, int]:
    """How many active technicians have each skill (a skill no one has books nothing)."""
    return dict(session.execute(
        select(technician_skill.c.skill_code, func.count())
        .join(Technician, Technician.id == technician_skill.c.technician_id)
        .where(Technician.active).group_by(technician_skill.c.skill_code)).all())


def job_types(session: Session) -> list[JobType]:
    return list(session.scalars(select(JobType).order_by(JobType.code)))


def symptoms(session: Session) -> list[Symptom]:
    return list(session.scalars(select(Symptom).order_by(Symptom.urgency, Symptom.code)))


def _code(session: Session, model: type, value: object, problems: dict) -> str | None:
    if not isinstance(value, str) or not CODE.match(value):
        problems["code"] = N_("The code is 2 to 40 lower-case letters, digits or underscores, e.g. brake_noise.")
    elif session.get(model, value) is not None:
        problems["code"] = Said(N_("The code %(code)s is taken."), code=repr(value))
    else:
        return value
    return None


GIVE = {"label": N_("Give the label (at most %(limit)s characters)."),
        "label_fr": N_("Give the label fr (at most %(limit)s characters).")}


def _label(data: dict, name: str, limit: int, problems: dict) -> str | None:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        problems[name] = Said(GIVE[name], limit=limit)
        return None
    return value.strip()


def _labels(data: dict, problems: dict, creating: bool, limit: int) -> dict:
    """An English label (required) and a French one (optional: the catalog may translate the English)."""
    values = {}
    if "label" in data or creating:
        values["label"] = _label(data, "label", limit, problems)
    if data.get("label_fr") in (None, ""):
        if "label_fr" in data:
            values["label_fr"] = None
    else:
        values["label_fr"] = _label(data, "label_fr", limit, problems)
    return values


def _skill_values(session: Session, data: dict, problems: dict, creating: bool) -> dict:
    return _labels(data, problems, creating, 80)


def _job_values(session: Session, data: dict, problems: dict, creating: bool) -> dict:
    values = _labels(data, problems, creating, 120)
    if "skill" in data or creating:
        if not isinstance(data.get("skill"), str) or session.get(Skill, data.get("skill")) is None:
            problems["skill"] = Said(N_("No skill %(skill)s: choose one of the skills technicians have."),
                                     skill=repr(data.get("skill")))
        values["skill_code"] = data.get("skill")
    if "duration_minutes" in data or creating:
        minutes = data.get("duration_minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 15 <= minutes <= MAX_DURATION \
                or minutes % 15:
            problems["duration_minutes"] = Said(N_("The duration is in minutes, a multiple of 15 from 15 to %(most)s."),
                                                most=MAX_DURATION)
        values["duration_minutes"] = minutes
    if "lift" in data or creating:
        if not isinstance(data.get("lift", False), bool):
            problems["lift"] = N_("lift is true or false.")
        values["needs_lift"] = data.get("lift", False)
    return values


def _symptom_values(session: Session, data: dict, problems: dict, creating: bool) -> dict:
    values = {}
    for name in ("label", "label_fr"):
        if name in data or creating:
            values[name] = _label(data, name, 160, problems)
    if "urgency" in data or creating:
        if data.get("urgency") not in URGENCIES:
            problems["urgency"] = Said(N_("The suggested urgency is one of %(urgencies)s."),
                                       urgencies=", ".join(URGENCIES))
        values["urgency"] = data.get("urgency")
    if "job_type" in data or creating:
        if not isinstance(data.get("job_type"), str) or session.get(JobType, data.get("job_type")) is None:
            problems["job_type"] = Said(N_("No job type %(job_type)s: choose one of the catalogue."),
                                        job_type=repr(data.get("job_type")))
        values["job_type_code"] = data.get("job_type")
    return values


def _unknown(data: dict, allowed: set[str]) -> dict[str, str]:
    return {f: Said(N_("%(field)s cannot be changed here (a code never changes)."), field=f)
            for f in sorted(set(data) - allowed)}


# entity: (model, its fields read from a body, its dict, the fields a change may give)
KINDS = {
    "skill": (Skill, _skill_values, skill_dict, {"label", "label_fr"}),
    "job_type": (JobType, _job_values, job_type_dict, {"label", "label_fr", "skill", "duration_minutes", "lift"}),
    "symptom": (Symptom, _symptom_values, symptom_dict, {"label", "label_fr", "urgency", "job_type"}),
}


def _same_labels(session: Session, model: type, values: dict, problems: dict, own: str | None = None) -> set[str]:
    """A label another row of the catalogue already reads as (accents, case and spaces aside): two choices of one
    list that read alike ("Climatisation" twice on a technician's skills). The fields so taken."""
    taken = set()
    for name in ("label", "label_fr"):
        if not values.get(name) or name in problems:
            continue
        same = next((row for row in session.scalars(select(model).where(getattr(model, name).is_not(None)))
                     if row.code != own and name_key(getattr(row, name)) == name_key(values[name])), None)
        if same is not None:
            problems[name] = Said(N_("%(label)s is already the label of %(code)s: two choices would read alike."),
                                  label=values[name], code=same.code)
            taken.add(name)
    return taken


def add(session: Session, actor: User, entity: str, data: dict, now: datetime):
    """A new skill, job type or symptom: saved whole or refused field by field."""
    audit.require_admin(actor)
    model, parse, as_dict, _ = KINDS[entity]
    problems: dict[str, str] = {}
    code = _code(session, model, data.get("code"), problems)
    taken = {"code"} if isinstance(problems.get("code"), Said) else set()
    values = parse(session, data, problems, creating=True)
    refuse_fields(problems, taken=taken | _same_labels(session, model, values, problems))
    row = model(code=code, **values)
    session.add(row)
    session.flush()
    audit.record(session, actor, entity, code, "created",
                 {k: (None, v) for k, v in as_dict(row).items() if k != "code"}, now)
    return row


def change(session: Session, actor: User, entity: str, row, data: dict, now: datetime):
    audit.require_admin(actor)
    _, parse, _, allowed = KINDS[entity]
    problems = _unknown(data, allowed)
    values = parse(session, data, problems, creating=False)
    refuse_fields(problems, taken=_same_labels(session, type(row), values, problems, own=row.code))
    changes = {NAMES.get(k, k): v for k, v in audit.apply(row, values).items()}
    if changes:
        session.flush()
        audit.record(session, actor, entity, row.code, "changed", changes, now)
    return row
