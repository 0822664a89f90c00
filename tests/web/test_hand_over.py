"""A colleague takes a job over: its technician went home sick mid-morning, and the car is already at the counter
(no re-plan moves a checked-in car). The garage desk hands it over at the same time, and only to someone who can
do it then; the case's timeline says who took it from whom. The bookings still to come are re-planned from the
board's banner."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.models import Appointment, Garage, PlanPreview, Technician
from scheduler.services import capacity
from tests.conftest import CLOCK_NOW
from web.extensions import db

GARAGE = "lyon-07"
BOARD = f"/garages/{GARAGE}/board"
PARIS = ZoneInfo("Europe/Paris")


def overlapping(technician_id: str, appointment: Appointment) -> list[Appointment]:
    return list(db.session.scalars(select(Appointment).where(
        Appointment.technician_id == technician_id, Appointment.id != appointment.id,
        Appointment.status.in_(("booked", "checked_in", "in_progress")),
        Appointment.start_at < appointment.end_at, Appointment.end_at > appointment.start_at)))


def cast(app, status: str = "booked") -> dict:
    """A job of today (`status`) whose technician has it, a colleague with its skill on shift then whose own work
    then is cancelled (their customers called off), a colleague with the skill on shift then who stays busy, and
    one without the skill when there is one."""
    with app.app_context():
        jobs = db.session.scalars(select(Appointment).where(
            Appointment.garage_id == GARAGE, Appointment.status == status).order_by(Appointment.start_at))
        today = CLOCK_NOW.astimezone(PARIS).date()
        for job in jobs:
            if job.start_at.astimezone(PARIS).date() != today or (status == "booked" and job.start_at <= CLOCK_NOW):
                continue
            left = (max(job.start_at, CLOCK_NOW), job.end_at)
            everyone = list(db.session.scalars(select(Technician).where(Technician.garage_id == GARAGE)))
            unskilled = [t.id for t in everyone if job.skill_code not in t.skill_codes]
            skilled = [t for t in everyone if t.id != job.technician_id and job.skill_code in t.skill_codes and capacity.works(t, *left)]
            busy = [t for t in skilled if overlapping(t.id, job)]
            if len(skilled) >= 2 and busy and (unskilled or status != "booked"):
                free = next(t for t in skilled if t is not busy[0])
                for other in overlapping(free.id, job):
                    other.status = "cancelled"
                db.session.commit()
                return {"job": job.id, "plate": job.case.vehicle.plate, "case": job.case_id,
                        "had": job.technician_id, "had_name": job.technician.name,
                        "free": free.id, "free_name": free.name, "busy": busy[0].id, "busy_name": busy[0].name,
                        "started_at": job.started_at, "unskilled": unskilled[0] if unskilled else None}
    raise AssertionError(f"no {status} job today with a free and a busy colleague")


def busiest(app, start: datetime, end: datetime) -> tuple[str, list[int]]:
    """The technician with the most booked work starting in [start, end), and that work."""
    with app.app_context():
        rows = db.session.execute(select(Appointment.technician_id, Appointment.id).where(
            Appointment.garage_id == GARAGE, Appointment.status == "booked", Appointment.start_at >= start,
            Appointment.start_at < end)).all()
    per: dict[str, list[int]] = {}
    for tech, appointment in rows:
        per.setdefault(tech, []).append(appointment)
    sick = max(sorted(per), key=lambda t: len(per[t]))
    return sick, sorted(per[sick])


def technician_of(app, appointment_id: int) -> tuple[str, str]:
    with app.app_context():
        a = db.session.get(Appointment, appointment_id)
        return a.technician_id, a.status


def test_a_technician_sent_home_sick_hands_a_checked_in_car_to_a_free_colleague(app, client, auth):
    c = cast(app)
    auth.login(f"reception-{GARAGE}")
    assert auth.post(f"/api/v1/appointments/{c['job']}/check-in").status_code == 200

    auth.login("admin")  # sick from now to the end of the day
    local = CLOCK_NOW.astimezone(PARIS)
    sick = auth.post(f"/api/v1/technicians/{c['had']}/absences",
                     json={"start": local.strftime("%Y-%m-%dT%H:%M"),
                           "end": datetime.combine(local.date(), time(23, 0)).strftime("%Y-%m-%dT%H:%M"),
                           "reason": "sick"})
    assert sick.status_code == 201, sick.get_json()

    auth.login(f"workshop-{GARAGE}")
    refused = auth.post(f"/api/v1/appointments/{c['job']}/start")
    assert refused.status_code == 409, "work is not started in the name of someone gone home"
    message = refused.get_json()["error"]["message"]
    assert c["had_name"] in message and "absent" in message and "colleague" in message
    assert technician_of(app, c["job"]) == (c["had"], "checked_in")

    auth.login(f"reception-{GARAGE}")
    board = unescape(client.get(BOARD).get_data(as_text=True))
    banner = board.split("Technician not on shift")[1].split("</div>")[0]
    assert c["plate"] in banner and "each needs a colleague" in banner
    row = board.split(f'id="appt-{c["job"]}"')[1].split("</tr>")[0]
    hand_over = row.split("Hand over")[1].split("</details>")[0]
    assert f'value="{c["free"]}"' in hand_over and f'value="{c["had"]}"' not in hand_over
    options = re.findall(r'<option value="([^"]+)">([^<]+)</option>', hand_over)
    assert options[0] == (c["free"], c["free_name"]), "who is free comes first, as is"
    assert (c["busy"], f"{c['busy_name']} (busy then)") in options, "who is busy is said before anyone picks them"

    taken = auth.post(f"/api/v1/appointments/{c['job']}/hand-over", json={"technician": c["busy"]})
    assert taken.status_code == 409, taken.get_json()
    assert c["busy_name"] in taken.get_json()["error"]["message"]
    free = taken.get_json()["error"]["details"]["free"]
    assert c["free"] in free and c["busy"] not in free, "the refusal says who can take it"
    assert technician_of(app, c["job"]) == (c["had"], "checked_in")

    given = auth.form(f"/garages/{GARAGE}/appointments/{c['job']}/hand-over",
                      {"technician": c["free"], "next": BOARD}, follow_redirects=True)
    page = unescape(given.get_data(as_text=True))
    assert f"{c['plate']} is now {c['free_name']}'s job." in page
    assert technician_of(app, c["job"]) == (c["free"], "checked_in"), "same time, same car: another technician"

    case = client.get(f"/api/v1/cases/{c['case']}").get_json()
    assert case["timeline"][-1]["kind"] == "handed_over"
    auth.login("operator")
    timeline = unescape(client.get(f"/desk/cases/{c['case']}").get_data(as_text=True))
    assert f"Taken over by {c['free_name']} from {c['had_name']}" in timeline

    auth.login(f"workshop-{GARAGE}")
    started = auth.post(f"/api/v1/appointments/{c['job']}/start")
    assert started.status_code == 200 and started.get_json()["technician"] == c["free"]


def test_a_job_under_way_handed_over_stays_under_way_from_when_it_started(app, client, auth):
    c = cast(app, "in_progress")
    auth.login(f"workshop-{GARAGE}")
    given = auth.post(f"/api/v1/appointments/{c['job']}/hand-over", json={"technician": c["free"]})
    assert given.status_code == 200, given.get_json()
    body = given.get_json()
    assert (body["technician"], body["status"]) == (c["free"], "in_progress")
    with app.app_context():
        assert db.session.get(Appointment, c["job"]).started_at == c["started_at"], "its start is a fact"
    assert auth.post(f"/api/v1/appointments/{c['job']}/finish", json={"note": "done by a colleague"}).status_code == 200


def test_a_hand_over_that_cannot_be_is_refused_and_changes_nothing(app, client, auth):
    c = cast(app)
    with app.app_context():
        elsewhere = db.session.scalar(select(Technician.id).where(Technician.garage_id != GARAGE).limit(1))
    path = f"/api/v1/appointments/{c['job']}/hand-over"

    auth.login("reception-lyon-03")
    assert auth.post(path, json={"technician": c["free"]}).status_code == 403, "another garage's reception"
    auth.login("operator")
    assert auth.post(path, json={"technician": c["free"]}).status_code == 403, "the call centre"

    auth.login(f"reception-{GARAGE}")
    for technician, status, field in (({}, 400, "technician"), ({"technician": 7}, 400, "technician"),
                                      ({"technician": "nobody"}, 400, "technician"),
                                      ({"technician": elsewhere}, 400, "technician"),
                                      ({"technician": c["had"]}, 400, "technician"),
                                      ({"technician": c["unskilled"]}, 422, "technician")):
        refused = auth.post(path, json=technician)
        assert refused.status_code == status, (technician, refused.get_json())
        assert refused.get_json()["error"]["details"]["field"] == field
    assert technician_of(app, c["job"]) == (c["had"], "booked")
    with app.app_context():
        stranger = db.session.get(Technician, elsewhere).name
    said = auth.post(path, json={"technician": elsewhere}).get_json()["error"]["message"]
    assert elsewhere in said and stranger not in said, "another garage's staff are not named to this one"

    auth.login("admin")  # the free colleague is off at training for the day: not on shift for it either
    day = CLOCK_NOW.astimezone(PARIS).date().isoformat()
    assert auth.post(f"/api/v1/technicians/{c['free']}/absences",
                     json={"start": day, "end": day, "reason": "training"}).status_code == 201
    auth.login(f"reception-{GARAGE}")
    off = auth.post(path, json={"technician": c["free"]})
    assert off.status_code == 422 and "not on shift" in off.get_json()["error"]["message"], off.get_json()
    assert technician_of(app, c["job"]) == (c["had"], "booked")

    assert auth.post(f"/api/v1/appointments/{c['job']}/cancel", json={"reason": "called off"}).status_code == 200
    done = auth.post(path, json={"technician": c["free"]})
    assert done.status_code == 409 and "cancelled" in done.get_json()["error"]["message"]


def test_reception_re_plans_the_bookings_of_a_technician_off_sick_from_the_board(app, client, auth):
    today = CLOCK_NOW.astimezone(PARIS).date()
    sick, booked = busiest(app, CLOCK_NOW, datetime.combine(today, time(23, 0), PARIS))
    auth.login("admin")
    assert auth.post(f"/api/v1/technicians/{sick}/absences",
                     json={"start": today.isoformat(), "end": today.isoformat(), "reason": "sick"}).status_code == 201

    auth.login(f"workshop-{GARAGE}")  # the workshop reads the banner; deciding a re-plan is reception's
    assert "/replan" not in client.get(f"/garages/{GARAGE}/jobs").get_data(as_text=True)

    auth.login(f"reception-{GARAGE}")
    board = unescape(client.get(BOARD).get_data(as_text=True))
    banner = board.split("Technician not on shift")[1].split("</div>")[0]
    form = banner.split(f'action="/garages/{GARAGE}/replan"')[1].split("</form>")[0]
    assert f"Re-plan the {len(booked)} bookings" in form
    assert sorted(int(i) for i in re.findall(r'name="appointment" value="(\d+)"', form)) == booked

    made = auth.form(f"/garages/{GARAGE}/replan", {"appointment": [str(i) for i in booked]})
    assert made.status_code == 302 and "/squeeze/" in made.headers["Location"]
    preview_id = int(made.headers["Location"].rstrip("/").split("/")[-1])
    proposal = client.get(f"/api/v1/squeeze/{preview_id}").get_json()
    placed = {p["appointment"] for p in proposal["placements"]}
    assert placed and placed | set(proposal["unplaced"]) == set(booked)
    assert technician_of(app, booked[0])[0] == sick, "a preview moves nothing"
    assert auth.post(f"/api/v1/squeeze/{preview_id}/confirm", json={}).status_code == 200
    with app.app_context():
        for appointment_id in placed:
            a = db.session.get(Appointment, appointment_id)
            assert a.technician_id != sick and capacity.works(a.technician, a.start_at, a.end_at)


def test_a_job_started_late_is_handed_over_only_to_someone_free_until_it_will_really_end(app, client, auth):
    c = cast(app)
    with app.app_context():
        job = db.session.get(Appointment, c["job"])
        booked_end, length = job.end_at, job.end_at - job.start_at
        late = job.start_at + timedelta(minutes=30)
        # the colleague's next customer comes at the job's booked end: free for the job as booked, not as it runs
        for other in db.session.scalars(select(Appointment).where(
                Appointment.technician_id == c["free"], Appointment.status.in_(("booked", "checked_in")),
                Appointment.start_at < booked_end + timedelta(minutes=30), Appointment.end_at > booked_end)):
            other.status = "cancelled"
        db.session.flush()
        nxt = db.session.scalar(select(Appointment).where(Appointment.status == "cancelled",
                                                           Appointment.garage_id == GARAGE).limit(1))
        nxt.technician_id, nxt.start_at, nxt.end_at = c["free"], booked_end, booked_end + timedelta(minutes=30)
        nxt.status, nxt.overbooked, nxt.lift = "booked", False, False
        db.session.commit()
    app.config["CLOCK"] = lambda: late
    auth.login(f"workshop-{GARAGE}")
    assert auth.post(f"/api/v1/appointments/{c['job']}/start").status_code == 200
    refused = auth.post(f"/api/v1/appointments/{c['job']}/hand-over", json={"technician": c["free"]})
    assert refused.status_code == 409, "started 30 minutes late, it runs 30 minutes into their next customer"
    with app.app_context():
        assert (late + length) - booked_end == timedelta(minutes=30)
    assert technician_of(app, c["job"]) == (c["had"], "in_progress")


def test_a_lift_job_is_handed_over_though_the_lifts_are_over_their_count(app, client, auth):
    """An admin cut the lifts below what is in use, or a lift overbooking was consented: the job keeps the lift it
    holds, so taking it over takes none (the database guard refused it as 'lifts full')."""
    c = cast(app)
    with app.app_context():
        job = db.session.get(Appointment, c["job"])
        job.lift = True
        db.session.flush()
        job.garage.lifts = 0
        db.session.commit()
    auth.login(f"reception-{GARAGE}")
    given = auth.post(f"/api/v1/appointments/{c['job']}/hand-over", json={"technician": c["free"]})
    assert given.status_code == 200, given.get_json()
    assert technician_of(app, c["job"]) == (c["free"], "booked")


def test_a_deactivated_technicians_jobs_stay_on_the_board_to_be_handed_over(app, client, auth):
    c = cast(app)
    auth.login("admin")
    gone = auth.client.patch(f"/api/v1/technicians/{c['had']}", json={"active": False}, headers=auth.headers())
    assert gone.status_code == 200, gone.get_json()
    auth.login(f"reception-{GARAGE}")
    board = unescape(client.get(BOARD).get_data(as_text=True))
    assert f'id="appt-{c["job"]}"' in board, "their customers still come: the jobs must not vanish"
    banner = board.split("Technician not on shift")[1].split("</div>")[0]
    assert c["plate"] in banner
    row = board.split(f'id="appt-{c["job"]}"')[1].split("</tr>")[0]
    assert f'value="{c["free"]}"' in row.split("Hand over")[1]
    assert auth.post(f"/api/v1/appointments/{c['job']}/hand-over", json={"technician": c["free"]}).status_code == 200


def test_a_later_days_re_plan_asked_twice_waits_once_and_its_confirm_returns_to_that_days_board(app, client, auth):
    with app.app_context():
        garage = db.session.get(Garage, GARAGE)
        day = CLOCK_NOW.astimezone(PARIS).date() + timedelta(days=1)
        while not any(h.weekday == day.weekday() for h in garage.opening_hours):
            day += timedelta(days=1)
        bounds = garage.day_bounds(day)
    sick, booked = busiest(app, *bounds)
    with app.app_context():
        name = db.session.get(Technician, sick).name
    auth.login("admin")
    assert auth.post(f"/api/v1/technicians/{sick}/absences",
                     json={"start": day.isoformat(), "end": day.isoformat(), "reason": "sick"}).status_code == 201
    # and moved to another garage meanwhile: the preview still names who had the work, not an id
    assert auth.client.patch(f"/api/v1/technicians/{sick}", json={"garage": "givors"},
                             headers=auth.headers()).status_code == 200
    auth.login(f"reception-{GARAGE}")
    ids = {"appointment": [str(i) for i in booked]}
    first = auth.form(f"/garages/{GARAGE}/replan", ids)
    second = auth.form(f"/garages/{GARAGE}/replan", ids)  # a second click
    assert first.status_code == second.status_code == 302
    with app.app_context():
        waiting = db.session.scalars(select(PlanPreview.id).where(
            PlanPreview.garage_id == GARAGE, PlanPreview.kind == "replan", PlanPreview.status == "open")).all()
    assert waiting == [int(second.headers["Location"].rstrip("/").split("/")[-1])], "one re-plan waits, the newest"
    page = unescape(client.get(second.headers["Location"]).get_data(as_text=True))
    assert name in page and f"with {sick}" not in page
    done = auth.form(second.headers["Location"] + "/confirm", {})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/board?day={day.isoformat()}")


def test_a_job_given_more_time_then_handed_over_leaves_no_re_plan_waiting_for_the_one_it_left(app, client, auth):
    from tests.web.test_more_time_replan import more_time_from_the_job_list, open_replan

    asked, first, _later = more_time_from_the_job_list(app, auth, minutes=15)
    assert asked.status_code == 302 and open_replan(app) is not None, "the longer job runs into later work"
    with app.app_context():
        job = db.session.get(Appointment, first)
        taker = next(t.id for t in db.session.scalars(select(Technician).where(Technician.garage_id == GARAGE))
                     if t.id != job.technician_id and job.skill_code in t.skill_codes
                     and capacity.works(t, max(job.start_at, CLOCK_NOW), job.end_at))
        for other in overlapping(taker, job):  # their customers then called off
            other.status = "cancelled"
        db.session.commit()
    given = auth.post(f"/api/v1/appointments/{first}/hand-over", json={"technician": taker})
    assert given.status_code == 200, given.get_json()
    assert open_replan(app) is None, "the work it ran into is no longer in its way"
