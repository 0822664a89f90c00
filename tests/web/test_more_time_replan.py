"""A job that needs more time and runs into later work: the workshop stays on its job list, and the re-plan
waits on reception's board (and its polled inbox) until reception confirms or rejects it."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from scheduler.models import Appointment, PlanPreview
from tests.conftest import CLOCK_NOW
from web.extensions import db

GARAGE = "lyon-07"
BOARD = f"/garages/{GARAGE}/board"
JOBS = f"/garages/{GARAGE}/jobs"
INBOX = f"/garages/{GARAGE}/direct-line/inbox"


def job_with_work_right_after(app) -> tuple[int, int]:
    """A booked job of today whose technician has another booked job starting as it ends."""
    with app.app_context():
        rows = list(db.session.scalars(select(Appointment).where(
            Appointment.garage_id == GARAGE, Appointment.status == "booked").order_by(Appointment.start_at)))
        follow = {(a.technician_id, a.start_at): a.id for a in rows}
        first = next(a for a in rows if a.start_at > CLOCK_NOW and a.start_at.date() == CLOCK_NOW.date()
                     and (a.technician_id, a.end_at) in follow)
        return first.id, follow[(first.technician_id, first.end_at)]


def more_time_from_the_job_list(app, auth, minutes: int = 120) -> tuple[object, int, int]:
    """The workshop starts the job and asks for more time through the job list's form."""
    first, later = job_with_work_right_after(app)
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/start", {"next": JOBS}).status_code == 302
    asked = auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time", {"minutes": str(minutes), "next": JOBS})
    return asked, first, later


def open_replan(app) -> PlanPreview:
    with app.app_context():
        return db.session.scalar(select(PlanPreview).where(
            PlanPreview.garage_id == GARAGE, PlanPreview.kind == "replan", PlanPreview.status == "open")
            .order_by(PlanPreview.id.desc()))


def live_version(html: str) -> str:
    return re.search(r'direct-line/inbox\?v=([0-9a-f]+)', html).group(1)


def test_the_workshops_more_time_ends_on_its_job_list_and_the_re_plan_waits_on_receptions_board(app, client, auth):
    asked, first, later = more_time_from_the_job_list(app, auth)
    assert asked.status_code == 302 and asked.headers["Location"].endswith(JOBS), \
        "the workshop stays on its job list: deciding the re-plan is reception's"
    job_list = client.get(JOBS)
    assert job_list.status_code == 200
    page = job_list.get_data(as_text=True)
    replan = open_replan(app)
    assert replan is not None and later in replan.plan["replaced"]
    assert replan.plan["cause"] == {"kind": "more_time", "appointment": first, "minutes": 120}
    assert "reception has a re-plan of it to confirm" in page, "the flash says reception has the re-plan to confirm"
    assert f'id="replan-{replan.id}"' in page, "the job list shows the re-plan waiting at reception"
    assert f"/squeeze/{replan.id}" not in page, "…without a link the workshop could not open"
    with app.app_context():
        assert db.session.get(Appointment, first).overbooked, "the extra time is applied, flagged until re-planned"

    auth.login(f"reception-{GARAGE}")
    board = client.get(BOARD).get_data(as_text=True)
    assert f'id="replan-{replan.id}"' in board
    item = board[board.index(f'id="replan-{replan.id}"'):].split("</li>")[0]
    with app.app_context():
        extended = db.session.get(Appointment, first)
        plate, technician = extended.case.vehicle.plate, extended.technician.name
    assert plate in item and technician in item and "2 h" in item, \
        "what caused it, in the reader's words: whose job needs how much more time"
    link = f"/garages/{GARAGE}/squeeze/{replan.id}"
    assert f'href="{link}"' in item
    assert client.get(link).status_code == 200
    api = client.get(f"/api/v1/garages/{GARAGE}/board").get_json()
    assert [r["preview"] for r in api["replans"]] == [replan.id]
    assert api["replans"][0]["cause"]["appointment"] == first and later in api["replans"][0]["appointments"]
    with app.app_context():
        assert db.session.get(PlanPreview, replan.id).status == "open", "reading the board writes nothing"

    version = live_version(board)
    assert client.get(INBOX, query_string={"v": version}).status_code == 204, "the poll: nothing new"
    confirmed = auth.form(f"{link}/confirm")
    assert confirmed.status_code == 302
    assert open_replan(app) is None
    polled = client.get(INBOX, query_string={"v": version})
    assert polled.status_code == 200, "the poll sees the decision within seconds"
    assert f'id="replan-{replan.id}"' not in polled.get_data(as_text=True)
    assert f'id="replan-{replan.id}"' not in client.get(BOARD).get_data(as_text=True)
    assert client.get(f"/api/v1/garages/{GARAGE}/board").get_json()["replans"] == []


def test_a_rejected_re_plan_is_no_longer_waiting_and_a_new_one_shows_within_a_poll(app, client, auth):
    auth.login(f"reception-{GARAGE}")
    version = live_version(client.get(BOARD).get_data(as_text=True))
    asked, _first, _later = more_time_from_the_job_list(app, auth)
    assert asked.status_code == 302
    replan = open_replan(app)
    auth.login(f"reception-{GARAGE}")
    polled = client.get(INBOX, query_string={"v": version})
    assert polled.status_code == 200 and f'id="replan-{replan.id}"' in polled.get_data(as_text=True)
    assert auth.form(f"/garages/{GARAGE}/squeeze/{replan.id}/reject").status_code == 302
    assert f'id="replan-{replan.id}"' not in client.get(BOARD).get_data(as_text=True)


def test_a_second_extension_replaces_the_first_re_plan_and_a_day_gone_by_ends_the_wait(app, client, auth):
    asked, first, _later = more_time_from_the_job_list(app, auth, minutes=30)
    older = open_replan(app)
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time",
                     {"minutes": "30", "next": JOBS}).status_code == 302
    newer = open_replan(app)
    assert newer.id != older.id
    assert set(older.plan["replaced"]) <= set(newer.plan["replaced"]), "the work the first was to re-place stays in"
    assert newer.plan["cause"]["minutes"] == 60, "it is for both extensions"
    auth.login(f"reception-{GARAGE}")
    board = client.get(BOARD).get_data(as_text=True)
    assert f'id="replan-{newer.id}"' in board and f'id="replan-{older.id}"' not in board, \
        "one re-plan per job waits: the latest"
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(days=1)
    assert f'id="replan-{newer.id}"' not in client.get(BOARD).get_data(as_text=True), "yesterday's re-plan is moot"


def test_reception_asking_more_time_still_goes_straight_to_the_preview(app, client, auth):
    first, _later = job_with_work_right_after(app)
    auth.login(f"reception-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/start").status_code == 302
    asked = auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time", {"minutes": "120"})
    assert asked.status_code == 302 and f"/garages/{GARAGE}/squeeze/" in asked.headers["Location"]
    page = client.get(asked.headers["Location"])
    assert page.status_code == 200
    with app.app_context():
        plate = db.session.get(Appointment, first).case.vehicle.plate
    assert f"{plate} with " in page.get_data(as_text=True) and "now ends 2 h later than booked" in page.get_data(as_text=True)


def test_a_second_extension_into_free_time_still_brings_the_waiting_re_plan_up_to_date(app, client, auth):
    """The first extension runs into the next job; the second only into free time. Reception must still see
    the whole of it: a re-plan for both extensions, not one that says the job needs the first minutes only."""
    with app.app_context():
        rows = list(db.session.scalars(select(Appointment).where(
            Appointment.garage_id == GARAGE, Appointment.status.in_(("booked", "checked_in", "in_progress")))
            .order_by(Appointment.start_at)))
        follow = {(a.technician_id, a.start_at): a for a in rows if a.status == "booked"}

        def free_after(a: Appointment) -> bool:
            return not any(b.technician_id == a.technician_id and b.start_at < a.end_at + timedelta(minutes=15)
                           and b.end_at > a.end_at for b in rows)

        first, later = next((a, follow[(a.technician_id, a.end_at)]) for a in rows
                            if a.status == "booked" and a.start_at > CLOCK_NOW
                            and a.start_at.date() == CLOCK_NOW.date() and (a.technician_id, a.end_at) in follow
                            and free_after(follow[(a.technician_id, a.end_at)]))
        first_id, later_id = first.id, later.id
        into_later = int((later.end_at - later.start_at).total_seconds() // 60)
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first_id}/start", {"next": JOBS}).status_code == 302
    assert auth.form(f"/garages/{GARAGE}/appointments/{first_id}/more-time",
                     {"minutes": str(into_later), "next": JOBS}).status_code == 302
    older = open_replan(app)
    assert older.plan["replaced"] == [later_id]
    assert auth.form(f"/garages/{GARAGE}/appointments/{first_id}/more-time",
                     {"minutes": "15", "next": JOBS}).status_code == 302
    newer = open_replan(app)
    assert newer.id != older.id, "the first re-plan's minutes are out of date"
    assert newer.plan["replaced"] == [later_id]
    assert newer.plan["cause"]["minutes"] == into_later + 15
    with app.app_context():
        assert db.session.get(PlanPreview, older.id).status == "superseded"


def test_more_time_into_a_customer_already_checked_in_says_who_now_waits(app, client, auth):
    """No re-plan may move a customer who is already here: the page names them and until when they wait."""
    first, later = job_with_work_right_after(app)
    auth.login(f"reception-{GARAGE}")
    assert auth.post(f"/api/v1/appointments/{later}/check-in").status_code == 200
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/start", {"next": JOBS}).status_code == 302
    asked = auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time", {"minutes": "30", "next": JOBS})
    assert asked.status_code == 302
    page = client.get(JOBS).get_data(as_text=True)
    with app.app_context():
        waiting = db.session.get(Appointment, later)
        name, plate = waiting.case.customer.name, waiting.case.vehicle.plate
        end = db.session.get(Appointment, first).end_at.astimezone(waiting.garage.zone)
    assert "nothing else moves" not in page
    assert f"{name} ({plate}," in page and f"now waits until {end:%H:%M}" in page
    assert open_replan(app) is None, "nothing to re-plan: the customer is here"
    more = auth.post(f"/api/v1/appointments/{first}/more-time", json={"minutes": 15})
    assert more.status_code == 200 and [a["id"] for a in more.get_json()["waiting"]] == [later]
    assert more.get_json()["past_shift_end"] is None, "the later job is within the shift, so is this one"


def test_starting_a_second_car_for_a_technician_says_the_first_is_still_under_way(app, client, auth):
    first, later = job_with_work_right_after(app)
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/start", {"next": JOBS}).status_code == 302
    client.get(JOBS)  # the flash of that first start is read
    assert auth.form(f"/garages/{GARAGE}/appointments/{later}/start", {"next": JOBS}).status_code == 302
    page = client.get(JOBS).get_data(as_text=True)
    with app.app_context():
        running = db.session.get(Appointment, first)
        plate, name = running.case.vehicle.plate, running.technician.name
    flashed = re.search(rf"{name} also has ([^<]*) under way\.", page)
    assert flashed and plate in flashed.group(1).split(", "), "the first car is named"


def test_customers_left_waiting_by_a_rejected_re_plan_are_told_by_how_long(app, client, auth):
    from scheduler.models import Message

    asked, first, later = more_time_from_the_job_list(app, auth, minutes=60)
    assert asked.status_code == 302
    replan = open_replan(app)
    with app.app_context():
        told = db.session.scalars(select(Message).where(Message.appointment_id == later, Message.kind == "delayed"))
        assert list(told) == [], "nobody is told while the re-plan may still move them"
    auth.login(f"reception-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/squeeze/{replan.id}/reject").status_code == 302
    with app.app_context():
        told = list(db.session.scalars(select(Message).where(Message.appointment_id == later,
                                                             Message.kind == "delayed")))
        assert len(told) == 1, "the customer booked right after the longer job waits an hour for it"
        assert "60 minutes" in told[0].body
    # a quarter of an hour more again: told at once all they now wait (75 minutes), not the 15 this one adds (they
    # were told nothing: the job's new quarter clashed with no booking)
    auth.login(f"workshop-{GARAGE}")
    again = auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time", {"minutes": "15", "next": JOBS})
    assert again.status_code == 302 and open_replan(app) is None, "its booked time clashes with nothing new"
    with app.app_context():
        told = list(db.session.scalars(select(Message).where(Message.appointment_id == later,
                                                             Message.kind == "delayed").order_by(Message.id)))
        assert len(told) == 2 and "75 minutes" in told[1].body, [m.body for m in told]


def test_a_delay_still_unsent_goes_no_more_once_the_longer_job_is_finished_early(app, client, auth):
    """A probe: the customers told "may start late" behind a job given more time were still told it after the job
    was finished well before its new end: the wait it told of was over."""
    from scheduler.models import Message

    asked, first, later = more_time_from_the_job_list(app, auth, minutes=60)
    replan = open_replan(app)
    auth.login(f"reception-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/squeeze/{replan.id}/reject").status_code == 302

    def told():
        with app.app_context():
            return [(m.status, m.last_error) for m in db.session.scalars(
                select(Message).where(Message.appointment_id == later, Message.kind == "delayed"))]

    assert told() == [("queued", "")]
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/finish", {"next": JOBS}).status_code == 302
    assert told() == [("failed", "superseded: the wait it told of is over before it went")]


def test_more_time_for_a_job_started_late_counts_from_when_it_will_end_as_it_runs(app, client, auth):
    first, _later = job_with_work_right_after(app)
    with app.app_context():
        job = db.session.get(Appointment, first)
        booked_start, length = job.start_at, job.end_at - job.start_at
    late = booked_start + timedelta(minutes=40)
    app.config["CLOCK"] = lambda: late  # the car came forty minutes late; the work starts now
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/start", {"next": JOBS}).status_code == 302
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time", {"minutes": "30", "next": JOBS}).status_code \
        == 302
    with app.app_context():
        job = db.session.get(Appointment, first)
        # its own length after it started, then the half hour asked: not the booked end plus thirty minutes
        assert job.end_at == late + length + timedelta(minutes=30)
        assert job.case.events[-1].data["minutes"] == 70
        first_end = job.end_at
    # a second extension adds its own minutes only: the late start is in the end already
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time", {"minutes": "15", "next": JOBS}).status_code \
        == 302
    with app.app_context():
        assert db.session.get(Appointment, first).end_at == first_end + timedelta(minutes=15)


def test_more_time_past_the_end_of_the_shift_is_said_as_overtime(app, client, auth):
    """The workshop extends the last job of a technician's day: the job list says it now ends after the shift,
    and until when the shift ran; the API gives that end, and null while the job stays within the shift."""
    from scheduler.services import capacity

    with app.app_context():
        rows = db.session.scalars(select(Appointment).where(
            Appointment.garage_id == GARAGE, Appointment.status == "booked", Appointment.start_at > CLOCK_NOW))
        last = next(a for a in rows if a.start_at.date() == CLOCK_NOW.date() and any(
            s <= a.start_at and a.end_at == e for s, e in capacity.shifts(a.technician, a.garage.today(a.start_at))))
        first, shift_end = last.id, last.end_at.astimezone(last.garage.zone)
        name = last.technician.name
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/start", {"next": JOBS}).status_code == 302
    asked = auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time", {"minutes": "30", "next": JOBS})
    assert asked.status_code == 302
    page = client.get(JOBS).get_data(as_text=True)
    assert f"after {name}&#39;s shift (until {shift_end:%H:%M}): overtime" in page
    more = auth.post(f"/api/v1/appointments/{first}/more-time", json={"minutes": 15})
    assert more.status_code == 200 and more.get_json()["past_shift_end"] == shift_end.isoformat()


def test_a_re_plan_for_more_time_stops_waiting_once_the_job_is_finished(app, client, auth):
    """Finished, the job overlaps nothing: its re-plan no longer waits on the board (a confirm proposed moving the
    next customer for a job that was over)."""
    asked, first, _later = more_time_from_the_job_list(app, auth, minutes=30)
    assert asked.status_code == 302 and open_replan(app) is not None
    auth.login(f"reception-{GARAGE}")
    assert client.get(f"/api/v1/garages/{GARAGE}/board").get_json()["replans"]
    auth.login(f"workshop-{GARAGE}")
    assert auth.post(f"/api/v1/appointments/{first}/finish", json={"note": "done early after all"}).status_code == 200
    auth.login(f"reception-{GARAGE}")
    assert client.get(f"/api/v1/garages/{GARAGE}/board").get_json()["replans"] == []
    assert "replan-" not in client.get(BOARD).get_data(as_text=True)


def test_the_re_plan_reception_decides_names_the_customer_already_here_who_waits(app, client, auth):
    """Its preview named only the work it moves: the checked-in customer behind the longer job, whom nothing moves,
    was said only to whoever clicked "needs more time" (the workshop), never to reception deciding the re-plan."""
    first, later = job_with_work_right_after(app)
    auth.login(f"reception-{GARAGE}")
    assert auth.post(f"/api/v1/appointments/{later}/check-in").status_code == 200
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/start", {"next": JOBS}).status_code == 302
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time",
                     {"minutes": "240", "next": JOBS}).status_code == 302
    replan = open_replan(app)
    assert replan is not None, "four more hours run into booked work too: a re-plan for reception"
    with app.app_context():
        name = db.session.get(Appointment, later).case.customer.name
    auth.login(f"reception-{GARAGE}")
    page = client.get(f"/garages/{GARAGE}/squeeze/{replan.id}").get_data(as_text=True)
    banner = page.split("Already here, so nothing moves them")[1].split("</p>")[0]
    assert name in banner
    # what finds no place is still its technician's, booked behind the longer job: not work with no one to do it
    assert "no one to do" not in page


def test_more_time_on_a_job_started_late_says_how_much_later_it_really_ends(app, client, auth):
    """Started 20 minutes late and given 60 more, the job ends 80 minutes after its booked end: the workshop is told
    80, as reception's re-plan says, beside the 60 it picked (not "80 more minutes", which read like a typo)."""
    first, _later = job_with_work_right_after(app)
    with app.app_context():
        booked = db.session.get(Appointment, first)
        app.config["CLOCK"] = lambda: booked.start_at + timedelta(minutes=20)
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/start", {"next": JOBS}).status_code == 302
    asked = auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time", {"minutes": "60", "next": JOBS},
                      follow_redirects=True).get_data(as_text=True)
    with app.app_context():
        ends = db.session.get(Appointment, first)
        ends, ends_case = ends.end_at.astimezone(ends.garage.zone), ends.case_id
    assert f"60 more minutes, after its late start: it ends 80 minutes after its booked end, at {ends:%H:%M}" in asked
    assert "80 more minutes" not in asked
    # the case's timeline says it as the flash did (it said "80 more minutes" there)
    auth.login("operator")
    timeline = client.get(f"/desk/cases/{ends_case}").get_data(as_text=True)
    assert "60 more minutes, after its late start: it ends 80 minutes after its booked end" in timeline
    assert "80 more minutes" not in timeline



def test_a_re_plan_after_more_time_that_leaves_work_does_not_say_no_one_does_it(app, client, auth):
    """Eight more hours leave the work behind the longer job without a place that day. It is still its technician's,
    booked behind the job: the page said the call centre listed it as work with no one to do it, and it never
    appeared there."""
    asked, _first, _later = more_time_from_the_job_list(app, auth, minutes=480)
    assert asked.status_code == 302
    replan = open_replan(app)
    auth.login(f"reception-{GARAGE}")
    page = client.get(f"/garages/{GARAGE}/squeeze/{replan.id}").get_data(as_text=True)
    assert "find no place on their day" in page or "finds no place on its day" in page
    assert "no one to do" not in page


def test_a_customer_due_but_not_arrived_is_not_said_to_be_here(app, client, auth):
    """A probe: "Already here, so nothing moves them: Lucie Fournier" of a customer booked, whose time had come,
    not checked in: they were not there. Said now as due already, who waits once arrived."""
    first, later = job_with_work_right_after(app)
    with app.app_context():
        due = db.session.get(Appointment, later)
        name, start = due.case.customer.name, due.start_at
    auth.login(f"workshop-{GARAGE}")
    assert auth.form(f"/garages/{GARAGE}/appointments/{first}/start", {"next": JOBS}).status_code == 302
    app.config["CLOCK"] = lambda: start + timedelta(minutes=5)  # the next customer's time has come; not here
    auth.login(f"workshop-{GARAGE}")
    asked = auth.form(f"/garages/{GARAGE}/appointments/{first}/more-time", {"minutes": "60", "next": JOBS})
    assert asked.status_code == 302
    page = client.get(JOBS).get_data(as_text=True)
    assert "Due already, so no re-plan moves them" in page and name in page.split("Due already")[1].split("</")[0]
    assert "Already here" not in page
