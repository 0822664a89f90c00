from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from scheduler.errors import Forbidden, Invalid, NotFound
from scheduler.services import booking, cases, drive_in, open_work, planning, stranded, urgency
from scheduler.texts import N_
from web import shown
from web.api import bp, json_body, require
from web.api.paging import paged
from web.clock import now
from web.extensions import db
from web.late_reasons import worded


def text_field(data: dict, name: str, limit: int = 1000) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(N_("%(field)s must be text."), words={"field": name}, field=name)
    if len(value) > limit:
        raise Invalid(N_("%(field)s is longer than %(limit)s characters."), words={"field": name, "limit": limit},
                      field=name)
    return value.strip()


def time_field(data: dict, name: str, required: bool = True) -> datetime | None:
    value = data.get(name)
    if value is None and not required:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise Invalid(N_("%(field)s must be an ISO 8601 time with a UTC offset, e.g. 2026-11-24T14:15:00+01:00."),
                      words={"field": name}, field=name)
    if not 2000 <= moment.year <= 2100:  # nothing is booked outside; and such times overflow conversions
        raise Invalid(N_("%(field)s must be a time between the years 2000 and 2100."), words={"field": name}, field=name)
    # in UTC as stored: what a write answers reads as what a later read of it does, whatever offset was sent
    return moment.astimezone(UTC)


def id_field(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise Invalid(N_("%(field)s is required (its id, as text)."), words={"field": name}, field=name)
    return value


def case_body(case) -> dict:
    """The case as the API shows it, its timeline worded in the reader's language."""
    from flask_babel import get_locale

    from web.timeline import Names, describe

    moment = now()
    events = cases.timeline(db.session, case, moment)
    names, locale = Names(db.session, events), str(get_locale() or "en")
    return cases.case_dict(db.session, case, moment, lambda e: describe(e, names, locale))


@bp.get("/v1/stranded")
def stranded_list():
    """The call centre's bookings with no one to do them (an absence, a closed day, a skill taken away): the
    desk's list, each with its customer to call."""
    require("operator", "admin")
    return jsonify([{**a.to_dict(), "urgency": a.case.urgency, "stranded_at": s.since.isoformat(),
                     "customer": {"name": a.case.customer.name, "phone": a.case.customer.phone},
                     "vehicle": {"plate": a.case.vehicle.plate, "model": a.case.vehicle.model}}
                    for s in stranded.bookings(db.session, now()) for a in [s.appointment]])


@bp.post("/v1/cases")
def case_open():
    require("operator", "reception")
    case = cases.open_case(db.session, current_user, json_body(), now())
    return jsonify(case_body(case)), 201


@bp.get("/v1/cases")
def case_list():
    """Find cases (`q`: case number, plate, phone or name), list the open work (`queue=1`), or the latest; newest
    first, `limit` (50 unless said) from `offset` on, with a `Link` to the next page when there is one."""
    require("operator", "reception", "workshop")
    moment = now()
    if request.args.get("queue") not in (None, "", "0"):
        if request.args.get("queue") != "1":
            raise Invalid(N_("queue must be 1 (the open work) or absent."), field="queue")
        return jsonify([{**case_body(item.case), "queue": item.to_dict(moment)}
                        for item in open_work.queue(db.session, current_user, moment)])
    text = request.args.get("q")
    if text is None or not text.strip():  # a list endpoint like the others: the latest cases in scope
        return paged(lambda limit, offset: cases.recent(db.session, current_user, limit, offset), case_body, 50)
    return paged(lambda limit, offset: cases.search(db.session, current_user, text, limit, offset), case_body, 50)


@bp.get("/v1/customers")
def customer_list():
    require("operator", "reception")
    phone = request.args.get("phone")
    if phone is None:
        raise Invalid(N_("Give ?phone= the caller's number."), field="phone")
    return jsonify([cases.customer_dict(db.session, c) for c in cases.customers_by_phone(db.session, current_user, phone)])


@bp.get("/v1/vehicles/<plate>")
def vehicle_read(plate: str):
    require("operator", "reception")
    found = cases.find_vehicle(db.session, current_user, plate)
    if found is None:
        raise NotFound(N_("No vehicle with plate %(plate)s yet: opening a case creates it."), words={"plate": repr(plate)})
    return jsonify(cases.vehicle_dict(*found, current_user))


@bp.get("/v1/cases/<int:case_id>")
def case_read(case_id: int):
    require()
    return jsonify(case_body(cases.get_case(db.session, current_user, case_id, reading_at=now())))


@bp.get("/v1/cases/<int:case_id>/offers")
def case_offers(case_id: int):
    require("operator", "reception")
    moment = now()
    # the garage a case waits on (put on its direct line, a drive-in expected) weighs its free times too
    case = cases.get_case(db.session, current_user, case_id, reading_at=moment)
    booking.refuse_closed(case)  # offers no booking could take
    found = planning.desk_offers(db.session, current_user, case, moment)
    body = worded(found.to_dict())
    if not found.offers and not found.degraded:  # an empty list said nothing of why, as the case page does
        body["none_because"] = {"code": "no_room_within_reach",
                                "message": _("No garage within reach has room in the horizon.")}
    # handed back by the booking of one of them, which then need not search again (web/shown.py)
    return jsonify({**body, "offers_token": shown.seal(found, case.id, current_user.id, moment)})


@bp.post("/v1/cases/<int:case_id>/appointments")
def case_book(case_id: int):
    require("operator", "reception")
    data = json_body()
    case = cases.get_case(db.session, current_user, case_id)
    replaces = data.get("replaces")
    if replaces is not None and (not isinstance(replaces, int) or isinstance(replaces, bool)):
        raise Invalid(N_("replaces must be the id (a number) of the case's booking this one replaces."),
                      field="replaces")
    source = data.get("source", "offer")
    if source not in ("offer", "typed"):
        raise Invalid(N_("source must be offer (an offer shown) or typed (a time a person asked for)."),
                      field="source")
    overbook = data.get("overbook")
    if overbook is not None and not isinstance(overbook, bool):
        raise Invalid(N_("%(path)s must be true or false."), words={"path": "overbook"}, field="overbook")
    if overbook and current_user.role != "reception":  # the garage consents to its own overbooking (DESIGN: levers)
        raise Forbidden(N_("Only the garage's reception overbooks its own technicians; the call centre overbooks "
                           "where the policy allows it."))
    appointment, _made = booking.book_for_case(db.session, current_user, case, id_field(data, "garage"),
                                               id_field(data, "technician"), time_field(data, "start"),
                                               text_field(data, "reason"), now(), replaces=replaces,
                                               typed=source == "typed", repeat=False,
                                               # reception's consent is its own tick, as on its page (unticked:
                                               # no), whatever the policy lets the call centre do
                                               overbook=bool(overbook) if current_user.role == "reception"
                                               else None,
                                               shown=shown.unseal(data.get("offers_token"), case, current_user,
                                                                  now()))
    return jsonify(appointment.to_dict()), 201


@bp.post("/v1/cases/<int:case_id>/urgency")
def case_urgency(case_id: int):
    require("operator", "reception")
    data = json_body()
    case = cases.get_case(db.session, current_user, case_id)
    urgency.change_urgency(db.session, current_user, case, data.get("urgency"), text_field(data, "reason"), now())
    return jsonify(case_body(case))


@bp.post("/v1/cases/<int:case_id>/withdraw")
def case_withdraw(case_id: int):
    require("operator", "reception")
    data = json_body() if request.data else {}
    case = cases.get_case(db.session, current_user, case_id)
    cases.withdraw(db.session, current_user, case, text_field(data, "reason"), now())
    return jsonify(case_body(case))


@bp.post("/v1/cases/<int:case_id>/drive-in")
def case_drive_in(case_id: int):
    require("operator")
    data = json_body()
    case = cases.get_case(db.session, current_user, case_id)
    garage = data.get("garage")
    if garage is not None and not isinstance(garage, str):
        raise Invalid(N_("garage must be a garage id."), field="garage")
    confirmed = data.get("confirm", False)
    if not isinstance(confirmed, bool):
        raise Invalid(N_("%(path)s must be true or false."), words={"path": "confirm"}, field="confirm")
    announced = drive_in.announce(db.session, current_user, case, now(), garage,
                                  time_field(data, "expected_at", required=False), text_field(data, "note"),
                                  confirmed=confirmed)
    body = announced.to_dict()
    return jsonify(body), 201
