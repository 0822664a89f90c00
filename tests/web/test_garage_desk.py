"""The garage desk through the API: walk-ins squeezed into today with a preview, the job flow, the outbox."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo
from html import unescape

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from scheduler.models import ACTIVE, Absence, Appointment, Garage, Message, Override, PlanPreview, Policy, Technician
from tests.conftest import CLOCK_NOW
from tests.web.story import footprint
from web.extensions import db

WALK_IN = {"customer": {"name": "Nadia Kaci", "phone": "+33 6 70 00 00 01", "email": "nadia.kaci@example.fr"},
           "vehicle": {"plate": "WI-001-KC", "model": "Renault Clio"}, "symptom": "engine_fault_stop"}


def walk_in(auth, garage: str = "lyon-07", **changes) -> dict:
    auth.login(f"reception-{garage}")
    made = auth.post("/api/v1/cases", json={**WALK_IN, **changes})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def preview(auth, case_id: int, garage: str = "lyon-07"):
    return auth.post(f"/api/v1/cases/{case_id}/squeeze", json={"garage": garage})


def test_a_squeeze_moves_non_urgent_work_only(app, client, auth):
    """DESIGN: a squeeze fits the walk-in "by moving non-urgent, not-started work". A P1's booking was moved 30
    minutes to fit another P1 in: an immobilised car stays where people booked it."""
    from scheduler.models import Case

    first = preview(auth, walk_in(auth)["id"]).get_json()
    moved = [m["appointment"] for m in first["moves"]]
    assert moved, "Lyon 7e is full today: fitting a P1 in moves someone"
    with app.app_context():
        for appointment_id in moved:  # the same work, but urgent: a P1's car
            db.session.get(Appointment, appointment_id).case.urgency = "P1"
        db.session.commit()
    again = preview(auth, walk_in(auth, vehicle={"plate": "WI-002-KC", "model": "Renault Clio"})["id"]).get_json()
    assert again["fits"], "there is still a way in, around the urgent work"
    assert not set(moved) & {m["appointment"] for m in again["moves"]}
    with app.app_context():
        urgent = {a.id for a in db.session.scalars(select(Appointment).join(Case).where(Case.urgency == "P1"))}
    assert not urgent & {m["appointment"] for m in again["moves"]}


def test_a_squeeze_that_moves_a_booking_retires_what_was_still_to_go_about_it(app, client, auth):
    """A moved customer whose confirmation (or a delay notice from the old time) had not gone yet was sent both:
    the old time and the move, two calendar files that disagree."""
    from scheduler.services import outbox

    proposal = preview(auth, walk_in(auth)["id"]).get_json()
    told = [m for m in proposal["moves"] if m["told"]]
    assert told, "the preview moves a customer it tells"
    with app.app_context():
        moving = db.session.get(Appointment, told[0]["appointment"])
        queued = outbox.queue(db.session, "booked", moving, CLOCK_NOW)
        db.session.commit()
        stale = queued.id
    assert auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={"reason": "engine fault"}).status_code == 200
    with app.app_context():
        messages = {m.id: (m.kind, m.status) for m in db.session.scalars(
            select(Message).where(Message.appointment_id == told[0]["appointment"]))}
        db.session.rollback()
    assert messages.pop(stale) == ("booked", "failed")
    assert list(messages.values()) == [("moved", "queued")]


def moments(app) -> dict:
    """Where every active appointment of the day is: a preview must leave this as it was."""
    with app.app_context():
        rows = db.session.execute(select(Appointment.id, Appointment.technician_id, Appointment.start_at)
                                  .where(Appointment.status.in_(("booked", "checked_in", "in_progress")))).all()
        return {r.id: (r.technician_id, r.start_at) for r in rows}


def test_a_walk_in_is_previewed_then_squeezed_in_and_the_outcome_is_judged_from_facts(app, client, auth):
    case = walk_in(auth)
    assert (case["urgency"], case["garage"], case["channel"]) == ("P1", "lyon-07", "walk_in")
    before = moments(app)
    shown = preview(auth, case["id"])
    assert shown.status_code == 200, shown.get_json()
    proposal = shown.get_json()
    assert proposal["fits"] and proposal["placement"]["garage"] == "lyon-07"
    with app.app_context():
        max_moves = db.session.scalar(select(Policy.max_moves).order_by(Policy.version.desc()).limit(1))
    assert 0 < len(proposal["moves"]) <= max_moves, "Lyon 7e is full today: fitting a P1 in moves someone"
    assert moments(app) == before, "a preview changes nothing"
    assert proposal["rule_offer"] is not None and proposal["saved_minutes"] > 0

    done = auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={"reason": "engine fault warning"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    placed = body["appointment"]
    assert (placed["channel"], placed["pinned"], placed["technician"]) == \
        ("walk_in", True, proposal["placement"]["technician"])
    assert placed["start"] == proposal["placement"]["start"]
    # at the counter already: checked in with the booking, never offered "absent" nor sent a late notice
    assert placed["status"] == "checked_in", placed
    kinds = [e["kind"] for e in auth.client.get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]]
    assert kinds.index("booking") < kinds.index("check_in"), "booked, then checked in, as it happened"
    absent = auth.post(f"/api/v1/appointments/{placed['id']}/no-show", json={})
    assert absent.status_code == 409, absent.get_json()
    after = moments(app)
    for move in proposal["moves"]:
        old_tech, old_start = before[move["appointment"]]
        assert (old_tech, old_start) == (move["technician_from"], datetime.fromisoformat(move["from"]))
        assert after[move["appointment"]] == (move["technician_to"], datetime.fromisoformat(move["to"]))
    untouched = set(before) - {m["appointment"] for m in proposal["moves"]}
    assert all(after[i] == before[i] for i in untouched), "only the previewed moves happen"

    with app.app_context():
        (override,) = db.session.scalars(select(Override).where(Override.case_id == case["id"]))
        assert override.kind == "walk_in" and override.reason == "engine fault warning"
        assert override.rule_start == datetime.fromisoformat(proposal["rule_offer"]["start"])
        assert override.knock_on_minutes == proposal["delay_minutes"] == \
            sum(max(0, m["delay_minutes"]) for m in proposal["moves"])
        assert len(override.moved) == len(proposal["moves"])
        told = db.session.scalars(select(Message).where(Message.appointment_id.in_(
            [placed["id"], *[m["appointment"] for m in proposal["moves"]]]))).all()
        # a customer is told of a new time, not of another technician at the same time
        retimed = [m for m in proposal["moves"] if m["from"] != m["to"]]
        assert sorted(m.kind for m in told) == ["booked"] + ["moved"] * len(retimed)
        assert {m.appointment_id for m in told if m.kind == "moved"} == {m["appointment"] for m in retimed}
        booked = next(m for m in told if m.kind == "booked")
        assert booked.recipient == "nadia.kaci@example.fr" and "rendez-vous" in booked.subject.lower()
        event = Calendar.from_ical(booked.ics).walk("VEVENT")[0]
        assert event.decoded("dtstart") == datetime.fromisoformat(placed["start"])
        feedback_path = "/feedback/" + booked.body.split("/feedback/")[1].split()[0]
    customer = app.test_client()  # the link works for the customer, who has no account
    assert customer.get(feedback_path).status_code == 200

    auth.login("workshop-lyon-07")
    started_at = datetime.fromisoformat(placed["start"]) - timedelta(minutes=5)
    app.config["CLOCK"] = lambda: started_at  # the foreman takes the car a little early
    assert auth.post(f"/api/v1/appointments/{placed['id']}/start").status_code == 200
    app.config["CLOCK"] = lambda: started_at + timedelta(minutes=70)
    finished = auth.post(f"/api/v1/appointments/{placed['id']}/finish", json={"note": "rodent ate the wiring"})
    assert finished.status_code == 200 and finished.get_json()["status"] == "done"
    auth.login("planner")
    (judged,) = [o for o in client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]]
    rule_start = datetime.fromisoformat(proposal["rule_offer"]["start"])
    assert judged["actual_start"] == started_at.isoformat()
    assert judged["gain_minutes"] == round((rule_start - started_at).total_seconds() / 60)
    assert judged["verdict"] == "beat"


def test_a_stale_preview_is_refused_with_a_fresh_one_and_nothing_applied(app, client, auth):
    case = walk_in(auth)
    first = preview(auth, case["id"]).get_json()
    with app.app_context():  # meanwhile the plan changes: a customer of today cancels
        other = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked",
            Appointment.start_at > CLOCK_NOW).order_by(Appointment.start_at).limit(1))
        other_id = other.id
    assert auth.post(f"/api/v1/appointments/{other_id}/cancel", json={"reason": "called off"}).status_code == 200
    before, appointments = footprint(app), moments(app)
    stale = client.post(f"/api/v1/squeeze/{first['id']}/confirm", json={},
                        headers={**auth.headers(), "Accept-Language": "fr-FR"})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "plan_changed"
    assert "Le planning a changé" in stale.get_json()["error"]["message"], "worded in the reader's language"
    fresh = stale.get_json()["error"]["details"]["preview"]
    assert fresh["id"] != first["id"] and fresh["status"] == "open"
    assert footprint(app) == before and moments(app) == appointments, "nothing applied"
    assert client.get(f"/api/v1/squeeze/{first['id']}").get_json()["status"] == "superseded"
    assert auth.post(f"/api/v1/squeeze/{first['id']}/confirm", json={}).status_code == 409
    applied = auth.post(f"/api/v1/squeeze/{fresh['id']}/confirm", json={})
    assert applied.status_code == 200, applied.get_json()


def test_a_stale_preview_confirmed_on_its_page_keeps_the_reason_typed_for_the_fresh_one(app, client, auth):
    """A probe: the reason typed with a confirm that found the plan changed was lost on the fresh preview."""
    case = walk_in(auth)
    first = preview(auth, case["id"]).get_json()
    with app.app_context():  # meanwhile the plan changes: a customer of today cancels
        other_id = db.session.scalar(select(Appointment.id).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked",
            Appointment.start_at > CLOCK_NOW).order_by(Appointment.start_at).limit(1))
    assert auth.post(f"/api/v1/appointments/{other_id}/cancel", json={"reason": "called off"}).status_code == 200
    stale = auth.form(f"/garages/lyon-07/squeeze/{first['id']}/confirm", {"reason": "immobilised, towed in"})
    assert stale.status_code == 302
    fresh = client.get(stale.headers["Location"]).get_data(as_text=True)
    assert "The plan changed since this preview" in fresh
    assert re.search(r'<input name="reason"[^>]*value="immobilised, towed in"', fresh), "the reason typed, kept"
    fresh_id = int(stale.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert auth.form(f"/garages/lyon-07/squeeze/{fresh_id}/confirm", {"reason": "immobilised, towed in"}
                     ).status_code == 302
    assert client.get(f"/api/v1/squeeze/{fresh_id}").get_json()["status"] == "confirmed"


def test_pinned_and_started_work_is_never_moved(app, client, auth):
    case = walk_in(auth)
    start, end = CLOCK_NOW, CLOCK_NOW + timedelta(hours=14)
    with app.app_context():  # everything of the day is pinned or started: nothing may move
        for a in db.session.scalars(select(Appointment).where(
                Appointment.garage_id == "lyon-07", Appointment.status == "booked",
                Appointment.start_at < end, Appointment.end_at > start)):
            a.pinned = True
        db.session.commit()
    proposal = preview(auth, case["id"]).get_json()
    assert proposal["moves"] == []


def test_a_squeeze_that_moves_nobody_says_so_once(app, client, auth):
    with app.app_context():  # a quiet day: nothing booked at Lyon 7e from now on
        for a in db.session.scalars(select(Appointment).where(
                Appointment.garage_id == "lyon-07", Appointment.status == "booked", Appointment.start_at >= CLOCK_NOW)):
            a.status = "cancelled"
        db.session.commit()
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    assert proposal["placement"] is not None and proposal["moves"] == []
    page = client.get(f"/garages/lyon-07/squeeze/{proposal['id']}").get_data(as_text=True)
    assert "Nobody else moves." in page and "0 appointments move" not in page  # said once, not counted as nought


def test_a_walk_in_that_cannot_fit_today_says_why_and_what_comes_next(app, client, auth):
    with app.app_context():  # every diagnostics technician of Lyon 7e is off today
        today = CLOCK_NOW.date()
        for t in db.session.scalars(select(Technician).where(Technician.garage_id == "lyon-07")):
            if "diagnostics" in t.skill_codes:
                db.session.add(Absence(technician=t, first_day=today, last_day=today, reason="training"))
        db.session.commit()
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    assert not proposal["fits"] and proposal["placement"] is None and proposal["unplaced"] == [case["id"]]
    page = client.get(f"/garages/lyon-07/squeeze/{proposal['id']}").get_data(as_text=True)
    assert "No place today." in page and "No qualified technician is on shift" in page
    assert "Here, first free slot" in page or "can take it today" in page
    assert "works here that day" in page and 'name="technician"' not in page, "no one off today is offered by hand"
    refused = auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (422, "nothing_fits")
    # the customer can come back at the first free slot here: booked from the preview in one action
    form = re.search(r'<form[^>]*id="book-next">.*?</form>', page, re.S).group(0)
    slot = unescape(re.search(r'name="slot" value="([^"]+)"', form).group(1))
    technician, start = slot.split("|")
    # the refusal says "take the next options": its details carry them, as the page shows them
    options = refused.get_json()["error"]["details"]
    assert options["no_fit"] == "no_technician" and options["next_here"]["technician"] == technician
    assert datetime.fromisoformat(options["next_here"]["start"]) == datetime.fromisoformat(start)
    booked = auth.form(f"/garages/lyon-07/cases/{case['id']}/place",
                       {"preview": str(proposal["id"]), "slot": slot, "reason": "comes back then"})
    assert booked.status_code == 302 and "/board" in booked.headers["Location"]
    (appointment,) = client.get(f"/api/v1/cases/{case['id']}").get_json()["appointments"]
    assert (appointment["technician"], appointment["status"]) == (technician, "booked")
    assert datetime.fromisoformat(appointment["start"]) == datetime.fromisoformat(start) > CLOCK_NOW + timedelta(hours=12)


def test_placing_by_hand_offers_only_the_qualified_technicians_on_shift_that_day(app, client, auth):
    with app.app_context():
        qualified = sorted(t.id for t in db.session.scalars(select(Technician).where(
            Technician.garage_id == "lyon-07", Technician.active.is_(True))) if "diagnostics" in t.skill_codes)
        off = db.session.get(Technician, qualified[0])
        db.session.add(Absence(technician=off, first_day=CLOCK_NOW.date(), last_day=CLOCK_NOW.date(), reason="sick"))
        db.session.commit()
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    page = client.get(f"/garages/lyon-07/squeeze/{proposal['id']}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/garages/lyon-07/cases/\d+/place">.*?</form>', page,
                     re.DOTALL).group(0)
    offered = re.findall(r'<option value="([^"]+)"', form)
    assert qualified[0] not in offered and offered and set(offered) <= set(qualified[1:])


def _one_booked_today(app, garage: str = "lyon-07") -> int:
    with app.app_context():
        return db.session.scalar(select(Appointment.id).where(
            Appointment.garage_id == garage, Appointment.status == "booked", Appointment.start_at > CLOCK_NOW)
            .order_by(Appointment.start_at).limit(1))


def test_only_an_e_mail_says_the_appointment_is_attached(app):
    """A customer reception phones is read the message: it must not promise a calendar file they never get."""
    from scheduler.services import outbox

    booked = _one_booked_today(app)
    with app.app_context():
        appointment = db.session.get(Appointment, booked)
        customer = appointment.case.customer
        customer.locale = "fr"
        said = {}
        for email in (None, "client@example.fr"):
            customer.email = email
            for kind in ("booked", "moved"):
                said[outbox.how_told(customer), kind] = outbox.queue(
                    db.session, kind, appointment, CLOCK_NOW, before=appointment.start_at - timedelta(hours=1)).body
        db.session.rollback()
    assert "joint" not in said["phone", "booked"] and "joint" not in said["phone", "moved"]
    assert "Le rendez-vous est joint pour votre agenda." in said["email", "booked"]
    assert "Le rendez-vous mis à jour est joint." in said["email", "moved"]


def test_the_job_flow_refuses_steps_from_the_wrong_status(app, client, auth):
    booked = _one_booked_today(app)
    auth.login("reception-lyon-07")
    # API.md: cancel takes no body; a reason given goes into the case's timeline
    assert auth.post(f"/api/v1/appointments/{booked}/cancel", json={"reason": "customer called"}).status_code == 200
    before = footprint(app)
    for action in ("check-in", "start", "finish", "no-show", "cancel"):
        refused = auth.post(f"/api/v1/appointments/{booked}/{action}", json={"reason": "again"})
        assert refused.status_code == 409, action
    assert footprint(app) == before
    assert auth.post(f"/api/v1/appointments/{booked}/teleport").status_code == 404
    with app.app_context():
        told = db.session.scalars(select(Message).where(Message.appointment_id == booked)).all()
        assert [m.kind for m in told] == ["cancelled"]

    auth.login("workshop-lyon-07")
    job = _one_booked_today(app)
    for action, status in (("start", "in_progress"), ("finish", "done")):
        assert auth.post(f"/api/v1/appointments/{job}/{action}").get_json()["status"] == status
    for action in ("check-in", "start", "finish", "no-show", "cancel"):
        assert auth.post(f"/api/v1/appointments/{job}/{action}", json={"reason": "x"}).status_code == 409
    # said in the reader's words, not the API's: a second tab's "start" on a finished job
    french = auth.client.post(f"/api/v1/appointments/{job}/start", headers={**auth.headers(), "Accept-Language": "fr"})
    assert "«\xa0commencer le travail\xa0» n’est pas possible" in french.get_json()["error"]["message"]


def test_garage_desks_see_and_act_on_their_own_garage_only(app, client, auth):
    case = walk_in(auth)  # at Lyon 7e
    shown = preview(auth, case["id"]).get_json()
    job = _one_booked_today(app)
    for username in ("reception-lyon-03", "workshop-lyon-03"):
        auth.login(username)
        assert client.get("/api/v1/garages/lyon-07/board").status_code == 403
        assert client.get("/garages/lyon-07/board").status_code == 403
        assert client.get("/garages/lyon-07/jobs").status_code == 403
        assert auth.post(f"/api/v1/appointments/{job}/check-in").status_code == 403
        assert client.get(f"/api/v1/appointments/{job}/calendar.ics").status_code == 403
    auth.login("reception-lyon-03")
    assert preview(auth, case["id"]).status_code == 403
    assert preview(auth, case["id"], garage="lyon-03").status_code == 403
    assert client.get(f"/api/v1/squeeze/{shown['id']}").status_code == 403
    assert auth.post(f"/api/v1/squeeze/{shown['id']}/confirm", json={}).status_code == 403
    assert client.get("/garages/lyon-07/outbox").status_code == 403
    assert all(m["garage"] == "lyon-03" for m in client.get("/api/v1/outbox").get_json())
    auth.login("operator")
    assert preview(auth, case["id"]).status_code == 403
    assert client.get("/api/v1/outbox").status_code == 403
    board = client.get("/api/v1/garages/lyon-07/board").get_json()
    assert board["garage"] == "lyon-07" and board["technicians"] and "lifts" in board


def test_the_calendar_event_is_what_the_customer_receives(app, client, auth):
    job = _one_booked_today(app)
    auth.login("reception-lyon-07")
    response = client.get(f"/api/v1/appointments/{job}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    event = Calendar.from_ical(response.data).walk("VEVENT")[0]
    with app.app_context():
        appointment = db.session.get(Appointment, job)
        assert (event.decoded("dtstart"), event.decoded("dtend")) == (appointment.start_at, appointment.end_at)
        assert "Lyon 7e Gerland" in str(event.get("location"))


def test_more_time_runs_into_later_work_and_a_re_plan_moves_it(app, client, auth):
    auth.login("workshop-lyon-07")
    with app.app_context():  # a job in progress whose technician has another one right after it
        pairs = db.session.execute(select(Appointment.id, Appointment.technician_id, Appointment.end_at).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked",
            Appointment.start_at > CLOCK_NOW).order_by(Appointment.start_at)).all()
        follow = {}
        for a in db.session.scalars(select(Appointment).where(Appointment.garage_id == "lyon-07",
                                                              Appointment.status == "booked")):
            follow[(a.technician_id, a.start_at)] = a.id
        first = next(p for p in pairs if (p.technician_id, p.end_at) in follow)
        later = follow[(first.technician_id, first.end_at)]
    assert auth.post(f"/api/v1/appointments/{first.id}/start").status_code == 200
    extended = auth.post(f"/api/v1/appointments/{first.id}/more-time", json={"minutes": 30})
    assert extended.status_code == 200, extended.get_json()
    body = extended.get_json()
    assert body["appointment"]["overbooked"] is True, "running into the next job is flagged until re-planned"
    replan = body["preview"]
    assert replan["kind"] == "replan" and later in [m["appointment"] for m in replan["moves"]]
    auth.login("reception-lyon-07")
    applied = auth.post(f"/api/v1/squeeze/{replan['id']}/confirm", json={})
    assert applied.status_code == 200, applied.get_json()
    with app.app_context():
        extended_row, moved = db.session.get(Appointment, first.id), db.session.get(Appointment, later)
        assert moved.start_at >= extended_row.end_at or moved.technician_id != extended_row.technician_id
        # flagged only while work is in its way as it runs: here the job its technician began it beside, if any
        # (begun at 08:30 for 08:45 while 08:00-08:45 still runs); the job re-planned is not
        from scheduler.services import capacity

        span = capacity.as_it_runs(extended_row.start_at, extended_row.end_at, extended_row.started_at)
        in_the_way = capacity.busy(db.session, extended_row.technician_id, *span, (first.id,))
        assert later not in [a.id for a in in_the_way]
        assert extended_row.overbooked is any(a.status == "in_progress" for a in in_the_way)
        assert extended_row.overbooked is bool(in_the_way)
    assert auth.post(f"/api/v1/appointments/{first.id}/more-time", json={"minutes": 0}).status_code == 400


def test_a_drive_in_arrives_and_becomes_a_walk_in_here(app, client, auth):
    from tests.web.story import open_case

    auth.login("operator")
    case = open_case(auth, plate="DR-123-IV")
    announced = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={"garage": "lyon-07"}).get_json()
    auth.login("reception-lyon-03")
    assert auth.post(f"/api/v1/drive-ins/{announced['id']}/arrived").status_code == 403
    auth.login("reception-lyon-07")
    arrived = auth.post(f"/api/v1/drive-ins/{announced['id']}/arrived")
    assert arrived.status_code == 200 and arrived.get_json()["status"] == "arrived"
    assert auth.post(f"/api/v1/drive-ins/{announced['id']}/arrived").status_code == 409
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert (read["channel"], read["garage"]) == ("walk_in", "lyon-07")
    assert preview(auth, case["id"]).status_code == 200, "ready to squeeze in"


def test_outbox_messages_are_delivered_by_smtp_and_failures_retried(app, backend):
    if backend != "sqlite":
        pytest.skip("delivery does not depend on the database; the SQLite run covers it")
    aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="the SMTP test needs aiosmtpd")
    from scheduler.models import Case
    from scheduler.services import outbox
    from web.mail import send_due

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            received.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    with app.app_context():
        appointment = db.session.scalar(select(Appointment).join(Case).where(Appointment.status == "booked")
                                        .limit(1))
        appointment.case.customer.email = "client@example.fr"
        appointment_start = appointment.start_at
        outbox.queue(db.session, "booked", appointment, CLOCK_NOW)
        db.session.commit()
    assert send_due(app) == (0, 1), "no server yet: kept, failed, for a retry"
    with app.app_context():
        failed = db.session.scalar(select(Message).where(Message.status == "failed"))
        assert failed.attempts == 1 and failed.last_error and failed.next_attempt_at > failed.created_at
        failed.next_attempt_at = CLOCK_NOW  # the retry is due
        db.session.commit()
    server = aiosmtpd.Controller(Handler(), hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert send_due(app) == (1, 0)
    finally:
        server.stop()
    (mail,) = received
    assert mail.rcpt_tos == ["client@example.fr"]
    import email

    parts = {part.get_content_type(): part for part in email.message_from_bytes(mail.content).walk()}
    event = Calendar.from_ical(parts["text/calendar"].get_payload(decode=True)).walk("VEVENT")[0]
    assert event.decoded("dtstart") == appointment_start
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Message).where(Message.status == "sent")) == 1


def test_without_smtp_messages_stay_queued_and_visible(app, client, auth):
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    assert auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={}).status_code == 200
    queued = client.get("/api/v1/outbox?status=queued").get_json()
    assert queued and all(m["garage"] == "lyon-07" and m["status"] == "queued" for m in queued)
    assert "nadia.kaci@example.fr" in {m["to"] for m in queued}
    page = client.get("/garages/lyon-07/outbox").get_data(as_text=True)
    assert "nadia.kaci@example.fr" in page
    assert client.get("/api/v1/outbox?status=lost").status_code == 400


def test_previews_are_kept_as_decided(app, client, auth):
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    assert auth.post(f"/api/v1/squeeze/{proposal['id']}/reject").get_json()["status"] == "rejected"
    assert auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={}).status_code == 409
    with app.app_context():
        assert db.session.get(PlanPreview, proposal["id"]).status == "rejected"


def test_the_workshop_is_warned_before_accepting_a_start_that_misses_the_target(app, client, auth):
    import re

    from tests.web.story import open_case

    auth.login("operator")
    case = open_case(auth, plate="LT-404-TG")
    rule = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["rule_offer"]
    assert rule["garage"] == "lyon-07", "the rules give the saturated home garage, days out"
    request = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": "lyon-07", "message": "Today?"})
    request_id = request.get_json()["id"]
    auth.login("workshop-lyon-07")
    jobs = client.get("/garages/lyon-07/jobs").get_data(as_text=True)
    assert "the standard rules’ slot" in jobs and "P1 target: started by the end of" in jobs
    token = re.search(r'name="csrf_token" value="([^"]+)"', jobs).group(1)
    late = {"csrf_token": token, "decision": "accept", "slot": f"{rule['technician']}|{rule['start']}",
            "reason": "we can only do it then"}
    before = footprint(app)
    warned = client.post(f"/garages/lyon-07/direct-line/{request_id}/answer", data=late, follow_redirects=True)
    page = warned.get_data(as_text=True)
    assert "misses the P1 target" in page and footprint(app) == before
    assert 'value="we can only do it then"' in page, "what was typed is kept"
    accepted = client.post(f"/garages/lyon-07/direct-line/{request_id}/answer", data={**late, "late_ok": "yes"},
                           follow_redirects=True)
    assert "Accepted" in accepted.get_data(as_text=True)
    auth.login("operator")
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert read["appointments"][0]["start"] == rule["start"]


def test_a_walk_in_refused_for_a_missing_field_keeps_what_was_typed(app, client, auth):
    """At the counter nothing is typed twice: the board comes back with the plate, name, phone and model kept."""
    auth.login("reception-lyon-07")
    typed = {"plate": "WI-777-KC", "name": "Nadia Kaci", "phone": "+33 6 70 00 00 07", "model": "Renault Zoé",
             "email": "", "symptom": ""}
    answer = auth.form("/garages/lyon-07/walk-in", typed)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    for value in ("WI-777-KC", "Nadia Kaci", "+33 6 70 00 00 07", "Renault Zoé"):
        assert f'value="{value}"' in page, value
    assert "This field is required." in page or "Ce champ est requis." in page


def test_a_customer_who_reads_english_is_written_to_in_english_from_the_counter_and_the_api(app, client, auth):
    """A probe: no form nor the API could say a customer's language, so a German tourist's confirmation came in
    French (README: every message "in the customer's language"). A known customer keeps theirs unless another is
    said; a language the outbox does not write is refused under its field."""
    from scheduler.models import Case, Customer

    auth.login("reception-lyon-07")
    typed = {"plate": "DE-123-AB", "name": "Anna Schmidt", "phone": "+49 151 2345 6789", "model": "VW Golf",
             "email": "anna@example.de", "language": "en", "symptom": "engine_fault_stop"}
    assert auth.form("/garages/lyon-07/walk-in", typed).status_code == 302
    with app.app_context():
        case = db.session.scalar(select(Case).join(Customer).where(Customer.name == "Anna Schmidt"))
        assert case.customer.locale == "en"
        case_id = case.id
    proposal = preview(auth, case_id).get_json()
    placed = auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={"reason": "engine fault"}).get_json()
    with app.app_context():
        (told,) = db.session.scalars(select(Message).where(Message.appointment_id == placed["appointment"]["id"]))
        assert "Your appointment" in told.subject and "Votre" not in told.subject, told.subject
    again = auth.post("/api/v1/cases", json={**WALK_IN, "customer": {"name": "Anna Schmidt", "phone": "+49 151 2345 6789"},
                                             "vehicle": {"plate": "DE-123-AB", "model": "VW Golf"}})
    assert again.get_json()["customer"]["language"] == "en", "a known customer keeps the language on file"
    french = auth.post("/api/v1/cases", json={**WALK_IN, "customer": {**WALK_IN["customer"], "language": "fr"}})
    assert french.get_json()["customer"]["language"] == "fr"
    refused = auth.post("/api/v1/cases", json={**WALK_IN, "customer": {**WALK_IN["customer"], "language": "de"}})
    assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == "customer.language"


def test_the_workshop_start_button_and_the_move_table_read_as_actions_in_french(app, client, auth):
    """"Start" is a verb on a job's button (Commencer), a noun in a column (Début); a move's shift is a Décalage."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    auth.login("workshop-lyon-07")
    jobs = client.get("/garages/lyon-07/jobs").get_data(as_text=True)
    assert ">Commencer</button>" in jobs and ">Début</button>" not in jobs
    case = walk_in(auth)
    auth.login("reception-lyon-07")
    shown = auth.form(f"/garages/lyon-07/cases/{case['id']}/squeeze")
    assert shown.status_code == 302, shown.get_data(as_text=True)[:300]
    page = client.get(shown.headers["Location"]).get_data(as_text=True)
    assert "<th>Décalage</th>" in page and "<th>Modifier</th>" not in page


def test_the_boards_load_is_counted_in_hours_of_work_not_in_days(app, client, auth):
    """A day's work on a garage's shifts reads "58 h of 62 h", never "2.4 d of 2.6 d" (days of 24 h)."""
    auth.login("reception-lyon-07")
    board = client.get("/api/v1/garages/lyon-07/board").get_json()
    page = client.get("/garages/lyon-07/board").get_data(as_text=True)
    load = re.search(r'<p class="load">(.*?)</p>', page, re.S).group(1)
    shifts = sum(len(t["shifts"]) for t in board["technicians"])
    assert shifts, "the garage works today"
    assert re.search(r"\(\d+ h( \d\d)? of \d+ h( \d\d)? of shifts\)", load), load
    assert " d " not in load
    today = date.fromisoformat(board["day"])
    sunday = today + timedelta(days=6 - today.weekday())  # the demo's garages close on Sundays
    closed = client.get(f"/garages/lyon-07/board?day={sunday.isoformat()}").get_data(as_text=True)
    load = re.search(r'<p class="load">(.*?)</p>', closed, re.S).group(1)
    assert "Nobody works here this day" in load and "0 %" not in load


def test_a_job_nobody_here_is_qualified_for_offers_no_hand_placement_that_cannot_work(app, client, auth):
    with app.app_context():
        skills = {s for t in db.session.scalars(select(Technician).where(Technician.garage_id == "lyon-07"))
                  for s in t.skill_codes}
    assert "electrical" not in skills, "the demo's Lyon 7e has no electrician: this test relies on it"
    case = walk_in(auth, symptom="electrical_glitch")
    proposal = preview(auth, case["id"]).get_json()
    page = client.get(f"/garages/lyon-07/squeeze/{proposal['id']}").get_data(as_text=True)
    assert "No technician here has the skill for this job" in page
    assert 'name="technician"' not in page and "Place by hand" not in page


def test_a_customer_without_e_mail_is_told_by_phone_and_the_outbox_says_so(app, client, auth):
    booked = _one_booked_today(app)
    with app.app_context():
        appointment = db.session.get(Appointment, booked)
        appointment.case.customer.email = None
        db.session.commit()
    auth.login("reception-lyon-07")
    assert auth.post(f"/api/v1/appointments/{booked}/cancel", json={"reason": "customer called"}).status_code == 200
    with app.app_context():
        message = db.session.scalar(select(Message).where(Message.appointment_id == booked))
        assert (message.status, message.by_email) == ("queued", False)
    page = client.get("/garages/lyon-07/outbox").get_data(as_text=True)
    assert f"/garages/lyon-07/outbox/{message.id}/phoned" in page and "Told by phone" in page

    auth.login("reception-lyon-03")
    assert auth.post(f"/api/v1/outbox/{message.id}/phoned", json={}).status_code == 403
    auth.login("admin")  # an admin may act on it, but on its own garage's page, not under another garage's
    assert auth.form(f"/garages/lyon-03/outbox/{message.id}/phoned").status_code == 404
    auth.login("reception-lyon-07")
    answer = auth.form(f"/garages/lyon-07/outbox/{message.id}/phoned")
    assert answer.status_code == 302
    with app.app_context():
        told = db.session.get(Message, message.id)
        assert told.status == "sent" and told.sent_at is not None
        assert [e.kind for e in told.case.events][-1] == "told_by_phone"
    page = client.get("/garages/lyon-07/outbox").get_data(as_text=True)
    assert f"/outbox/{message.id}/phoned" not in page
    link = page.index(f"/outbox/{message.id}\"")
    row = page[page.rindex("<tr", 0, link):page.index("</tr>", link)]
    assert '<span class="status sent">told by phone</span>' in row  # not "sent", as an e-mail would be
    again = auth.post(f"/api/v1/outbox/{message.id}/phoned", json={})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"


def test_no_show_beside_check_in_asks_for_a_confirmation_first(app, client, auth):
    """A slip of the finger on the board must not mark a customer absent: "No-show" only opens a confirmation,
    and only once the appointment's time has come."""
    booked = _one_booked_today(app)
    auth.login("reception-lyon-07")
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    assert f"/garages/lyon-07/appointments/{booked}/no-show" not in board  # not due yet: nobody is absent
    assert f"/garages/lyon-07/appointments/{booked}/check-in" in board
    early = auth.post(f"/api/v1/appointments/{booked}/no-show")  # nor through the API, hours ahead
    assert early.status_code == 422 and "once that time has passed" in early.get_json()["error"]["message"]
    with app.app_context():
        due = db.session.get(Appointment, booked).start_at + timedelta(minutes=5)
        assert db.session.get(Appointment, booked).status == "booked"
    app.config["CLOCK"] = lambda: due
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    action = f"/garages/lyon-07/appointments/{booked}/no-show"
    assert action in board
    closed = board.split(action)[0].rsplit("<details", 1)[1]  # the no-show form sits inside a closed <details>
    assert "</details>" not in closed and "<summary>No-show</summary>" in closed
    confirm = board.split(action)[1].split("</form>")[0]
    assert ">Confirm: the customer did not come</button>" in confirm
    assert auth.form(action, {"next": "/garages/lyon-07/board"}).status_code == 302
    assert auth.post(f"/api/v1/appointments/{booked}/no-show").status_code == 409  # it was taken, once
    with app.app_context():
        case_id = db.session.get(Appointment, booked).case_id
    auth.login("operator")  # the call centre sees an absent customer, not a booking in green
    status = client.get(f"/desk/cases/{case_id}").get_data(as_text=True).split('id="live"')[1].split("<h3>")[0]
    assert "No-show:" in status and "Booked:" not in status


def test_a_placement_by_hand_refused_returns_to_its_preview_with_what_was_typed(app, client, auth):
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    shown = client.get(f"/garages/lyon-07/squeeze/{proposal['id']}").get_data(as_text=True)
    tech = re.findall(r'<option value="(lyon-07-t\d+)"', shown)[-1]  # not the first: the choice must survive
    typed = {"time": "23:30", "technician": tech, "reason": "foreman between two jobs", "preview": str(proposal["id"])}
    refused = auth.form(f"/garages/lyon-07/cases/{case['id']}/place", typed)
    assert refused.status_code == 302
    back = refused.headers["Location"]
    assert f"/garages/lyon-07/squeeze/{proposal['id']}" in back  # not the board: the preview stays in front of them
    page = client.get(back).get_data(as_text=True)
    assert 'value="23:30"' in page and 'value="foreman between two jobs"' in page
    assert "foreman" not in back, "a customer's story is not put in the address (logs, history)"
    assert f'<option value="{tech}" selected>' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Appointment)
                                 .where(Appointment.case_id == case["id"])) == 0


def test_a_walk_in_let_go_before_any_message_went_is_sent_no_cancellation(app, client, auth):
    """A probe: a walk-in placed and then cancelled ("client reparti") before its confirmation went was sent "your
    appointment is cancelled", of a booking they never heard of. A booking the customer knew of still is (above)."""
    proposal = preview(auth, walk_in(auth)["id"]).get_json()
    placed = auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={"reason": "engine fault"}).get_json()
    appointment = placed["appointment"]["id"]
    cancelled = auth.post(f"/api/v1/appointments/{appointment}/cancel", json={"reason": "customer left"})
    assert cancelled.status_code == 200, cancelled.get_json()
    with app.app_context():
        told = [(m.kind, m.status) for m in db.session.scalars(
            select(Message).where(Message.appointment_id == appointment).order_by(Message.id))]
    assert told == [("booked", "failed")], told


def test_cancel_needs_no_body_as_the_contract_says(app, client, auth):
    booked = _one_booked_today(app)
    auth.login("reception-lyon-07")
    cancelled = auth.post(f"/api/v1/appointments/{booked}/cancel")
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "cancelled"
    with app.app_context():
        told = db.session.scalars(select(Message).where(Message.appointment_id == booked)).all()
        assert [m.kind for m in told] == ["cancelled"]  # the customer is told all the same


def test_a_workshop_re_plans_nothing_at_another_garage(app):
    from scheduler.errors import Forbidden
    from scheduler.models import Garage, User
    from scheduler.services import squeeze

    booked = _one_booked_today(app)
    with app.app_context():
        elsewhere = db.session.scalar(select(User).where(User.username == "workshop-lyon-03"))
        with pytest.raises(Forbidden):
            squeeze.preview_replan(db.session, elsewhere, db.session.get(Garage, "lyon-07"),
                                   [db.session.get(Appointment, booked)], CLOCK_NOW)
        assert db.session.scalar(select(func.count()).select_from(PlanPreview)) == 0


def test_a_preview_is_confirmed_or_rejected_only_under_its_own_garages_address(app, client, auth):
    case = walk_in(auth)
    shown = preview(auth, case["id"]).get_json()
    auth.login("admin")  # who sees every garage: a walk-in's squeeze is not theirs to decide, under any address
    for action in ("confirm", "reject"):
        assert auth.form(f"/garages/lyon-03/squeeze/{shown['id']}/{action}").status_code == 403
        assert auth.form(f"/garages/lyon-07/squeeze/{shown['id']}/{action}").status_code == 403
    auth.login("reception-lyon-07")
    for action in ("confirm", "reject"):
        assert auth.form(f"/garages/lyon-03/squeeze/{shown['id']}/{action}").status_code in (403, 404)
    with app.app_context():
        assert db.session.get(PlanPreview, shown["id"]).status == "open"


def utc_event(ics: str):
    """The one event of a calendar file, after checking that every time in it is UTC (`…Z`): a TZID with no
    VTIMEZONE to define it is what strict calendar apps refuse or shift."""
    calendar = Calendar.from_ical(ics)
    assert "TZID" not in ics and not calendar.walk("VTIMEZONE")
    (event,) = calendar.walk("VEVENT")
    for name in ("dtstamp", "dtstart", "dtend"):
        assert "TZID" not in event[name].params and event[name].to_ical().endswith(b"Z"), (name, ics)
    return event


def test_a_direct_line_booking_s_calendar_is_in_utc_like_every_other(app, client, auth):
    from tests.web.story import open_case
    from tests.web.test_desk_pages import later_today_on_shift
    from tests.web.pages import csrf_from

    auth.login("operator")
    case = open_case(auth)
    asked = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": "lyon-07", "message": "today?"})
    assert asked.status_code == 201, asked.get_json()
    auth.login("reception-lyon-07")
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    technician = re.search(r'<select name="technician"><option value="([^"]+)"', board).group(1)
    answer_at = later_today_on_shift(app, technician, minutes=60)  # typed at the desk: a time in the garage's zone
    answered_at = CLOCK_NOW + timedelta(minutes=4)
    app.config["CLOCK"] = lambda: answered_at
    accepted = client.post(f"/garages/lyon-07/direct-line/{asked.get_json()['id']}/answer", data={
        "csrf_token": csrf_from(board), "decision": "accept", "time": f"{answer_at:%H:%M}", "technician": technician,
        "overbook": "yes", "reason": "the foreman asks a colleague"})
    assert accepted.status_code == 302
    with app.app_context():
        (told,) = db.session.scalars(select(Message).where(Message.case_id == case["id"]))
        assert told.kind == "booked"
        event = utc_event(told.ics)
        assert event.decoded("dtstart") == answer_at and event.decoded("dtstamp") == answered_at
        appointment = told.appointment_id
    later = answered_at + timedelta(hours=2)  # the file as downloaded later is made then
    app.config["CLOCK"] = lambda: later
    downloaded = client.get(f"/api/v1/appointments/{appointment}/calendar.ics")
    assert downloaded.status_code == 200
    event = utc_event(downloaded.get_data(as_text=True))
    assert event.decoded("dtstart") == answer_at and event.decoded("dtstamp") == later


def test_a_garage_accepts_a_direct_line_request_on_another_day_it_types(app, client, auth):
    """The form offered today's free times and one slot a fortnight away, and took a typed time for today only: a
    garage that could take the car on a later morning could only decline."""
    from scheduler.services import capacity
    from tests.web.pages import csrf_from
    from tests.web.story import open_case

    auth.login("operator")
    case = open_case(auth, plate="DL-303-DL", symptom="brake_noise")
    asked = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": "lyon-07", "message": "Monday?"})
    auth.login("reception-lyon-07")
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    assert 'name="day" value="' in board
    technician = re.search(r'<select name="technician"><option value="([^"]+)"', board).group(1)
    with app.app_context():
        worker = db.session.get(Technician, technician)
        day = next(d for d in (CLOCK_NOW.date() + timedelta(days=n) for n in range(2, 12))
                   if capacity.shifts(worker, d))
        start = capacity.shifts(worker, day)[0][0].astimezone(ZoneInfo("Europe/Paris"))
    accepted = client.post(f"/garages/lyon-07/direct-line/{asked.get_json()['id']}/answer", data={
        "csrf_token": csrf_from(board), "decision": "accept", "day": day.isoformat(), "time": f"{start:%H:%M}",
        "technician": technician, "overbook": "yes", "reason": "first job of the morning", "late_ok": "yes"})
    assert accepted.status_code == 302
    (made,) = client.get(f"/api/v1/cases/{case['id']}").get_json()["appointments"]
    assert datetime.fromisoformat(made["start"]) == start and made["channel"] == "direct_line"


def test_a_moved_booking_s_calendar_is_stamped_when_it_moved(app, client, auth):
    case = walk_in(auth)
    squeezed_at = CLOCK_NOW + timedelta(minutes=20)
    app.config["CLOCK"] = lambda: squeezed_at
    proposal = preview(auth, case["id"]).get_json()
    assert proposal["moves"], "Lyon 7e is full today: fitting a P1 in moves someone"
    assert auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={"reason": "P1"}).status_code == 200
    with app.app_context():
        moved = db.session.scalars(select(Message).where(Message.kind == "moved")).all()
        assert len(moved) == len(proposal["moves"])
        for message in moved:
            assert db.session.get(Appointment, message.appointment_id).created_at < squeezed_at, "booked before"
            event = utc_event(message.ics)
            assert event.decoded("dtstamp") == squeezed_at == message.created_at, "the update is as new as the move"
            assert event["sequence"] > 1


def test_the_garage_reads_what_a_customer_was_told_as_sent_and_only_its_own(app, client, auth):
    from markupsafe import escape

    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    assert auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={"reason": "P1"}).status_code == 200
    with app.app_context():
        told = db.session.scalar(select(Message).where(Message.case_id == case["id"], Message.kind == "booked"))
        message, subject, body, ics = told.id, told.subject, told.body, told.ics
    assert told.locale == "fr" and body.startswith("Bonjour Nadia Kaci")
    page_path, calendar_path = f"/garages/lyon-07/outbox/{message}", f"/garages/lyon-07/outbox/{message}/calendar.ics"
    assert f'href="{page_path}"' in client.get("/garages/lyon-07/outbox").get_data(as_text=True)

    for user in ("reception-lyon-07", "workshop-lyon-07", "admin"):
        auth.login(user)
        page = client.get(page_path)
        assert page.status_code == 200, user
        text = page.get_data(as_text=True)
        # the reader's page is in English; the message in the French it was sent in, every line of it
        # not sent yet (no mail server in the tests): "is sent", not "was sent"
        assert 'lang="fr"' in text and "What the customer is sent, word for word." in text
        assert "<dt>Recipient</dt>" in text
        assert all(str(escape(line)) in text for line in body.splitlines())
        assert "Votre rendez-vous est confirmé" in text and "nadia.kaci@example.fr" in text
        downloaded = client.get(calendar_path)
        assert downloaded.status_code == 200 and downloaded.mimetype == "text/calendar"
        assert downloaded.get_data(as_text=True) == ics and 'filename="rendez-vous.ics"' in \
            downloaded.headers["Content-Disposition"]
        read = client.get(f"/api/v1/outbox/{message}").get_json()
        assert (read["subject"], read["body"], read["locale"]) == (subject, body, "fr")
        assert client.get(read["calendar"]).get_data(as_text=True) == ics

    # another garage's staff: 403, as for every other garage thing; an admin at the wrong garage's address: 404
    for user in ("reception-lyon-03", "workshop-lyon-03"):
        auth.login(user)
        assert client.get(f"/garages/lyon-03/outbox/{message}").status_code == 403, user
        assert client.get(f"/garages/lyon-03/outbox/{message}/calendar.ics").status_code == 403, user
        assert client.get(page_path).status_code == 403, user
        assert client.get(f"/api/v1/outbox/{message}").status_code == 403, user
        assert client.get(f"/api/v1/outbox/{message}/calendar.ics").status_code == 403, user
    auth.login("admin")
    assert client.get(f"/garages/lyon-03/outbox/{message}").status_code == 404
    assert client.get(f"/api/v1/outbox/{message + 10**6}").status_code == 404
    auth.login("operator")
    assert client.get(f"/api/v1/outbox/{message}").status_code == 403


def test_a_decided_preview_no_longer_says_nothing_changes_nor_offers_to_decide(app, client, auth):
    """Back after a confirm shows the preview again: as a record, without "nothing changes until you confirm"
    and without the confirm and reject buttons, and the browser is told not to keep the open copy."""
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    address = f"/garages/lyon-07/squeeze/{proposal['id']}"
    shown = client.get(address)
    assert shown.headers["Cache-Control"] == "no-store"
    page = shown.get_data(as_text=True)
    assert "Nothing changes until you confirm." in page
    assert f"{address}/confirm" in page and f"{address}/reject" in page
    assert auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={}).status_code == 200
    page = client.get(address).get_data(as_text=True)
    assert "This preview is confirmed." in page
    assert "Nothing changes until you confirm." not in page
    assert f"{address}/confirm" not in page and f"{address}/reject" not in page and "Place by hand" not in page


def test_the_direct_line_answer_offers_each_slot_once_with_every_label_it_has(app, client, auth):
    """On a full day the next free time here is often the standard rules' own slot: one line with both labels,
    not two lines of the same time that read as two choices."""
    from tests.web.story import open_case

    auth.login("operator")
    case = open_case(auth, plate="LT-404-TG")
    rule = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["rule_offer"]
    assert rule["garage"] == "lyon-07", "the rules give the saturated home garage, days out"
    sent = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": "lyon-07", "message": "Today?"})
    auth.login("reception-lyon-07")
    inbox = client.get("/garages/lyon-07/direct-line/inbox").get_data(as_text=True)
    asked = inbox.split(f'id="request-{sent.get_json()["id"]}"')[1].split("</article>")[0]
    choice = asked.split('<select name="slot">')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]*)"[^>]*>(.*?)</option>', choice, re.S)
    values = [v for v, _text in options if v]
    assert len(values) == len(set(values)), options
    (said,) = [" ".join(text.split()) for v, text in options if v == f"{rule['technician']}|{rule['start']}"]
    assert said.endswith("(next free time, the standard rules’ slot)"), said


def test_the_direct_line_request_says_when_a_caller_far_away_can_be_here(app, client, auth):
    """A caller 17 km away at Givors was put to Lyon 7e: reception accepted a time half an hour before they could
    drive there, and the customer was told it. The request now says how far away they are (at the policy's
    30 km/h); the free times offered start no sooner than they can be here."""
    from optimizer.geo import haversine_km
    from scheduler.models import Garage
    from tests.conftest import CLOCK_NOW
    from tests.web.story import open_case

    givors = {"lat": 45.59, "lon": 4.769}
    auth.login("operator")
    far = open_case(auth, plate="GV-170-KM", location=givors)
    near = open_case(auth, plate="LY-001-KM")  # at Lyon 7e itself: nothing to say
    for case in (far, near):
        assert auth.post(f"/api/v1/cases/{case['id']}/direct-line",
                         json={"garage": "lyon-07", "message": "Today?"}).status_code == 201
    with app.app_context():
        garage = db.session.get(Garage, "lyon-07")
        km = haversine_km(givors["lat"], givors["lon"], garage.lat, garage.lon)
        there = (CLOCK_NOW + timedelta(minutes=math.ceil(km / 30 * 60))).astimezone(garage.zone)
    auth.login("reception-lyon-07")
    inbox = client.get("/garages/lyon-07/direct-line/inbox").get_data(as_text=True)
    requests = {r.split('"', 1)[0]: r for r in inbox.split('id="request-')[1:]}
    (far_request,) = [r for r in requests.values() if "GV-170-KM" in r]
    (near_request,) = [r for r in requests.values() if "LY-001-KM" in r]
    drive = math.ceil(km / 30 * 60)
    assert f"The customer is {drive} min away by road" in far_request
    assert "away by road" not in near_request
    offered = re.findall(r'<option value="[^"|]+\|([^"]+)"', far_request.split('<select name="slot">')[1].split("</select>")[0])
    assert offered and all(datetime.fromisoformat(start) >= there for start in offered)


def test_the_preview_shows_each_move_from_to_and_which_customers_are_told_and_how(app, client, auth):
    """A move reads "15:45 → 17:15" in one column, not two time columns that read as a job from one to the other;
    beside it, how the customer hears of it, as the outbox will send it: by e-mail when they gave an address,
    else reception phones them; moved only to another technician at the same time, they are not told at all."""
    from scheduler.services import outbox

    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    assert len(proposal["moves"]) >= 2, "on the demo's full Lyon 7e the P1 moves several jobs"

    phoned_id, mailed_id = (m["appointment"] for m in proposal["moves"][:2])

    def plan_keeps_in_place(kept: Appointment, technician: str) -> None:
        """The plan also hands `kept` to `technician` at its own time, in its own garage."""
        shown = db.session.get(PlanPreview, proposal["id"])
        moves = [m for m in shown.plan["moves"] if m["appointment"] != kept.id]
        moves.append({"appointment": kept.id, "technician": technician, "start": kept.start_at.isoformat(),
                      "end": kept.end_at.isoformat(), "from": kept.start_at.isoformat(),
                      "technician_from": kept.technician_id})
        shown.plan = {**shown.plan, "moves": moves}
        db.session.commit()

    with app.app_context():
        kept = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked", Appointment.start_at > CLOCK_NOW,
            Appointment.id.not_in([m["appointment"] for m in proposal["moves"]])).order_by(Appointment.start_at.desc())
            .limit(1))
        kept_id = kept.id
        colleague = next(t.id for t in kept.garage.technicians if t.id != kept.technician_id)
        plan_keeps_in_place(kept, colleague)
        phoned, mailed = (db.session.get(Appointment, i).case.customer for i in (phoned_id, mailed_id))
        phoned.email, mailed.email = None, mailed.email or "told@example.fr"
        db.session.commit()
        assert (outbox.how_told(phoned), outbox.how_told(mailed)) == ("phone", "email")
        people = {i: db.session.get(Appointment, i).case.customer.name for i in (kept_id, phoned_id, mailed_id)}
        phone = phoned.phone
    moves = {m["appointment"]: m for m in client.get(f"/api/v1/squeeze/{proposal['id']}").get_json()["moves"]}
    assert [moves[i]["told"] for i in (kept_id, phoned_id, mailed_id)] == [None, "phone", "email"]
    page = client.get(f"/garages/lyon-07/squeeze/{proposal['id']}").get_data(as_text=True)
    table = page.split('<table class="grid moves">')[1].split("</table>")[0]
    assert "<th>Moved</th>" in table and "<th>Customer told</th>" in table
    assert "<th>From</th>" not in table and "<th>To</th>" not in table
    row = {i: next(r for r in table.split("<tr>") if f'<td class="text">{name}</td>' in r) for i, name in people.items()}
    assert "not told: same time, same garage" in row[kept_id] and "(same time)" in row[kept_id]
    assert " → <strong>" not in row[kept_id].split('class="nowrap move">')[1].split("</td>")[0]
    assert re.search(r'<td class="nowrap move">\d\d:\d\d → <strong>\d\d:\d\d</strong></td>', row[phoned_id])
    assert "by phone: reception calls" in row[phoned_id] and phone in row[phoned_id]
    assert ">by e-mail<" in row[mailed_id]

    with app.app_context():  # confirmed on its own technician, so that the move cannot clash in this full day
        plan_keeps_in_place(db.session.get(Appointment, kept_id), db.session.get(Appointment, kept_id).technician_id)
    confirmed = auth.form(f"/garages/lyon-07/squeeze/{proposal['id']}/confirm")
    assert confirmed.status_code == 302
    flashed = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "1 of them keeps its time with another technician: its customer is not told." in flashed
    assert "No e-mail address: call " in flashed and phone in flashed.split("No e-mail address: call ")[1][:200]
    with app.app_context():
        told = {m.appointment_id: m for m in db.session.scalars(select(Message).where(
            Message.appointment_id.in_(moves), Message.kind == "moved"))}
        assert set(told) == set(moves) - {kept_id}, "everyone moved in time is told, the one kept in place is not"
        assert not told[phoned_id].by_email and told[phoned_id].recipient == phone
        assert told[mailed_id].by_email


def test_placing_by_hand_marks_its_required_reason_and_time_boxes_hint_rather_than_look_filled(app, client, auth):
    """Beside the confirm's "Reason (optional)", the hand placement's reason says it is required (as the direct
    line's "Reason (needed to overbook)" does); a time box's hint reads as an example, never as a time typed."""
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    page = client.get(f"/garages/lyon-07/squeeze/{proposal['id']}").get_data(as_text=True)
    hand = page.split('id="hand-h"')[1].split("</section>")[0]
    reason = re.search(r"<label>([^<]*)<input name=\"reason\"([^>]*)>", hand)
    assert reason.group(1).strip() == "Reason (required)" and " required " in reason.group(2)
    assert "Reason (optional)" in page.split('id="hand-h"')[0]
    time_box = re.search(r'<input name="time"[^>]*>', hand).group(0)
    assert 'placeholder="e.g. 14:15"' in time_box

    from tests.web.story import open_case

    auth.login("operator")
    asked = open_case(auth)
    assert auth.post(f"/api/v1/cases/{asked['id']}/direct-line",
                     json={"garage": "lyon-07", "message": "Today?"}).status_code == 201
    auth.login("reception-lyon-07")
    inbox = client.get("/garages/lyon-07/direct-line/inbox").get_data(as_text=True)
    assert 'placeholder="14:15"' not in inbox and 'placeholder="e.g. 14:15"' in inbox
    css = client.get("/static/frontline.css").get_data(as_text=True)
    hint = re.search(r"(?m)^::placeholder \{([^}]*)\}", css)
    assert hint and "font-style: italic" in hint.group(1) and "opacity: 1" in hint.group(1)


def test_the_counter_lists_todays_walk_ins_not_yesterdays_left_open(app, client, auth):
    from scheduler.models import Garage
    from scheduler.services.cases import at_counter

    case = walk_in(auth)
    with app.app_context():
        garage = db.session.get(Garage, "lyon-07")
        assert case["id"] in [c.id for c in at_counter(db.session, garage, CLOCK_NOW)], \
            "today's walk-in waits at the counter"
        assert case["id"] not in [c.id for c in at_counter(db.session, garage, CLOCK_NOW + timedelta(days=1))], \
            "a walk-in of yesterday no longer waits at the counter"
    # the board's API lists them as its page does
    counter = client.get("/api/v1/garages/lyon-07/board").get_json()["counter"]
    (here,) = [c for c in counter if c["case"] == case["id"]]
    assert here["urgency"] == case["urgency"] and here["plate"]


def test_a_walk_in_whose_customer_left_is_closed_from_the_counter(app, client, auth):
    left, stays = walk_in(auth), walk_in(auth, vehicle={"plate": "WI-002-KC", "model": "Peugeot 208"})
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    action = f"/garages/lyon-07/cases/{left['id']}/withdraw"
    assert action in board, "each walk-in at the counter can be closed"
    # in two steps: the close button is behind "Customer left…", not beside "Fit into today" (one click closed a P1)
    closing = board.split(f'action="{action}"')[0].rsplit("<details", 1)[1]
    assert "Customer left…" in closing
    assert auth.form(action, {"reason": "will come back tomorrow"}).status_code == 302
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    assert "left without a booking" in board and action not in board
    assert f"/cases/{stays['id']}/squeeze" in board, "the other one still waits"
    assert client.get(f"/api/v1/cases/{left['id']}").get_json()["status"] == "cancelled"
    api = auth.post(f"/api/v1/cases/{stays['id']}/withdraw", json={"reason": "went to work"})
    assert api.status_code == 200 and api.get_json()["status"] == "cancelled"
    assert auth.post(f"/api/v1/cases/{stays['id']}/withdraw").status_code == 409, "closed once"
    booked = walk_in(auth, vehicle={"plate": "WI-003-KC", "model": "Peugeot 208"})
    assert auth.post(f"/api/v1/squeeze/{preview(auth, booked['id']).get_json()['id']}/confirm", json={}).status_code == 200
    assert auth.post(f"/api/v1/cases/{booked['id']}/withdraw").status_code == 409, "a booked case: cancel its booking"


def test_a_walk_in_who_left_cannot_be_booked_from_its_old_preview(app, client, auth):
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    assert proposal["moves"], "Lyon 7e is full today: confirming it would move someone"
    before = moments(app)
    assert auth.post(f"/api/v1/cases/{case['id']}/withdraw", json={}).status_code == 200
    assert client.get(f"/api/v1/squeeze/{proposal['id']}").get_json()["status"] == "rejected", "closed with its case"
    assert auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={"reason": "P1"}).status_code == 409
    # a preview left open by a case closed some other way is refused too: nobody is left to place
    with app.app_context():
        db.session.get(PlanPreview, proposal["id"]).status = "open"
        db.session.commit()
    refused = auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={"reason": "P1"})
    assert refused.status_code == 409 and "cancelled" in refused.get_json()["error"]["message"]
    assert moments(app) == before, "nobody moved, nothing booked"
    assert client.get(f"/api/v1/cases/{case['id']}").get_json()["status"] == "cancelled"


def _free_after(app, late: timedelta = timedelta(minutes=20)) -> int:
    """A booked job of today that could still run `late`: its technician working and free, a lift free if it needs one."""
    from scheduler.services import capacity

    with app.app_context():
        rows = db.session.scalars(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked", Appointment.start_at > CLOCK_NOW,
            Appointment.start_at < CLOCK_NOW + timedelta(hours=6)).order_by(Appointment.start_at))
        return next(a.id for a in rows if capacity.works(a.technician, a.start_at + late, a.end_at + late)
                    and not capacity.clash(db.session, a.technician, a.start_at + late, a.end_at + late, a.lift, (a.id,)))


def _absent(app, client, auth, booked: int | None = None) -> int:
    booked = booked or _one_booked_today(app)
    with app.app_context():
        due = db.session.get(Appointment, booked).start_at + timedelta(minutes=20)
    app.config["CLOCK"] = lambda: due
    auth.login("reception-lyon-07")
    assert auth.post(f"/api/v1/appointments/{booked}/no-show").status_code == 200
    return booked


def test_a_customer_marked_absent_who_comes_after_all_is_checked_in(app, client, auth):
    booked = _absent(app, client, auth, _free_after(app))
    with app.app_context():
        was = db.session.get(Appointment, booked)
        was = (was.start_at, was.end_at)
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    action = f"/garages/lyon-07/appointments/{booked}/check-in"
    assert action in board and ">Came after all: check in</button>" in board.split(action)[1].split("</form>")[0]
    assert auth.form(action, {"next": "/garages/lyon-07/board"}).status_code == 302
    with app.app_context():
        appointment = db.session.get(Appointment, booked)
        assert (appointment.status, appointment.case.status) == ("checked_in", "booked")
        late = timedelta(minutes=20)  # the job runs from their arrival, with the same technician
        assert (appointment.start_at, appointment.end_at) == (was[0] + late, was[1] + late)
        assert appointment.case.events[-1].data.get("after_no_show") is True


def test_a_late_comer_whose_time_went_to_other_work_is_told_to_come_in_as_a_walk_in(app, client, auth):
    booked = _absent(app, client, auth)
    with app.app_context():  # someone else's job put on the technician's freed time meanwhile (overbooked passes)
        gone = db.session.get(Appointment, booked)
        other = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked", Appointment.id != booked))
        other.technician_id, other.start_at, other.end_at = gone.technician_id, gone.start_at, gone.end_at
        other.overbooked = True
        db.session.commit()
        plate, name = other.case.vehicle.plate, other.technician.name
        # the job from now on: it runs from the late comer's arrival, not from its booked time
        arrived, length = app.config["CLOCK"]().astimezone(gone.garage.zone), gone.end_at - gone.start_at
        span = f"{arrived:%H:%M} and {arrived + length:%H:%M}"
    before = footprint(app)
    refused = auth.post(f"/api/v1/appointments/{booked}/check-in")
    said = refused.get_json()["error"]["message"]
    assert refused.status_code == 409 and "walk-in" in said
    assert name in said and plate in said and span in said, said  # which time, taken by what: said at the counter
    assert footprint(app) == before

    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(days=1)  # the next day: a new visit, not a late one
    auth.login("reception-lyon-07")
    assert "another day" in auth.post(f"/api/v1/appointments/{booked}/check-in").get_json()["error"]["message"]


def test_a_car_left_ahead_of_its_day_is_checked_in_and_keeps_its_time_and_the_board_of_that_day_stays_on_it(
        app, client, auth):
    with app.app_context():
        tomorrow = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked",
            Appointment.start_at > CLOCK_NOW + timedelta(days=1)).order_by(Appointment.start_at).limit(1))
        booked, day = tomorrow.id, tomorrow.garage.local(tomorrow.start_at).date()
        was = (tomorrow.start_at, tomorrow.end_at, tomorrow.technician_id)
    auth.login("reception-lyon-07")
    board = client.get(f"/garages/lyon-07/board?day={day.isoformat()}").get_data(as_text=True)
    assert f'name="next" value="/garages/lyon-07/board?day={day.isoformat()}#appt-' in board
    action = f"/garages/lyon-07/appointments/{booked}/check-in"
    assert action in board and ">Left early: check in</button>" in \
        board.split(action)[1].split("</form>")[0]
    # redrawn by a poll, the timeline's actions still come back to the page it sits on, not to /board/live
    polled = client.get(f"/garages/lyon-07/board/live?day={day.isoformat()}",
                        headers={"HX-Current-URL": f"http://localhost/garages/lyon-07/board?day={day.isoformat()}"})
    assert f'name="next" value="/garages/lyon-07/board?day={day.isoformat()}#appt-' in polled.get_data(as_text=True)
    auth.login("workshop-lyon-07")
    jobs = client.get(f"/garages/lyon-07/jobs?day={day.isoformat()}").get_data(as_text=True)
    assert f"/appointments/{booked}/start" not in jobs, "the job list starts the day's work"

    auth.login("reception-lyon-07")
    back = f"/garages/lyon-07/board?day={day.isoformat()}"
    assert auth.form(action, {"next": back}).status_code == 302
    with app.app_context():
        appointment = db.session.get(Appointment, booked)
        assert appointment.status == "checked_in"
        assert (appointment.start_at, appointment.end_at, appointment.technician_id) == was, "it keeps its time"
        case_id = appointment.case_id
    step = [e for e in client.get(f"/api/v1/cases/{case_id}").get_json()["timeline"] if e["kind"] == "check_in"]
    assert step and "ahead of its booking" in step[-1]["text"]
    board = client.get(back).get_data(as_text=True)
    assert action not in board, "checked in once"
    with app.app_context():  # days ahead is no car left the evening before: it would freeze the booking
        week_on = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked",
            Appointment.start_at > CLOCK_NOW + timedelta(days=6)).order_by(Appointment.start_at).limit(1))
        far, far_day = week_on.id, week_on.garage.local(week_on.start_at).date()
    before = footprint(app)
    refused = auth.post(f"/api/v1/appointments/{far}/check-in")
    assert refused.status_code == 422 and "the day before at the earliest" in refused.get_json()["error"]["message"]
    assert footprint(app) == before
    assert f"/appointments/{far}/check-in" not in client.get(f"/garages/lyon-07/board?day={far_day}").get_data(
        as_text=True)


def capacity_busy_at(technician: str, start: datetime, length: timedelta) -> list:
    from scheduler.services import capacity

    return capacity.busy(db.session, technician, start, start + length)


def test_work_started_before_its_time_today_is_drawn_from_now_when_its_technician_is_free(app, client, auth):
    """Started at 09:05 for 15:00 with nothing else on the technician's hands: the board shows it now, not at 15:00,
    and 15:00 is free for others. With other work in the way it starts where it is booked, as before."""
    with app.app_context():
        garage = db.session.get(Garage, "lyon-07")
        end_of_day = garage.local(CLOCK_NOW).replace(hour=23, minute=59)
        job = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked",
            Appointment.start_at >= CLOCK_NOW + timedelta(hours=2), Appointment.start_at < end_of_day)
            .order_by(Appointment.start_at.desc()).limit(1))
        freed, booked_at, length, job_technician = job.id, job.start_at, job.end_at - job.start_at, job.technician_id
        for other in db.session.scalars(select(Appointment).where(  # a quiet morning for its technician
                Appointment.technician_id == job.technician_id, Appointment.id != job.id,
                Appointment.start_at < CLOCK_NOW + length + timedelta(hours=1), Appointment.end_at > CLOCK_NOW)):
            other.status = "cancelled"
        db.session.commit()
        busy = db.session.scalar(select(Appointment).where(  # another technician's later job, with work before it
            Appointment.garage_id == "lyon-07", Appointment.status == "booked",
            Appointment.technician_id != job.technician_id, Appointment.start_at >= CLOCK_NOW + timedelta(hours=1),
            Appointment.start_at < end_of_day, Appointment.technician_id.in_(select(Appointment.technician_id).where(
                Appointment.status.in_(ACTIVE), Appointment.start_at <= CLOCK_NOW,
                Appointment.end_at > CLOCK_NOW + timedelta(minutes=30))))
            .order_by(Appointment.start_at).limit(1))
        kept = (busy.id, busy.start_at)
    auth.login("workshop-lyon-07")
    started = auth.post(f"/api/v1/appointments/{freed}/start")
    assert started.status_code == 200, started.get_json()
    assert datetime.fromisoformat(started.get_json()["start"]) == CLOCK_NOW.replace(second=0, microsecond=0)
    assert datetime.fromisoformat(started.get_json()["end"]) - datetime.fromisoformat(started.get_json()["start"]) \
        == length
    with app.app_context():
        case_id = db.session.get(Appointment, freed).case_id
    said = [e for e in client.get(f"/api/v1/cases/{case_id}").get_json()["timeline"] if e["kind"] == "start"]
    assert "ahead of its booking" in said[-1]["text"]
    with app.app_context():
        assert not capacity_busy_at(job_technician, booked_at, length), "its booked time is free for others"
    as_booked = auth.post(f"/api/v1/appointments/{kept[0]}/start")
    assert as_booked.status_code == 200, as_booked.get_json()
    assert datetime.fromisoformat(as_booked.get_json()["start"]) == kept[1], "its technician is busy now"
    # drawn at its booked time, it is done now: its technician is busy from now for its length, for a booking's
    # check and for the offers alike (both once saw them free, and a walk-in was booked onto the running job)
    ran = datetime.fromisoformat(as_booked.get_json()["end"]) - kept[1]
    with app.app_context():
        from scheduler.services.planning import snapshot

        technician = db.session.get(Appointment, kept[0]).technician_id
        assert kept[0] in [a.id for a in capacity_busy_at(technician, CLOCK_NOW + ran / 2, timedelta(minutes=5))]
        work = snapshot(db.session, CLOCK_NOW).work().until(dict.fromkeys(["lyon-07"], end_of_day))
        (held,) = [a for a in work if a.id == str(kept[0])]
        assert held.start <= int(CLOCK_NOW.timestamp() // 60) and held.end >= int((CLOCK_NOW + ran).timestamp() // 60)


def test_work_started_before_its_day_moves_to_now_when_its_technician_is_free_and_is_refused_otherwise(app, client,
                                                                                                        auth):
    """The customer came a day early and the garage has room: the job is done now and tomorrow's time is freed."""
    from scheduler.services import capacity, outbox

    with app.app_context():
        tomorrow = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked",
            Appointment.start_at > CLOCK_NOW + timedelta(days=1)).order_by(Appointment.start_at).limit(1))
        booked, length, technician = tomorrow.id, tomorrow.end_at - tomorrow.start_at, tomorrow.technician
        booked_at = tomorrow.start_at
        outbox.queue(db.session, "booked", tomorrow, CLOCK_NOW)  # its confirmation, not sent yet
        for quiet in db.session.scalars(select(Appointment).where(  # a quiet day: their work today was cancelled
                Appointment.technician_id == technician.id, Appointment.start_at < CLOCK_NOW + timedelta(hours=12),
                Appointment.end_at > CLOCK_NOW)):
            quiet.status = "cancelled"
        db.session.commit()
        free_now = next(CLOCK_NOW + timedelta(minutes=m) for m in range(0, 10 * 60, 5)
                        if capacity.works(technician, CLOCK_NOW + timedelta(minutes=m),
                                          CLOCK_NOW + timedelta(minutes=m) + length)
                        and not capacity.clash(db.session, technician, CLOCK_NOW + timedelta(minutes=m),
                                               CLOCK_NOW + timedelta(minutes=m) + length, tomorrow.lift, (booked,)))
    evening = CLOCK_NOW.replace(hour=22, minute=0)  # nobody is on shift: the job keeps its day
    app.config["CLOCK"] = lambda: evening
    auth.login("workshop-lyon-07")
    before = footprint(app)
    refused = auth.post(f"/api/v1/appointments/{booked}/start")
    assert refused.status_code == 422 and "not on shift and free" in refused.get_json()["error"]["message"]
    assert footprint(app) == before

    app.config["CLOCK"] = lambda: free_now
    auth.login("workshop-lyon-07")
    started = auth.post(f"/api/v1/appointments/{booked}/start")
    assert started.status_code == 200, started.get_json()
    job = started.get_json()
    assert job["status"] == "in_progress"
    assert datetime.fromisoformat(job["start"]) == free_now
    assert datetime.fromisoformat(job["end"]) - datetime.fromisoformat(job["start"]) == length
    with app.app_context():
        assert not db.session.scalar(select(func.count()).select_from(Appointment).where(
            Appointment.technician_id == technician.id, Appointment.start_at == booked_at,
            Appointment.status.in_(("booked", "checked_in", "in_progress")))), "its day's time is free again"
        case_id = db.session.get(Appointment, booked).case_id
    auth.login("reception-lyon-07")
    step = [e for e in client.get(f"/api/v1/cases/{case_id}").get_json()["timeline"] if e["kind"] == "start"]
    assert step and "ahead of its booking" in step[-1]["text"]
    with app.app_context():  # the confirmation of tomorrow's time never goes, and says why: the work began
        told = db.session.scalar(select(Message).where(Message.appointment_id == booked))
        assert (told.status, told.last_error) == ("failed", "superseded: the work began before it went")

def test_a_past_day_s_booking_is_neither_checked_in_nor_started_and_its_board_offers_neither(app, client, auth):
    """Started two days late, a 45-minute job ran from Saturday to Monday: 48 hours on today's board, a lift taken
    since midnight. A booking whose day has passed is marked absent or cancelled; today's work is a walk-in."""
    with app.app_context():
        then = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "booked",
            Appointment.start_at > CLOCK_NOW + timedelta(days=1)).order_by(Appointment.start_at).limit(1))
        booked, day = then.id, then.garage.local(then.start_at).date()
    app.config["CLOCK"] = lambda: then.start_at + timedelta(days=2)
    before = footprint(app)
    for who, action in (("reception-lyon-07", "check-in"), ("workshop-lyon-07", "start")):
        auth.login(who)
        late = auth.post(f"/api/v1/appointments/{booked}/{action}")
        assert late.status_code == 422 and "not today" in late.get_json()["error"]["message"], action
        page = "board" if who.startswith("reception") else "jobs"
        shown = client.get(f"/garages/lyon-07/{page}?day={day.isoformat()}").get_data(as_text=True)
        assert f"/appointments/{booked}/{action}" not in shown, "no button for what would be refused"
    assert footprint(app) == before
    auth.login("reception-lyon-07")
    assert auth.post(f"/api/v1/appointments/{booked}/no-show").status_code == 200, "what is left to do with it"


def test_a_walk_in_registered_twice_is_told_on_the_second_preview_that_the_car_is_booked(app, client, auth):
    """Two tabs, the same walk-in sent twice: two cases. Once the first is squeezed in, the second's preview says the
    car is booked here already (the same car was booked twice, the second time days later, with no word)."""
    first, second = walk_in(auth), walk_in(auth)
    assert first["id"] != second["id"]
    done = auth.post(f"/api/v1/squeeze/{preview(auth, first['id']).get_json()['id']}/confirm",
                     json={"reason": "engine fault warning"})
    assert done.status_code == 200, done.get_json()
    again = preview(auth, second["id"]).get_json()
    page = client.get(f"/garages/lyon-07/squeeze/{again['id']}").get_data(as_text=True)
    assert "This car is already booked here" in page and f"(case {first['id']})" in page


def test_finished_work_still_counts_in_the_day_s_load(app, client, auth):
    booked = _one_booked_today(app)
    auth.login("workshop-lyon-07")
    before = client.get("/api/v1/garages/lyon-07/board").get_json()["booked_minutes"]
    assert auth.post(f"/api/v1/appointments/{booked}/start").status_code == 200
    assert auth.post(f"/api/v1/appointments/{booked}/finish", json={"note": "done"}).status_code == 200
    assert client.get("/api/v1/garages/lyon-07/board").get_json()["booked_minutes"] == before, "done work took its time"
    auth.login("reception-lyon-07")  # who hands the car back reads what was done
    row = client.get("/garages/lyon-07/board").get_data(as_text=True).split(f'id="appt-{booked}"', 1)[1].split("</tr>")[0]
    assert "Workshop note: done" in row
    auth.login("workshop-lyon-07")
    other = _one_booked_today(app)
    with app.app_context():
        job = db.session.get(Appointment, other)
        minutes = int((job.end_at - job.start_at).total_seconds() // 60)
    assert auth.post(f"/api/v1/appointments/{other}/cancel").status_code == 200
    assert client.get("/api/v1/garages/lyon-07/board").get_json()["booked_minutes"] == before - minutes


def test_reception_losing_a_slot_is_offered_free_times_at_its_own_garage_only(app, client, auth):
    # reception books at its own garage only: fresh offers at other garages would each be refused
    case = walk_in(auth)
    with app.app_context():
        taken = db.session.get(Appointment, _one_booked_today(app))
        slot = {"garage": "lyon-07", "technician": taken.technician_id, "start": taken.start_at.isoformat()}
    refused = auth.post(f"/api/v1/cases/{case['id']}/appointments", json=slot)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "slot_taken"
    offers = refused.get_json()["error"]["details"]["offers"]
    assert offers and {o["garage"] for o in offers} == {"lyon-07"}


def place_at_a_busy_time(app, auth, form: dict):
    """A walk-in's preview, then a placement by hand at a time its technician is booked, with `form` besides."""
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    with app.app_context():
        busy = db.session.get(Appointment, _one_booked_today(app))
        at = busy.start_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
        tech = busy.technician_id
    return auth.form(f"/garages/lyon-07/cases/{case['id']}/place",
                     {"time": at, "technician": tech, "preview": str(proposal["id"]), **form})


def test_a_placement_by_hand_at_a_busy_time_lists_the_free_times_around_it(app, client, auth):
    refused = place_at_a_busy_time(app, auth, {"reason": "foreman's call"})
    assert refused.status_code == 302
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Busy then" in page and "Free then: " in page, "the refusal says free times are listed: they are"
    # today's are times alone; this full day's nearest free times are on another day, and say which
    listed = re.search(r"Free then: ([^<]*)\.", page)[1].split(", ")
    today = CLOCK_NOW.astimezone(ZoneInfo("Europe/Paris"))
    assert all(re.fullmatch(r"(\w{3} \d{1,2} \w{3} )?\d\d:\d\d \(.+\)", t) for t in listed), listed
    assert any(not re.match(r"\d", t) and not t.startswith(f"{today:%a} {today.day} ") for t in listed), listed


def test_an_overbooking_ticked_without_a_reason_is_asked_for_the_reason_not_told_the_time_is_busy(app, client, auth):
    refused = place_at_a_busy_time(app, auth, {"overbook": "yes", "reason": ""})
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Give a reason to book this: the technician or the lifts are busy then" in page
    assert "Free then: " not in page
    # the rules' offer is said with its garage: it may well be another one
    assert re.search(r"The rules offer [^<]+ at [A-Z]", page)


def test_a_confirm_whose_body_is_not_json_is_refused_and_applies_nothing(app, client, auth):
    """A body that does not parse is a 400, never taken for an empty one (which would apply the preview)."""
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    before = moments(app)
    broken = client.post(f"/api/v1/squeeze/{proposal['id']}/confirm", data="{bad", content_type="application/json",
                         headers=auth.headers())
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "bad_request"
    assert moments(app) == before and client.get(f"/api/v1/squeeze/{proposal['id']}").get_json()["status"] == "open"
    no_body = client.post(f"/api/v1/squeeze/{proposal['id']}/confirm", headers=auth.headers())
    assert no_body.status_code == 200, no_body.get_json()  # no body at all is still a confirm without a reason


def test_reception_is_offered_its_own_garages_free_times_which_it_can_book(client, auth):
    """Reception books at its own garage only: the offers it reads are that garage's, and any of them books."""
    case = walk_in(auth, symptom="oil_change")
    found = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()
    assert found["offers"] and {o["garage"] for o in found["offers"]} == {"lyon-07"}
    starts = [o["start"] for o in found["offers"]]
    assert starts == sorted(starts) and all(o["cost"] >= 0 and o["distance_km"] >= 0 for o in found["offers"])
    assert found["target"]["urgency"] == "P3" and "rule_offer" in found
    auth.login("operator")  # the network's offers, which reception is not shown
    network = {(o["garage"], o["start"]) for o in client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"]}
    own = [o for o in found["offers"] if (o["garage"], o["start"]) not in network]
    assert own, "the garage's own free times are not the network's best"
    auth.login("reception-lyon-07")
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: own[-1][k] for k in ("garage", "technician", "start")})
    assert booked.status_code == 201, booked.get_json()
    assert client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"] == []


def test_reception_moves_a_booking_to_another_free_time_from_the_board_with_a_reason(app, client, auth):
    """The customer calls, or their technician is off: reception picks one of the garage's free times (with its
    day when it is not today), says why, and the booking moves; the customer is sent the new time."""
    booked = _one_booked_today(app)
    auth.login("reception-lyon-07")
    # the workshop knows it will take longer: a move keeps the time it was given
    longer = auth.post(f"/api/v1/appointments/{booked}/more-time", json={"minutes": 30})
    assert longer.status_code == 200, longer.get_json()
    with app.app_context():
        given = db.session.get(Appointment, booked)
        length = given.end_at - given.start_at
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    assert f"/garages/lyon-07/appointments/{booked}/move" in board
    page = client.get(f"/garages/lyon-07/appointments/{booked}/move")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    slots = re.findall(r'name="slot" value="([^"]+)"', html)
    assert slots, "the garage's free times are listed"
    chosen = unescape(slots[-1])
    technician, start = chosen.split("|")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)[1]
    no_reason = client.post(f"/garages/lyon-07/appointments/{booked}/move", data={"csrf_token": csrf, "slot": chosen})
    assert no_reason.status_code == 302 and no_reason.headers["Location"].endswith(f"/appointments/{booked}/move")
    with app.app_context():
        assert db.session.get(Appointment, booked).status == "booked", "refused: nothing moved"
    moved = client.post(f"/garages/lyon-07/appointments/{booked}/move",
                        data={"csrf_token": csrf, "slot": chosen, "reason": "the customer can only come later"})
    assert moved.status_code == 302 and "/garages/lyon-07/board?day=" in moved.headers["Location"]
    with app.app_context():
        old = db.session.get(Appointment, booked)
        new = db.session.scalar(select(Appointment).where(Appointment.case_id == old.case_id,
                                                          Appointment.status == "booked"))
        assert old.status == "cancelled"
        assert (new.technician_id, new.start_at) == (technician, datetime.fromisoformat(start))
        assert new.channel == old.channel, "a move keeps how the booking came"
        assert new.end_at - new.start_at == length, "and the time the workshop said it needs"
        assert "rebook" in db.session.scalars(select(Override.kind).where(Override.case_id == old.case_id)).all()
        assert db.session.scalar(select(func.count()).select_from(Message).where(
            Message.appointment_id == new.id, Message.kind == "moved")) == 1
    assert client.get(f"/garages/lyon-07/appointments/{new.id}/move").status_code == 200


def test_a_moved_booking_updates_the_customers_calendar_event_instead_of_adding_one(app, client, auth):
    """A move books the case anew: its message's calendar must carry the first event's UID with a higher SEQUENCE,
    or the customer's calendar keeps the old time beside the new one."""
    from tests.web.story import open_case

    auth.login("operator")
    case = open_case(auth, plate="CAL-001-EE")
    offers = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"]
    first = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                      json={k: offers[0][k] for k in ("garage", "technician", "start")})
    assert first.status_code == 201, first.get_json()
    again = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"]
    other = next(o for o in again if o["start"] != offers[0]["start"])
    moved = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                      json={**{k: other[k] for k in ("garage", "technician", "start")}, "reason": "customer asked",
                            "replaces": first.get_json()["id"]})
    assert moved.status_code == 201, moved.get_json()
    with app.app_context():
        events = [utc_event(m.ics) for m in db.session.scalars(
            select(Message).where(Message.case_id == case["id"]).order_by(Message.id))]
    assert len(events) == 2 and events[0]["uid"] == events[1]["uid"]
    assert events[1]["sequence"] > events[0]["sequence"]
    assert events[1].decoded("dtstart") == datetime.fromisoformat(other["start"])
    # the replaced booking's own calendar file shows the booking that holds, never a cancellation of the event
    old = client.get(f"/api/v1/appointments/{first.get_json()['id']}/calendar.ics").get_data(as_text=True)
    assert "METHOD:CANCEL" not in old and utc_event(old).decoded("dtstart") == datetime.fromisoformat(other["start"])


def test_a_booking_cancelled_before_its_messages_went_sends_only_the_cancellation(app, client, auth):
    """Moved, then cancelled, before the outbox went: the customer was to get "moved to 15:15" and "cancelled"."""
    booked = _one_booked_today(app)
    with app.app_context():
        appointment = db.session.get(Appointment, booked)
        outbox_before = {m.id for m in db.session.scalars(select(Message))}
    auth.login("reception-lyon-07")
    page = client.get(f"/garages/lyon-07/appointments/{booked}/move").get_data(as_text=True)
    slot = re.search(r'name="slot" value="([^"]+)"', page).group(1)
    assert auth.form(f"/garages/lyon-07/appointments/{booked}/move",
                     {"slot": slot, "reason": "customer asked"}).status_code == 302
    with app.app_context():
        moved_to = db.session.scalar(select(Appointment).where(Appointment.case_id == appointment.case_id,
                                                               Appointment.status == "booked"))
        moved_id = moved_to.id
    back = client.get(f"/garages/lyon-07/appointments/{booked}/move", follow_redirects=True).get_data(as_text=True)
    assert "was moved: it is booked" in back and "Only a booking not yet checked in" not in back  # the back button
    assert auth.post(f"/api/v1/appointments/{moved_id}/cancel").status_code == 200
    with app.app_context():
        new = [m for m in db.session.scalars(select(Message).order_by(Message.id)) if m.id not in outbox_before]
        waiting = [m.kind for m in new if m.status == "queued"]
    assert waiting == ["cancelled"], [(m.kind, m.status) for m in new]


def test_finished_work_is_drawn_where_it_ran_not_over_the_next_booking(app, client, auth):
    with app.app_context():
        running = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == "lyon-07", Appointment.status == "in_progress").order_by(Appointment.start_at))
        running_id, booked = running.id, (running.start_at, running.end_at)
    auth.login("workshop-lyon-07")
    assert auth.post(f"/api/v1/appointments/{running_id}/finish", json={"note": "quick"}).status_code == 200
    with app.app_context():
        done = db.session.get(Appointment, running_id)
        ran = done.garage.local(done.started_at), done.garage.local(done.finished_at)
    auth.login("reception-lyon-07")
    page = client.get("/garages/lyon-07/board").get_data(as_text=True)
    drawn = re.search(rf'<a href="#appt-{running_id}" class="tl-job done[^"]*"\s+style="[^"]*"\s+title="([^"]+)"', page)
    assert drawn and drawn[1].startswith(f"{ran[0]:%H:%M}–{ran[1]:%H:%M}"), (drawn and drawn[1], booked)
    # the job list puts what is still to do first, and folds the finished work away under its count
    finished = page.index('<details class="finished-jobs"')
    assert page.index(f'<tr id="appt-{running_id}"') > finished
    still = re.findall(r'<tr id="appt-(\d+)" class="(booked|checked_in|in_progress)', page)
    assert still and all(page.index(f'<tr id="appt-{i}"') < finished for i, _status in still)


def test_a_customer_checked_in_and_kept_waiting_is_shown_late(app, client, auth):
    due = _one_booked_today(app)
    with app.app_context():
        start = db.session.get(Appointment, due).start_at
    app.config["CLOCK"] = lambda: start + timedelta(minutes=20)  # twenty minutes after their time
    auth.login("reception-lyon-07")
    assert due in client.get("/api/v1/garages/lyon-07/board").get_json()["late"]
    assert auth.post(f"/api/v1/appointments/{due}/check-in").status_code == 200
    # here now, but their job has not started a quarter of an hour after its time: still late, the garage's doing
    assert due in client.get("/api/v1/garages/lyon-07/board").get_json()["late"]


def test_a_squeeze_of_a_case_booked_already_says_it_moves_that_booking(app, client, auth):
    """A customer booked for later turns up at the counter: fitting them in today cancels that booking, which the
    preview did not say (API audit)."""
    case = walk_in(auth, symptom="annual_service")
    offers = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"]
    later = offers[-1]
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: later[k] for k in ("garage", "technician", "start")})
    assert booked.status_code == 201, booked.get_json()
    shown = preview(auth, case["id"]).get_json()
    assert shown["replaces"]["id"] == booked.get_json()["id"]
    page = client.get(f"/garages/lyon-07/squeeze/{shown['id']}").get_data(as_text=True)
    assert "The customer is booked already" in page
    fresh = preview(auth, walk_in(auth, vehicle={"plate": "WI-009-KC", "model": "Clio"})["id"]).get_json()
    assert fresh["replaces"] is None


def test_a_squeeze_names_an_unknown_garage_as_its_field_and_only_reception_decides_it(app, client, auth):
    case = walk_in(auth)
    unknown = preview(auth, case["id"], garage="nowhere")
    assert unknown.status_code == 400 and unknown.get_json()["error"]["details"]["field"] == "garage"
    made = preview(auth, case["id"])
    assert made.status_code == 200, made.get_json()
    auth.login("admin")
    assert auth.post(f"/api/v1/squeeze/{made.get_json()['id']}/confirm", json={}).status_code == 403
    assert auth.post(f"/api/v1/squeeze/{made.get_json()['id']}/reject", json={}).status_code == 403
    auth.login("reception-lyon-07")
    assert auth.post(f"/api/v1/squeeze/{made.get_json()['id']}/reject", json={}).status_code == 200
