"""Opening a case from a call (operator) or a walk-in (reception), and reading it back."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.db import utcnow
from scheduler.errors import Conflict, Forbidden, Invalid, NotFound
from scheduler.models import (
    ACTIVE,
    GARAGE_ROLES,
    Appointment,
    Case,
    CaseEvent,
    Customer,
    Garage,
    Override,
    PlanPreview,
    Symptom,
    User,
    Vehicle,
)
from scheduler.models.case import name_key
from scheduler.services import boards, planning
from scheduler.services.booking import active_booking, lock_case
from scheduler.services.open_work import waits_on, waits_on_a_garage
from scheduler.services.outbox import LANGUAGES
from scheduler.texts import N_


def _text(data: dict, path: str, limit: int = 120, required: bool = True) -> str:
    node: object = data
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    if not required and (node is None or (isinstance(node, str) and not node.strip())):
        return ""
    if not required and not isinstance(node, str):  # a note of 42 was told it "is required"
        raise Invalid(N_("%(field)s is text, when given."), words={"field": path}, field=path)
    if not isinstance(node, str) or not node.strip():
        raise Invalid(N_("%(field)s is required (text)."), words={"field": path}, field=path)
    if len(node) > limit:
        raise Invalid(N_("%(field)s is longer than %(limit)s characters."), words={"field": path, "limit": limit},
                      field=path)
    return node.strip()


# What passes for an e-mail address wherever one is typed (the counter, the call-centre desk, the API): something
# before and after a single @, no spaces. Deliverability is the mail server's to say, not ours.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
# A walk-in left after closing is the next open day's work: looked for this far back (a summer closure).
LOOK_BACK_DAYS = 31


def _language(data: dict) -> str | None:
    """The language the customer's messages are written in (`customer.language`), when said: one the outbox writes."""
    customer = data.get("customer")
    language = customer.get("language") if isinstance(customer, dict) else None
    if language in (None, ""):
        return None
    if language not in LANGUAGES:
        raise Invalid(N_("customer.language is one of %(languages)s."), field="customer.language",
                      words={"languages": ", ".join(LANGUAGES)})
    return language


def is_email(text: str) -> bool:
    return EMAIL.fullmatch(text) is not None


def open_case(session: Session, actor: User, data: dict, now: datetime | None = None) -> Case:
    now = now or utcnow()
    symptom = session.get(Symptom, _text(data, "symptom", 40))
    if symptom is None:
        raise Invalid(N_("Unknown symptom %(symptom)s: see GET /api/v1/symptoms."),
                      words={"symptom": repr(data.get("symptom"))}, field="symptom")
    name, phone = _text(data, "customer.name"), _text(data, "customer.phone", 30)
    if not is_phone(phone):  # the number the call centre and the garage will call back on, and find them by
        raise Invalid(N_("customer.phone must be a phone number, e.g. +33 6 12 34 56 78."), field="customer.phone")
    email = _text(data, "customer.email", 200, required=False)
    if email and not is_email(email):
        raise Invalid(N_("customer.email is not an e-mail address."), field="customer.email")
    language = _language(data)
    plate, model = _text(data, "vehicle.plate", 20).upper(), _text(data, "vehicle.model", 80)
    if not is_plate(plate):
        raise Invalid(N_("vehicle.plate must be a registration plate: letters and digits, e.g. AB-123-CD."),
                      field="vehicle.plate")
    location = data.get("location")
    walk_in = actor.role == "reception"
    if walk_in and location is None:
        location = {"lat": actor.garage.lat, "lon": actor.garage.lon}
    if isinstance(location, dict) and "place" in location:  # a town, postcode or garage, as the caller says it
        from scheduler.services.places import find, several

        place = find(session, location["place"]) if isinstance(location["place"], str) else None
        if place is None and (choices := several(location["place"]) if isinstance(location["place"], str) else []):
            raise Invalid(N_("location.place %(place)s is more than one place: say which, e.g. %(places)s."),
                          field="location.place",
                          words={"place": repr(location["place"]), "places": ", ".join(c.name for c in choices[:3])})
        if place is None:
            raise Invalid(N_("location.place %(place)s is not a town, postcode or garage of the network's area."),
                          field="location.place", words={"place": repr(location["place"])})
        location = {"lat": place.lat, "lon": place.lon}
    if not isinstance(location, dict) or not all(
            isinstance(location.get(k), (int, float)) and not isinstance(location.get(k), bool) for k in ("lat", "lon")):
        raise Invalid(N_("location must be {lat, lon} in degrees."), field="location")
    if not (-90 <= location["lat"] <= 90 and -180 <= location["lon"] <= 180):
        raise Invalid(N_("location is out of range."), field="location")
    # The case's customer is who the user typed (the person calling or at the counter): a known car may be
    # someone else's, and what was typed is never discarded.
    customer = known_customer(session, name, phone) or Customer(name=name, phone=phone)
    if email:
        customer.email = email
    if language:  # a known customer keeps the language on file unless another is said
        customer.locale = language
    vehicle = vehicle_by_plate(session, plate)
    before = None
    if vehicle is None:
        vehicle = Vehicle(plate=plate, model=model, customer=customer)
    elif vehicle.model != model:  # the person with the car says what it is now; the timeline keeps what was stored
        before, vehicle.model = vehicle.model, model
    case = Case(urgency=symptom.urgency, job_type_code=symptom.job_type_code, symptom=symptom,
                customer=customer, vehicle=vehicle, lat=float(location["lat"]), lon=float(location["lon"]),
                note=_text(data, "note", 2000, required=False), channel="walk_in" if walk_in else "call_centre",
                garage_id=actor.garage_id if walk_in else None, opened_at=now, opened_by_id=actor.id)
    session.add(case)
    case.log("walk_in" if walk_in else "call", actor, now, symptom=symptom.code, plate=vehicle.plate,
             model=vehicle.model, **({"model_before": before} if before is not None else {}))
    session.flush()
    return case


def withdraw(session: Session, actor: User, case: Case, reason: str, now: datetime) -> Case:
    """A case closed without a booking: the walk-in at the counter left (its garage's reception), or the caller
    no longer needs one (the call centre), so it leaves the counter or the open work. Never a case with a
    booking (cancel the appointment instead: the customer is told), nor one a garage is still asked about or
    expects (a direct-line request open, a drive-in announced): that garage would answer for nothing."""
    if actor.role not in ("reception", "operator") or (actor.role == "reception" and case.garage_id != actor.garage_id):
        raise Forbidden(N_("Only the garage's reception (its walk-ins) or the call centre closes a case."))
    lock_case(session, case)  # a squeeze-in confirm racing it sees the case closed, or books before it is read
    booked = active_booking(case)
    if booked is not None and case.status not in ("done", "cancelled"):  # say who can end it, and how
        raise Conflict(N_("Case %(case)s is booked (%(garage)s, %(start)s): %(garage)s's reception cancels the "
                          "booking, and the customer is told; then the case can be closed."),
                       words={"case": case.id, "garage": booked.garage.name,
                              "start": booked.garage.local(booked.start_at)}, appointment=booked.id)
    if case.status != "open" or (
            actor.role == "reception" and case.channel != "walk_in"):
        raise Conflict(N_("Case %(case)s is %(status)s: only a case not booked yet is closed this way."),
                       words={"case": case.id, "status": case.status})
    if waits_on_a_garage(session, case, now):
        raise Conflict(N_("A garage is still asked about case %(case)s or expects the customer: withdraw that first."),
                       words={"case": case.id})
    case.status = "cancelled"
    case.log("withdrawn", actor, now, **({"reason": reason} if reason else {}))
    # its squeeze-in previews go with it: confirmed later, one would book the customer who left, moving others
    for preview in session.scalars(select(PlanPreview).where(PlanPreview.case_id == case.id,
                                                             PlanPreview.status == "open")):
        preview.status, preview.decided_at = "rejected", now
    session.flush()
    return case


def vehicle_by_plate(session: Session, plate: str) -> Vehicle | None:
    """The car with this plate, however it was spaced or cased when typed."""
    exact = session.scalar(select(Vehicle).where(Vehicle.plate == plate.strip().upper()))
    key = plate_key(plate)
    if exact is not None or not key:  # "🚗🚗🚗" has no key, yet it is the car typed before: a second one broke
        return exact                  # the unique plate (a 500)
    return session.scalar(select(Vehicle).where(_stripped(func.upper(Vehicle.plate), " -.") == key)
                          .order_by(Vehicle.id).limit(1))


def find_vehicle(session: Session, actor: User, plate: str) -> tuple[Vehicle, list[Case]] | None:
    """A known vehicle by its plate, with its latest cases the actor may see: the caller has been here before."""
    vehicle = vehicle_by_plate(session, plate) if isinstance(plate, str) else None
    if vehicle is None:
        return None
    latest = session.scalars(select(Case).where(Case.vehicle_id == vehicle.id)
                             .order_by(Case.opened_at.desc(), Case.id.desc()).limit(20))
    return vehicle, [c for c in latest if actor.can_see_garage(c.garage_id)][:5]


def bookings_ahead(session: Session, vehicle: Vehicle, now: datetime) -> list[Appointment]:
    """The car's bookings still to come or under way, at any garage, soonest first: a walk-in registered for
    it is most likely that booking's customer (here: to check in, not a second case and booking; elsewhere:
    that slot becomes a no-show unless someone cancels it). Which garage and when stay that garage's."""
    return list(session.scalars(select(Appointment).join(Case).where(
        Case.vehicle_id == vehicle.id, Appointment.status.in_(ACTIVE), Appointment.end_at > now)
        .order_by(Appointment.start_at)))


def at_counter(session: Session, garage: Garage, moment: datetime, vehicle: Vehicle | None = None) -> list[Case]:
    """Customers at the counter (walk-ins, arrived drive-ins) whose case is not booked yet, of today's work: came
    today, or after the garage closed on its last open day (a car left at 18:30 is tomorrow morning's); with
    `vehicle`, that car's: registered again, it would be a second case for the same customer waiting."""
    today = garage.today(moment)
    # the working day of a case opened after closing is the next open day: a long weekend or a summer closure back
    since, end = garage.day_bounds(today - timedelta(days=LOOK_BACK_DAYS))[0], garage.day_bounds(today)[1]
    query = select(Case).where(Case.garage_id == garage.id, Case.channel == "walk_in", Case.status == "open",
                               Case.opened_at >= since, Case.opened_at < end)
    if vehicle is not None:
        query = query.where(Case.vehicle_id == vehicle.id)
    found = session.scalars(query.order_by(Case.urgency, Case.opened_at))
    return [c for c in found if planning.working_day(garage, c.opened_at) >= today][:20]


def may_see_owner(actor: User, latest: list[Case]) -> bool:
    """A garage sees a car's owner only when the car has been to that garage: a plate is not a directory."""
    return actor.role not in ("reception", "workshop") or bool(latest)


def vehicle_dict(vehicle: Vehicle, latest: list[Case], actor: User) -> dict:
    owner = vehicle.customer if may_see_owner(actor, latest) else None
    return {"plate": vehicle.plate, "model": vehicle.model,
            "customer": {"name": owner.name, "phone": owner.phone} if owner else None,
            "cases": [{"id": c.id, "opened_at": c.opened_at.isoformat(), "urgency": c.urgency,
                       "job_type": c.job_type_code, "status": c.status, "garage": c.garage_id} for c in latest]}


def get_case(session: Session, actor: User, case_id: int, reading_at: datetime | None = None) -> Case:
    """The case, when the actor may act on it: a garage acts on its own cases. `reading_at`: a garage may also
    read a case its queue shows it at that moment (waiting on its answer, a drive-in expected there)."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(N_("No case %(id)s."), words={"id": case_id})
    if not actor.can_see_garage(case.garage_id) and not (
            reading_at is not None and waits_on(session, case, actor.garage_id, reading_at)):
        raise Forbidden(N_("This case belongs to another garage."))
    return case


def timeline(session: Session, case: Case, now: datetime) -> list[CaseEvent]:
    """The case's facts in time order, with the expiries the clock has decided but no write has stored yet."""
    from scheduler.services.direct_line import expiry_fact, for_case

    entries = list(case.events)
    entries += [CaseEvent(at=r.expires_at, kind="direct_line_expired", data=expiry_fact(r))
                for r in for_case(session, case) if r.status == "open" and r.status_at(now) == "expired"]
    return sorted(entries, key=lambda e: e.at)


def case_dict(session: Session, case: Case, now: datetime, describe: Callable[[CaseEvent], str]) -> dict:
    """The case as the API shows it; `describe` words each timeline fact in the reader's language."""
    overrides = session.scalars(select(Override).where(Override.case_id == case.id).order_by(Override.created_at))
    return {
        "id": case.id, "urgency": case.urgency, "job_type": case.job_type_code, "symptom": case.symptom_code,
        "customer": {"name": case.customer.name, "phone": case.customer.phone, "language": case.customer.locale},
        "vehicle": {"plate": case.vehicle.plate, "model": case.vehicle.model},
        "garage": case.garage_id, "status": case.status, "channel": case.channel, "note": case.note,
        "location": {"lat": case.lat, "lon": case.lon}, "opened_at": case.opened_at.isoformat(),
        "timeline": [{**e.to_dict(), "text": describe(e)} for e in timeline(session, case, now)],
        "appointments": [a.to_dict() for a in case.appointments],
        "overrides": [o.to_dict() for o in overrides],
    }



PLATE = re.compile(r"^[\w .\-]+$")


def is_plate(text: str) -> bool:
    """Letters and digits, two at least, with the spaces, dashes and dots plates are written with: the one reading
    of "a plate" ("!!!???" and "X" opened cases no search could find again)."""
    return bool(PLATE.match(text)) and "_" not in text and len(plate_key(text)) >= 2


def plate_key(text: str) -> str:
    """A plate as compared: letters and digits only, upper case (`rd447bp` is `RD-447-BP`)."""
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def phone_key(text: str) -> str:
    """A phone number as compared: its last nine digits (the French national number, whatever prefix was typed:
    `06 12 34 56 78`, `+33 6 12 34 56 78` and `0033612345678` are one number); fewer digits as they are."""
    digits = re.sub(r"\D", "", text)
    return digits[-9:]


def full_number(text: str) -> str:
    """A phone number whole, with its country: `06 12 34 56 78`, `+33 6 12 34 56 78` and `0033 6 12 34 56 78` are
    one number (33612345678), `+41 79 123 45 67` another, whatever its last nine digits share with a French one.
    The trunk zero written in brackets after a country code (`+33 (0)6 12 34 56 78`) is not dialled: left out."""
    digits = re.sub(r"\D", "", re.sub(r"\(\s*0\s*\)", "", text))
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0") and not text.strip().startswith("+"):
        return "33" + digits[1:]  # a national number: this network's country
    return digits


def _stripped(column, characters: str):
    for character in characters:
        column = func.replace(column, character, "")
    return column


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _phone_matches(key: str):
    return _stripped(Customer.phone, " .-+()/").like("%" + key)


PHONE = re.compile(r"^[\d\s+.\-()/]+$")
# Fewer digits than this is no number to call anyone back on, and none a search by phone looks for.
FEWEST_DIGITS = 6


def written_as_phone(text: str) -> bool:
    """Digits, with the spaces, dots, dashes, brackets and + people write phone numbers with: what a search by phone
    takes, the first digits typed too."""
    text = text.strip()
    return bool(PHONE.match(text)) and any(c.isdigit() for c in text)


def is_phone(text: str) -> bool:
    """Written as a phone number, with six digits at least: the one reading of "a phone number", for a case's
    customer, a garage and finding a customer by phone."""
    return written_as_phone(text) and len(re.sub(r"\D", "", text)) >= FEWEST_DIGITS


def known_customer(session: Session, name: str, phone: str) -> Customer | None:
    """The customer on file with this number and name, however each was written (`06 11 22 33 44` is
    `+33 6 11 22 33 44`, "jean testeur" is "Jean Testeur"): a returning customer is one customer, with their cars.
    The number is compared whole (full_number): a Swiss number sharing a French one's last nine digits is another
    person's."""
    number, name = full_number(phone), name_key(name)[:120]  # as the column keeps it
    found = session.scalars(select(Customer).where(_phone_matches(phone_key(phone)), Customer.name_key == name)
                            .order_by(Customer.id))
    return next((c for c in found if full_number(c.phone) == number), None)


def search(session: Session, actor: User, text: str, limit: int = 50, offset: int = 0) -> list[Case]:
    """Cases by case number, plate (any spacing or case), phone (any prefix or spacing) or customer name;
    newest first, within what the actor may see."""
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return []
    if len(text) > 120:
        raise Invalid(N_("q is longer than 120 characters."), field="q")
    found = []
    number = text.lstrip("#").strip()
    if number.isdecimal() and len(number) <= 9:
        found.append(Case.id == int(number))
    plate = plate_key(text)
    if len(plate) >= 3:
        found.append(Vehicle.id.in_(select(Vehicle.id).where(
            _stripped(func.upper(Vehicle.plate), " -.").like(_like(plate), escape="\\"))))
    if is_phone(text):
        found.append(Customer.id.in_(select(Customer.id).where(_phone_matches(phone_key(text)))))
    words = name_key(text).split()
    if len(text) >= 2 and words:  # every word somewhere in the name, accents and order aside: "guerin emilie"
        found.append(and_(*(Customer.name_key.like(_like(word), escape="\\") for word in words)))
    if not found:  # "%", one emoji: nothing to look for (an empty OR listed the latest 50 cases as if found)
        return []
    query = (select(Case).join(Customer, Case.customer_id == Customer.id).join(Vehicle, Case.vehicle_id == Vehicle.id)
             .where(or_(*found)).order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit).offset(offset))
    if actor.role in GARAGE_ROLES:
        query = query.where(Case.garage_id == actor.garage_id)
    return list(session.scalars(query))


def recent(session: Session, actor: User, limit: int = 50, offset: int = 0) -> list[Case]:
    """The latest cases the actor may see (a garage's staff: their garage's), newest first: the list before
    anything is searched for."""
    return boards.recent_cases(session, limit, actor.garage_id if actor.role in GARAGE_ROLES else None, offset)


def customers_by_phone(session: Session, actor: User, phone: str, limit: int = 10) -> list[Customer]:
    """Who calls from this number, and their cars: telephony gives the phone before anything else.

    A garage sees only customers whose cars have been to it: a phone number is not a directory.
    """
    if not isinstance(phone, str) or len(phone) > 30 or not written_as_phone(phone):
        raise Invalid(N_("phone must be a phone number, e.g. +33 6 12 34 56 78."), field="phone")
    if not is_phone(phone):  # the first digits typed: nobody's number yet
        return []
    key = phone_key(phone)
    query = select(Customer).where(_phone_matches(key)).options(selectinload(Customer.vehicles))
    if actor.role in GARAGE_ROLES:
        query = query.where(Customer.id.in_(select(Case.customer_id).where(Case.garage_id == actor.garage_id)))
    return list(session.scalars(query.order_by(Customer.id.desc()).limit(limit)))


def cars_of(session: Session, customer: Customer) -> list[Vehicle]:
    """The customer's cars: those they own and those they called about, most recent call first."""
    called = session.scalars(select(Vehicle).join(Case, Case.vehicle_id == Vehicle.id)
                             .where(Case.customer_id == customer.id).order_by(Case.opened_at.desc()))
    return list(dict.fromkeys([*called, *customer.vehicles]))


def customer_dict(session: Session, customer: Customer) -> dict:
    return {"id": customer.id, "name": customer.name, "phone": customer.phone, "language": customer.locale,
            "vehicles": [{"plate": v.plate, "model": v.model} for v in cars_of(session, customer)]}
