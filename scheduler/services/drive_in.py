"""Announcing a drive-in: the customer heads for a garage (the nearest by default), whose reception expects them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import Conflict, Invalid
from scheduler.models import Case, DirectLineRequest, DriveIn, Garage, User
from scheduler.services import overrides, policies
from scheduler.services.booking import lock_case, note_offers_shown, refuse_booked_within_target, refuse_closed
from scheduler.services.planning import arrival, case_offers, case_target, nearest_garages, open_from
from scheduler.texts import N_


# How long after its expected time a drive-in stays on reception's board (web/reception lists those).
STILL_EXPECTED = timedelta(hours=2)
# How much earlier than "now", or than the drive there allows, an expected time typed by hand may be: a rounded time
SLACK = timedelta(minutes=15)


def announce(session: Session, actor: User, case: Case, now: datetime, garage_id: str | None = None,
             expected_at: datetime | None = None, note: str = "", confirmed: bool = False) -> DriveIn:
    lock_case(session, case)  # two announcements at once are one
    refuse_closed(case)
    refuse_booked_within_target(case, case_target(session, case, now))
    if not isinstance(note, str) or len(note) > 500:
        raise Invalid(N_("note must be text of at most 500 characters."), field="note")
    if case.lat is None:
        raise Invalid(N_("The case has no location to find the nearest garage from."), field="location")
    nearest = nearest_garages(session, case.lat, case.lon, now)
    if garage_id is None:
        garage, km = nearest[0]
    else:
        garage, km = next(((g, d) for g, d in nearest if g.id == garage_id), (None, 0.0))
        if garage is None:
            raise Invalid(N_("No garage %(garage)s: see GET /api/v1/garages."), words={"garage": repr(garage_id)},
                          field="garage")
    declined = session.scalar(select(DirectLineRequest).where(
        DirectLineRequest.case_id == case.id, DirectLineRequest.garage_id == garage.id,
        DirectLineRequest.status == "declined"))
    if declined is not None and not confirmed:
        raise Conflict(N_("%(garage)s declined this case on the direct line (%(answer)s): confirm to send the customer "
                          "there anyway."), words={"garage": garage.name, "answer": declined.answer},
                       declined=declined.id, confirm_required=True)
    # one the garage still shows (reception lists those expected in the last two hours): an older one never came,
    # and the customer calling back is announced again
    already = session.scalar(select(DriveIn).where(DriveIn.case_id == case.id, DriveIn.garage_id == garage.id,
                                                   DriveIn.status == "expected",
                                                   DriveIn.expected_at >= now - STILL_EXPECTED))
    if already is not None:  # the garage would see the same car coming twice
        raise Conflict(N_("%(garage)s already expects this customer (announced %(when)s)."),
                       words={"garage": garage.name, "when": garage.local(already.announced_at)},
                       drive_in=already.id)
    policy = policies.in_force(session, now)
    if expected_at is None:
        # a garage that is closed on arrival expects the car when it opens
        expected_at = open_from(garage, arrival(now, km, policy))
    elif expected_at < now - SLACK or expected_at > now + timedelta(days=1):
        raise Invalid(N_("expected_at must be within the next 24 hours."), field="expected_at")
    elif confirmed:
        pass  # the customer says when they will be there: the person who heard it confirmed it
    elif expected_at < (there := arrival(now, km, policy)) - SLACK:
        raise Invalid(N_("%(km)s km from %(garage)s, the customer can be there by %(when)s at the earliest (confirm "
                         "to announce the time they gave)."),
                      field="expected_at", words={"km": round(km, 1), "garage": garage.name, "when": garage.local(there)})
    elif (opens := open_from(garage, expected_at + SLACK)) > expected_at + SLACK:  # at the gate before it opens: fine
        raise Invalid(N_("%(garage)s is closed then: it opens %(opens)s (confirm to announce the time anyway)."),
                      field="expected_at", words={"garage": garage.name, "opens": garage.local(opens)})
    # the customer heads for this garage now: one that expected them before no longer does (both garages expected
    # the same car, and the queue showed only the first)
    for before in session.scalars(select(DriveIn).where(DriveIn.case_id == case.id, DriveIn.status == "expected")):
        before.status = "redirected"
        case.log("drive_in_redirected", actor, now, garage=before.garage_id, drive_in=before.id, to=garage.id)
    # in UTC, as every time the API answers (open_from gives the garage's local time)
    expected_at = expected_at.astimezone(UTC).replace(microsecond=0)
    drive_in = DriveIn(case=case, garage=garage, expected_at=expected_at, note=note, announced_at=now,
                       announced_by_id=actor.id)
    session.add(drive_in)
    found = case_offers(session, case, now, policy)
    note_offers_shown(case, found, now)
    overrides.record(session, actor, case, "drive_in", note or overrides.DRIVE_IN_ANNOUNCED,
                     found.rule, policy, now, garage_id=garage.id)
    case.log("drive_in", actor, now, garage=garage.id, expected_at=drive_in.expected_at.isoformat())
    session.flush()
    return drive_in


def expected(session: Session, garage: Garage, since: datetime) -> list[DriveIn]:
    return list(session.scalars(select(DriveIn).where(DriveIn.garage_id == garage.id, DriveIn.status == "expected",
                                                      DriveIn.expected_at >= since).order_by(DriveIn.expected_at)))


def for_case(session: Session, case: Case) -> list[DriveIn]:
    """The case's drive-ins that say where it stands: expected, or arrived and waiting at the counter (once the
    case is booked or closed, its booking or its end says it), oldest first."""
    found = session.scalars(select(DriveIn).where(DriveIn.case_id == case.id).order_by(DriveIn.announced_at,
                                                                                       DriveIn.id))
    return [d for d in found if d.status == "expected" or (d.status == "arrived" and case.status == "open")]
