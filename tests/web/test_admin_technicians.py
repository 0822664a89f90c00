"""Technicians at the admin desk: add, move, skills, shifts, absences. A change that hits booked work lists
exactly that work, and re-planning it is the garage desk's preview and confirm: nothing moves before."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from scheduler.models import ACTIVE, Absence, Appointment, AuditEntry, Garage, Technician
from scheduler.services import capacity
from tests.conftest import CLOCK_NOW
from tests.web.story import open_case
from web.extensions import db

GARAGE = "lyon-07"


def busiest_today(app, garage: str = GARAGE) -> tuple[str, list[int]]:
    """The technician with the most booked work left today, and that work (by the same rule as the app)."""
    with app.app_context():
        place = db.session.get(Garage, garage)
        _, end = place.day_bounds(place.today(CLOCK_NOW))
        rows = db.session.execute(select(Appointment.technician_id, Appointment.id).where(
            Appointment.garage_id == garage, Appointment.status == "booked",
            Appointment.start_at >= CLOCK_NOW, Appointment.start_at < end)).all()
        work: dict[str, list[int]] = {}
        for tech, appointment in rows:
            work.setdefault(tech, []).append(appointment)
        tech = max(sorted(work), key=lambda t: len(work[t]))
        return tech, sorted(work[tech])


def work_of(app, technician: str, start: datetime, end: datetime) -> list[int]:
    """The technician's active work overlapping [start, end) and not over yet."""
    with app.app_context():
        return sorted(db.session.scalars(select(Appointment.id).where(
            Appointment.technician_id == technician, Appointment.status.in_(ACTIVE),
            Appointment.start_at < end, Appointment.end_at > max(start, CLOCK_NOW))))


def plan(app) -> dict:
    with app.app_context():
        return {r.id: (r.technician_id, r.start_at, r.status) for r in db.session.execute(
            select(Appointment.id, Appointment.technician_id, Appointment.start_at, Appointment.status))}


def today(app) -> str:
    with app.app_context():
        return db.session.get(Garage, GARAGE).today(CLOCK_NOW).isoformat()


def sick_today_re_planned(app, auth) -> tuple[list[int], dict]:
    """The admin sends the busiest technician home sick and previews the re-plan of their movable work: (that work,
    the preview)."""
    tech, _ = busiest_today(app)
    auth.login("admin")
    made = auth.post(f"/api/v1/technicians/{tech}/absences", json={"start": today(app), "end": today(app),
                                                                   "reason": "sick"}).get_json()
    movable = [a["id"] for a in made["affected"] if a["movable"]]
    proposal = auth.post(f"/api/v1/garages/{GARAGE}/replan", json={"appointments": movable, "reason": "sick"}).get_json()
    return movable, proposal


def test_a_re_plan_whose_work_was_all_cancelled_meanwhile_is_a_conflict_not_a_bad_request(app, client, auth):
    """Confirmed after reception cancelled every job it re-places, a re-plan answered 400 "Nothing to re-plan: pick
    booked appointments" (a probe): the request was right, the plan had changed: 409 plan_changed."""
    movable, proposal = sick_today_re_planned(app, auth)
    auth.login(f"reception-{GARAGE}")
    for appointment in movable:
        assert auth.post(f"/api/v1/appointments/{appointment}/cancel", json={}).status_code == 200
    late = auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "plan_changed", late.get_json()
    assert "cancelled meanwhile" in late.get_json()["error"]["message"]


def test_a_re_plan_whose_colleague_went_absent_meanwhile_is_proposed_again_not_applied(app, client, auth):
    """A probe: a re-plan moved a job to a colleague, the colleague was then made absent at that time, and the
    confirm applied the move into the absence (booked work with no one on shift, made by the re-plan itself). The
    plan a preview was computed on is also who works when: a change to it is a 409 with a fresh preview."""
    _movable, proposal = sick_today_re_planned(app, auth)
    move = proposal["moves"][0]
    colleague, start = move["technician_to"], datetime.fromisoformat(move["to"])
    away = auth.post(f"/api/v1/technicians/{colleague}/absences", json={
        "start": (start - timedelta(minutes=15)).isoformat(), "end": (start + timedelta(hours=2)).isoformat(),
        "reason": "dentist"})
    assert away.status_code == 201, away.get_json()
    before = plan(app)
    late = auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={})
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "plan_changed", late.get_json()
    assert plan(app) == before, "nothing applied"
    fresh = late.get_json()["error"]["details"]["preview"]
    assert not any(m["technician_to"] == colleague and start - timedelta(minutes=15) <= datetime.fromisoformat(m["to"])
                   < start + timedelta(hours=2) for m in fresh["moves"]), "the fresh plan knows of the absence"


def test_a_re_plan_asked_from_the_technicians_page_goes_back_there_once_decided(app, client, auth):
    """A probe: the admin confirmed a re-plan asked from a technician's page and landed on the garage's board, a
    reception page, away from the absence they were working on."""
    tech, _ = busiest_today(app)
    auth.login("admin")
    made = auth.post(f"/api/v1/technicians/{tech}/absences", json={"start": today(app), "end": today(app),
                                                                   "reason": "sick"}).get_json()
    movable = [str(a["id"]) for a in made["affected"] if a["movable"]]
    page = f"/admin/technicians/{tech}?affected={','.join(movable)}"
    asked = auth.form(f"/admin/garages/{GARAGE}/replan", {"appointment": movable, "next": page})
    assert asked.status_code == 302
    preview = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert f'name="next" value="{escape(page)}"' in preview and f'href="{escape(page)}"' in preview
    confirmed = auth.form(asked.headers["Location"].split("?")[0] + "/confirm", {"next": page})
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == page
    assert "Re-planned" in client.get(page).get_data(as_text=True)
    # an address off the site is never followed
    assert auth.form(f"/admin/garages/{GARAGE}/replan", {"appointment": movable, "next": "//evil.example"}
                     ).headers["Location"].endswith(f"next=/admin/garages/{GARAGE}")


def test_sick_today_lists_exactly_the_work_hit_and_nothing_moves_before_a_confirm(app, client, auth):
    tech, _ = busiest_today(app)
    day = today(app)
    with app.app_context():
        start, end = db.session.get(Garage, GARAGE).day_bounds(datetime.fromisoformat(day).date())
    expected = work_of(app, tech, start, end)
    assert len(expected) >= 2, "the busy garage's busiest technician has work left today"
    before = plan(app)

    auth.login("admin")
    made = auth.post(f"/api/v1/technicians/{tech}/absences", json={"start": day, "end": day, "reason": "sick"})
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert sorted(a["id"] for a in body["affected"]) == expected
    assert all(a["technician"] == tech for a in body["affected"])
    assert plan(app) == before, "an absence moves nothing by itself"

    movable = [a["id"] for a in body["affected"] if a["movable"]]
    preview = auth.post(f"/api/v1/garages/{GARAGE}/replan", json={"appointments": movable, "reason": "sick"})
    assert preview.status_code == 200, preview.get_json()
    proposal = preview.get_json()
    assert plan(app) == before, "a preview moves nothing"
    assert all(m["technician_to"] != tech for m in proposal["moves"])
    with app.app_context():
        for m in proposal["moves"]:  # a customer told now cannot come hours early: never before the booking's flex
            a = db.session.get(Appointment, m["appointment"])
            earliest = max(CLOCK_NOW, datetime.fromisoformat(m["from"]) - timedelta(minutes=a.flex_minutes))
            assert datetime.fromisoformat(m["to"]) >= earliest, (m, a.flex_minutes)

    done = auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={})
    assert done.status_code == 200, done.get_json()
    after = plan(app)
    placed = {p["appointment"] for p in proposal["placements"]}
    assert placed and placed | set(proposal["unplaced"]) == set(movable)
    moved = {m["appointment"] for m in proposal["moves"]}
    with app.app_context():
        for appointment_id in moved:  # the re-placed work and whatever made room for it: all on shift
            a = db.session.get(Appointment, appointment_id)
            assert a.technician_id != tech and capacity.works(a.technician, a.start_at, a.end_at)
    assert {i for i in before if after[i] != before[i]} == moved, "nothing else moved"
    with app.app_context():
        case_id = db.session.get(Appointment, next(iter(placed))).case_id
    auth.login("operator")  # the customer's timeline says why the booking moved, and to whom
    timeline = client.get(f"/desk/cases/{case_id}").get_data(as_text=True)
    assert "(re-plan)" in timeline and "now with" in timeline and "squeeze-in" not in timeline
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "absence_added")).one()
        assert entry.entity_id == tech and sorted(entry.changes["work_hit"][1]) == expected


def test_an_absent_technician_is_offered_and_booked_no_more(app, client, auth):
    tech, _ = busiest_today(app)
    auth.login("admin")
    day = today(app)
    auth.post(f"/api/v1/technicians/{tech}/absences", json={"start": day, "end": day, "reason": "sick"})
    auth.login("operator")
    case = open_case(auth)
    offers = auth.client.get(f"/api/v1/cases/{case['id']}/offers").get_json()
    assert offers["offers"] and all(not (o["technician"] == tech and o["start"][:10] == day)
                                    for o in offers["offers"])
    with app.app_context():
        t = db.session.get(Technician, tech)
        assert capacity.shifts(t, datetime.fromisoformat(day).date()) == []
        tomorrow = datetime.fromisoformat(day).date() + timedelta(days=1)
        while tomorrow.weekday() >= 5:
            tomorrow += timedelta(days=1)
        assert capacity.shifts(t, tomorrow), "the day after, they work again"


def test_work_left_with_an_absent_technician_is_flagged_on_the_board_and_named_in_the_preview(app, client, auth):
    tech, hit = busiest_today(app)
    with app.app_context():
        plates = {i: db.session.get(Appointment, i).case.vehicle.plate for i in hit}
        # sent home with a car on the lift: it needs a colleague too
        under_way = list(db.session.scalars(select(Appointment.id).where(
            Appointment.technician_id == tech, Appointment.status == "in_progress")))
    day = today(app)
    auth.login("admin")
    auth.post(f"/api/v1/technicians/{tech}/absences", json={"start": day, "end": day, "reason": "sick"})
    auth.login(f"reception-{GARAGE}")
    board = client.get(f"/garages/{GARAGE}/board").get_data(as_text=True)
    banner = board.split("Technician not on shift", 1)[1].split("</div>", 1)[0]
    assert all(plate in banner for plate in plates.values()), "every job of the absent technician is named"
    assert board.count("technician not on shift") == len(hit) + len(under_way)  # and tagged in the jobs table
    with app.app_context():  # the whole day blocked: the re-plan leaves some out, and names them
        for t in db.session.get(Garage, GARAGE).technicians:
            if t.id != tech:
                db.session.add(Absence(technician_id=t.id, first_day=datetime.fromisoformat(day).date(),
                                       last_day=datetime.fromisoformat(day).date(), reason="training"))
        db.session.commit()
    preview = auth.post(f"/api/v1/garages/{GARAGE}/replan", json={"appointments": hit}).get_json()
    assert set(preview["unplaced"]) == set(hit)
    page = client.get(f"/garages/{GARAGE}/squeeze/{preview['id']}").get_data(as_text=True)
    assert all(plate in page for plate in plates.values()) and "call the customer" in page.lower()


def test_an_absence_from_midnight_to_midnight_is_whole_days_as_the_api_answers_them(app, client, auth):
    """The bounds a whole-day absence is answered with, posted back (in UTC, say), are whole days again."""
    tech, _ = busiest_today(app)
    day = datetime.fromisoformat(today(app)).date() + timedelta(days=1)
    with app.app_context():
        zone = db.session.get(Garage, GARAGE).zone
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=2), time(0), zone).astimezone(UTC)
    auth.login("admin")
    made = auth.post(f"/api/v1/technicians/{tech}/absences",
                     json={"start": start.isoformat(), "end": end.isoformat(), "reason": "leave"})
    assert made.status_code == 201, made.get_json()
    said = made.get_json()["absence"]
    assert said["part_day"] is False
    assert (datetime.fromisoformat(said["start"]), datetime.fromisoformat(said["end"])) == (start, end)


def test_a_part_day_absence_hits_only_the_work_in_its_hours(app, client, auth):
    tech, _ = busiest_today(app)
    day = today(app)
    with app.app_context():
        zone = db.session.get(Garage, GARAGE).zone
    start = datetime.combine(datetime.fromisoformat(day).date(), time(14), zone)
    end = start + timedelta(hours=2)
    expected = work_of(app, tech, start, end)
    auth.login("admin")
    made = auth.post(f"/api/v1/technicians/{tech}/absences",
                     json={"start": start.isoformat(), "end": end.isoformat(), "reason": "dentist"})
    assert made.status_code == 201
    assert sorted(a["id"] for a in made.get_json()["affected"]) == expected
    assert made.get_json()["absence"]["part_day"] is True
    # answered in UTC, as it is read back, whatever offset it was sent with
    said = made.get_json()["absence"]
    assert said["start"].endswith("+00:00") and datetime.fromisoformat(said["start"]) == start
    listed = next(t for t in client.get(f"/api/v1/garages/{GARAGE}/technicians").get_json() if t["id"] == tech)
    assert (said["start"], said["end"]) in [(a["start"], a["end"]) for a in listed["absences"]]
    with app.app_context():
        t = db.session.get(Technician, tech)
        spans = capacity.shifts(t, start.date())
        assert spans and all(e <= start or s >= end for s, e in spans)


def test_a_shorter_shift_hits_the_work_it_no_longer_covers(app, client, auth):
    tech, _ = busiest_today(app)
    day = datetime.fromisoformat(today(app)).date()
    with app.app_context():
        t = db.session.get(Technician, tech)
        zone = t.garage.zone
        week = [{"weekday": p.weekday, "start": f"{p.starts:%H:%M}", "end": f"{p.ends:%H:%M}"}
                for p in t.shift_patterns if not (p.weekday == day.weekday() and p.starts >= time(12))]
    # no afternoon on today's weekday any more: the afternoon's work today (and on that weekday after) is hit
    afternoon = datetime.combine(day, time(12, 30), zone)
    auth.login("admin")
    changed = auth.client.patch(f"/api/v1/technicians/{tech}", json={"shifts": week}, headers=auth.headers())
    assert changed.status_code == 200, changed.get_json()
    hit = changed.get_json()["affected"]
    with app.app_context():
        expected = sorted(a.id for a in db.session.scalars(select(Appointment).where(
            Appointment.technician_id == tech, Appointment.status.in_(ACTIVE), Appointment.end_at > CLOCK_NOW))
            if a.start_at.astimezone(zone).weekday() == day.weekday()
            and a.end_at.astimezone(zone).time() > time(12, 30))
    assert sorted(a["id"] for a in hit) == expected
    assert any(datetime.fromisoformat(a["start"]) >= afternoon for a in hit) or not expected


def test_a_skill_taken_away_hits_the_work_that_needs_it_and_the_call_centre_sees_it(app, client, auth):
    tech, _ = busiest_today(app)
    with app.app_context():
        t = db.session.get(Technician, tech)
        rows = list(db.session.scalars(select(Appointment).where(
            Appointment.technician_id == tech, Appointment.status.in_(ACTIVE), Appointment.end_at > CLOCK_NOW)))
        needed = {a.skill_code for a in rows}
        skill = max(sorted(needed), key=lambda code: sum(a.skill_code == code for a in rows))
        kept = [c for c in t.skill_codes if c != skill]
        expected = sorted(a.id for a in rows if a.skill_code == skill)
    auth.login("admin")
    changed = auth.client.patch(f"/api/v1/technicians/{tech}", json={"skills": kept}, headers=auth.headers())
    assert changed.status_code == 200, changed.get_json()
    assert sorted(a["id"] for a in changed.get_json()["affected"]) == expected, "exactly the work needing the skill"
    (entry,) = client.get(f"/api/v1/audit?entity=technician&entity_id={tech}").get_json()[:1]
    assert sorted(entry["changes"]["work_hit"][1]) == expected
    auth.login("operator")
    stranded = client.get("/api/v1/stranded").get_json()
    booked = [a for a in expected if plan(app)[a][2] == "booked"]
    assert booked and sorted(a["id"] for a in stranded) == booked, "the call centre sees the bookings no one can do"
    assert all(a["customer"]["phone"] for a in stranded)
    # since when: a re-plan at the garage may still place the most recent ones (a probe: the list read as if every
    # one was left by a re-plan, minutes after the change and before anyone tried one)
    assert {a["stranded_at"] for a in stranded} == {entry["at"]}
    listed = sorted(int(i) for i in re.findall(r'id="stranded-(\d+)"', client.get("/desk/").get_data(as_text=True)))
    assert listed == booked, "on its desk too"
    auth.login("admin")  # given back: no one is left without it
    assert auth.client.patch(f"/api/v1/technicians/{tech}", json={"skills": kept + [skill]},
                             headers=auth.headers()).status_code == 200
    auth.login("operator")
    assert client.get("/api/v1/stranded").get_json() == []


def test_add_move_and_skills_through_api_and_pages(app, client, auth):
    auth.login("admin")
    dropped = auth.post(f"/api/v1/garages/{GARAGE}/technicians", json={
        "name": "Inès Haddad", "skills": ["maintenance"], "week": "Mon 08:00-12:00"})
    assert dropped.status_code == 400, "shifts sent under another name are refused, not silently dropped"
    assert "week" in dropped.get_json()["error"]["details"]["fields"]
    made = auth.post(f"/api/v1/garages/{GARAGE}/technicians", json={
        "name": "Inès Haddad", "skills": ["maintenance", "high_voltage"],
        "shifts": [{"weekday": d, "start": "08:00", "end": "12:00"} for d in range(5)]})
    assert made.status_code == 201, made.get_json()
    new = made.get_json()
    assert new["garage"] == GARAGE and new["skills"] == ["high_voltage", "maintenance"] and len(new["shifts"]) == 5
    assert any(t["id"] == new["id"] for t in client.get(f"/api/v1/garages/{GARAGE}/technicians").get_json())
    moved = auth.client.patch(f"/api/v1/technicians/{new['id']}", json={"garage": "givors", "skills": ["tyres"]},
                              headers=auth.headers())
    assert moved.status_code == 200 and moved.get_json()["technician"]["garage"] == "givors"
    assert moved.get_json()["garage"] == "givors" and moved.get_json()["id"] == new["id"], "the technician, at the top"
    board = client.get("/api/v1/garages/givors/board").get_json()
    assert any(t["id"] == new["id"] for t in board["technicians"])

    page = auth.form(f"/admin/garages/{GARAGE}/technicians", {"name": "Hugo Lambert", "skills": ["maintenance"],
                                                              "week": "Mon 08:00-12:00\nTue 09:00-17:00"})
    assert page.status_code == 302
    with app.app_context():
        hugo = db.session.scalars(select(Technician).where(Technician.name == "Hugo Lambert")).one()
        assert [(p.weekday, f"{p.starts:%H:%M}") for p in hugo.shift_patterns] == [(0, "08:00"), (1, "09:00")]
        hugo_id = hugo.id
    assert "Hugo Lambert" in client.get(f"/admin/garages/{GARAGE}").get_data(as_text=True)
    for typo in ("foo", "Mon", "lun."):  # a line of no hours is refused, never read as "no shifts at all"
        refused = auth.form(f"/admin/technicians/{hugo_id}", {"name": "Hugo Lambert", "garage": GARAGE,
                                                              "skills": ["maintenance"], "week": typo, "active": "yes"})
        assert refused.status_code == 400, typo
    with app.app_context():
        assert len(db.session.get(Technician, hugo_id).shift_patterns) == 2
    # a refused edit comes back as typed, not as saved: the admin corrects the one field refused
    kept = auth.form(f"/admin/technicians/{hugo_id}", {"name": "Hugo Lambert-Roy", "garage": "givors",
                                                       "skills": ["maintenance", "tyres"], "week": "funday 08:00-12:00"})
    text = kept.get_data(as_text=True)
    assert "unknown day (on the page, a day&#39;s name from Mon to Sun" in text, "not the API's weekday numbers alone"
    assert kept.status_code == 400 and 'value="Hugo Lambert-Roy"' in text
    assert re.search(r'<option value="givors"[^>]*selected', text)
    assert re.search(r'name="skills" value="tyres"[^>]*checked', text)
    assert not re.search(r'name="active" value="yes"[^>]*checked', text), "left unticked, shown unticked"
    edit = auth.form(f"/admin/technicians/{hugo_id}", {"name": "Hugo Lambert", "garage": GARAGE,
                                                       "skills": ["maintenance", "tyres"], "week": "Mon 08:00-12:00",
                                                       "active": "yes"})
    assert edit.status_code == 302
    text = client.get(f"/admin/technicians/{hugo_id}").get_data(as_text=True)
    assert "tyres" in text and "changed" in text
    actions = [e["action"] for e in client.get("/api/v1/audit?entity=technician").get_json()]
    assert actions.count("created") == 2 and actions.count("changed") == 2


def test_a_technician_no_work_can_be_booked_with_is_said_on_their_page(app, client, auth):
    """Saved all the same (an admin may fill them in later), but never silently: no skill, no week, or a week only
    on the days the garage is closed."""
    auth.login("admin")
    hired = iter("ABCDEFGH")  # one name per person at a garage

    def banner(body: dict) -> str:
        made = auth.post(f"/api/v1/garages/{GARAGE}/technicians",
                         json={"name": f"Nouvelle Recrue {next(hired)}.", **body})
        assert made.status_code == 201, made.get_json()
        page = client.get(f"/admin/technicians/{made.get_json()['id']}").get_data(as_text=True)
        found = re.search(r'<p class="banner warn unbookable">(.*?)</p>', page, re.DOTALL)
        return found[1] if found else ""

    weekdays = [{"weekday": d, "start": "08:00", "end": "12:00"} for d in range(5)]
    assert "tick at least one skill" in banner({"skills": [], "shifts": weekdays})
    assert "give them a working week" in banner({"skills": ["maintenance"], "shifts": []})
    with app.app_context():
        closed = sorted(set(range(7)) - {h.weekday for h in db.session.get(Garage, GARAGE).opening_hours})
    assert closed, "the demo's Lyon 7e closes on Sundays: this test relies on it"
    sunday = banner({"skills": ["maintenance"], "shifts": [{"weekday": closed[-1], "start": "08:00", "end": "12:00"}]})
    assert "they work only on days" in sunday and "Sun" in sunday
    assert banner({"skills": ["maintenance"], "shifts": weekdays}) == ""


@pytest.mark.parametrize("body, field", [
    ({"start": "tomorrow", "end": "2026-12-01"}, "start"),
    ({"start": "2026-12-03", "end": "2026-12-01"}, "end"),
    ({"start": "2020-01-01", "end": "2020-01-02"}, "end"),  # over already
    ({"start": "2026-12-01", "end": "2028-12-01"}, "end"),
    ({"start": "2026-01-01", "end": "9999-12-31"}, "end"),  # "retired": the day after it is past the calendar
    ({"start": "2026-12-01", "end": "2026-12-02", "reason": "x" * 81}, "reason"),
])
def test_a_bad_absence_names_its_field_and_saves_nothing(app, client, auth, body, field):
    tech, _ = busiest_today(app)
    auth.login("admin")
    refused = auth.post(f"/api/v1/technicians/{tech}/absences", json=body)
    assert refused.status_code == 400 and field in refused.get_json()["error"]["details"]["fields"]
    page = auth.form(f"/admin/technicians/{tech}/absences", {k: v for k, v in body.items()})
    assert page.status_code == 400 and 'id="e-' + field + '"' in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize("body, field", [
    ({"shifts": [{"weekday": 0, "start": "12:00", "end": "08:00"}]}, "shifts"),
    ({"shifts": [{"weekday": 0, "start": "08:00", "end": "12:00"}, {"weekday": 0, "start": "11:00", "end": "13:00"}]},
     "shifts"),
    ({"shifts": [{"weekday": 7, "start": "08:00", "end": "12:00"}]}, "shifts"),
    ({"skills": ["juggling"]}, "skills"),
    ({"garage": "atlantis"}, "garage"),
    ({"name": ""}, "name"),
])
def test_a_bad_technician_change_names_its_field_and_saves_nothing(app, client, auth, body, field):
    tech, _ = busiest_today(app)
    auth.login("admin")
    was = [t for t in client.get(f"/api/v1/garages/{GARAGE}/technicians").get_json() if t["id"] == tech]
    refused = auth.client.patch(f"/api/v1/technicians/{tech}", json={"name": "Renamed", **body}, headers=auth.headers())
    assert refused.status_code == 400 and field in refused.get_json()["error"]["details"]["fields"]
    now = [t for t in client.get(f"/api/v1/garages/{GARAGE}/technicians").get_json() if t["id"] == tech]
    assert now == was


@pytest.mark.parametrize("username", ["operator", "reception-lyon-07", "workshop-lyon-07", "planner"])
def test_only_an_admin_changes_technicians(app, client, auth, username):
    tech, _ = busiest_today(app)
    auth.login(username)
    assert client.get(f"/api/v1/garages/{GARAGE}/technicians").status_code == 403
    assert auth.post(f"/api/v1/garages/{GARAGE}/technicians", json={"name": "X"}).status_code == 403
    assert auth.client.patch(f"/api/v1/technicians/{tech}", json={"name": "X"},
                             headers=auth.headers()).status_code == 403
    assert auth.post(f"/api/v1/technicians/{tech}/absences",
                     json={"start": "2026-12-01", "end": "2026-12-01"}).status_code == 403
    assert client.get(f"/admin/technicians/{tech}").status_code == 403
    assert client.get(f"/admin/garages/{GARAGE}").status_code == 403
    assert auth.form(f"/admin/technicians/{tech}/absences", {"start": "2026-12-01", "end": "2026-12-01"}).status_code \
        == 403
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Absence).where(Absence.reason == "leave",
                                                                                 Absence.first_day == datetime(
                                                                                     2026, 12, 1).date())) == 0


def test_a_move_to_another_garage_hits_the_work_booked_at_the_old_one(app, client, auth):
    tech, _ = busiest_today(app)
    with app.app_context():
        expected = sorted(db.session.scalars(select(Appointment.id).where(
            Appointment.technician_id == tech, Appointment.status.in_(ACTIVE), Appointment.end_at > CLOCK_NOW)))
    auth.login("admin")
    moved = auth.client.patch(f"/api/v1/technicians/{tech}", json={"garage": "givors"}, headers=auth.headers())
    assert moved.status_code == 200
    hit = moved.get_json()["affected"]
    assert expected and sorted(a["id"] for a in hit) == expected and {a["garage"] for a in hit} == {GARAGE}
    board = client.get(f"/api/v1/garages/{GARAGE}/board").get_json()
    # no longer works here: listed only for the work they leave today, none of it on shift, to hand over
    left = [t for t in board["technicians"] if t["id"] == tech]
    assert all(t["shifts"] == [] and not t["here"] and t["appointments"]
               and all(a["off_shift"] for a in t["appointments"]) for t in left)
    assert all(t["here"] for t in board["technicians"] if t["id"] != tech)
    page = client.get(f"/admin/technicians/{tech}").get_data(as_text=True)
    with app.app_context():
        name = db.session.get(Garage, GARAGE).name
    assert f"Re-plan {len([a for a in hit if a['movable']])} appointments at {name}" in page, "named, not an id"
    trail = page.split('class="grid audit"')[1]
    assert f"work hit:</span> — → <strong>{len(expected)} appointments</strong>" in trail, "how many, not their ids"


def test_sick_today_from_the_page_starts_now_not_at_midnight(app, client, auth):
    """The morning's work was done: an absence from midnight would flag it, and unbook the lifts it used."""
    tech, _ = busiest_today(app)
    auth.login("admin")
    page = client.get(f"/admin/technicians/{tech}").get_data(as_text=True)
    form = page.split('id="sick-today"')[0].rsplit("<form", 1)[1]
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    fields.pop("csrf_token", None)
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(minutes=20)  # clicked a while after the page was drawn
    assert auth.form(f"/admin/technicians/{tech}/absences", fields).status_code == 302
    with app.app_context():
        absence = db.session.scalar(select(Absence).where(Absence.technician_id == tech).order_by(Absence.id.desc()))
        zone = absence.technician.garage.zone
        start, end = absence.span(zone)
        assert start == (CLOCK_NOW + timedelta(minutes=20)).astimezone(zone).replace(second=0, microsecond=0)
        assert end == datetime.combine(CLOCK_NOW.astimezone(zone).date() + timedelta(days=1), time(0), zone)


def test_bookings_an_absence_strands_reach_the_call_centre_until_someone_can_do_them(app, client, auth):
    tech, _ = busiest_today(app)
    tomorrow = (datetime.fromisoformat(today(app)) + timedelta(days=1)).date()
    with app.app_context():
        garage = db.session.get(Garage, GARAGE)
        while not any(capacity.shifts(t, tomorrow) for t in garage.technicians):
            tomorrow += timedelta(days=1)
        start, end = garage.day_bounds(tomorrow)
    expected = work_of(app, tech, start, end)
    auth.login("admin")
    made = auth.post(f"/api/v1/technicians/{tech}/absences",
                     json={"start": tomorrow.isoformat(), "end": tomorrow.isoformat(), "reason": "training"})
    assert made.status_code == 201 and sorted(a["id"] for a in made.get_json()["affected"]) == expected
    absence_id = made.get_json()["absence"]["id"]

    auth.login("operator")
    desk = client.get("/desk/").get_data(as_text=True)
    assert 'id="stranded"' in desk
    listed = sorted(int(i) for i in re.findall(r'id="stranded-(\d+)"', desk))
    assert expected and listed == expected, "exactly the bookings the absence left with no one"
    with app.app_context():
        case_id = db.session.get(Appointment, expected[0]).case_id
    timeline = client.get(f"/desk/cases/{case_id}").get_data(as_text=True)
    assert "No one is on shift any more for the booking of" in timeline
    assert "No one can do this booking" in timeline, "the case page says so where it said the booking holds"
    assert "no one can do it then" in timeline, "and so does its status, polled while the operator waits"

    auth.login("admin")  # back after all: the bookings have their technician again, and leave the list
    assert client.delete(f"/api/v1/absences/{absence_id}", headers=auth.headers()).status_code in (200, 204)
    auth.login("operator")
    assert 'id="stranded"' not in client.get("/desk/").get_data(as_text=True)
    page = client.get(f"/desk/cases/{case_id}").get_data(as_text=True)
    assert "No one can do this booking" not in page and "no one can do it then" not in page


def test_an_absence_already_entered_is_refused_once_and_a_longer_one_over_it_is_taken(app, client, auth):
    tech, _ = busiest_today(app)
    day = today(app)
    auth.login("admin")
    first = auth.post(f"/api/v1/technicians/{tech}/absences", json={"start": day, "end": day, "reason": "sick"})
    assert first.status_code == 201, first.get_json()
    again = auth.post(f"/api/v1/technicians/{tech}/absences", json={"start": day, "end": day, "reason": "sick"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    assert "already absent" in again.get_json()["error"]["message"]
    within = auth.post(f"/api/v1/technicians/{tech}/absences",
                       json={"start": f"{day}T14:00", "end": f"{day}T15:00", "reason": "training"})
    assert within.status_code == 409
    page = auth.form(f"/admin/technicians/{tech}/absences", {"start": day, "end": day, "reason": "sick"},
                     follow_redirects=True)
    assert "already absent" in page.get_data(as_text=True)
    longer = auth.post(f"/api/v1/technicians/{tech}/absences",
                       json={"start": day, "end": (date.fromisoformat(day) + timedelta(days=2)).isoformat()})
    assert longer.status_code == 201, longer.get_json()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Absence).where(Absence.technician_id == tech)) == 2


def test_a_re_plan_of_another_day_says_the_day_of_every_new_time(app, client, auth):
    """An admin's re-plan of work on another day listed "09:00-09:45 with Mehdi Robin" three times over, three
    Saturdays that read as one triple booking."""
    with app.app_context():
        garage = db.session.get(Garage, GARAGE)
        day = garage.today(CLOCK_NOW) + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        start, end = garage.day_bounds(day)
        booked = db.session.scalars(select(Appointment).where(
            Appointment.garage_id == GARAGE, Appointment.status == "booked", Appointment.start_at >= start,
            Appointment.start_at < end)).all()
        tech = max({a.technician_id for a in booked}, key=lambda t: sum(a.technician_id == t for a in booked))
    auth.login("admin")
    made = auth.post(f"/api/v1/technicians/{tech}/absences",
                     json={"start": day.isoformat(), "end": day.isoformat(), "reason": "training"})
    movable = [a["id"] for a in made.get_json()["affected"] if a["movable"]]
    proposal = auth.post(f"/api/v1/garages/{GARAGE}/replan", json={"appointments": movable, "reason": "training"})
    assert proposal.status_code == 200 and proposal.get_json()["placements"], proposal.get_json()
    auth.login(f"reception-{GARAGE}")
    page = client.get(f"/garages/{GARAGE}/squeeze/{proposal.get_json()['id']}").get_data(as_text=True)
    placed = re.findall(r'class="banner good placement">(.*?)</p>', page, re.S)
    assert placed and all(f" {day.day} " in p for p in placed), placed[:2]


def test_two_active_technicians_of_one_garage_never_share_a_name(app, client, auth):
    with app.app_context():
        garage = db.session.get(Garage, GARAGE)
        first, second = sorted(garage.technicians, key=lambda t: t.id)[:2]
        elsewhere = db.session.scalar(select(Technician).where(Technician.garage_id != GARAGE).limit(1))
        names = (first.name, second.id, elsewhere.id, elsewhere.name)
    auth.login("admin")
    twin = {"name": f"  {names[0].upper()} ", "skills": ["maintenance"], "shifts": []}
    refused = auth.post(f"/api/v1/garages/{GARAGE}/technicians", json=twin)
    assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == "name", \
        "the board, the hand-over list and the timeline could not tell them apart"
    renamed = auth.client.patch(f"/api/v1/technicians/{names[1]}", json={"name": names[0]}, headers=auth.headers())
    assert renamed.status_code == 400 and names[0] in renamed.get_json()["error"]["message"]
    moved = auth.client.patch(f"/api/v1/technicians/{names[2]}", json={"garage": GARAGE, "name": names[0]},
                              headers=auth.headers())
    assert moved.status_code == 400
    with app.app_context():
        assert sum(t.name == names[0] for t in db.session.get(Garage, GARAGE).technicians) == 1
        assert db.session.get(Technician, names[2]).garage_id != GARAGE
    kept = auth.client.patch(f"/api/v1/technicians/{names[2]}", json={"name": names[3]}, headers=auth.headers())
    assert kept.status_code == 200, "a name kept as it is stays savable"
    elsewhere_twin = auth.post(f"/api/v1/garages/{GARAGE}/technicians",
                               json={"name": names[3], "skills": ["maintenance"], "shifts": []})
    assert elsewhere_twin.status_code == 201, "the same name at another garage is another person"

    # one who left comes back after a new colleague took their name: refused, as a new name would be
    assert auth.client.patch(f"/api/v1/technicians/{names[1]}", json={"active": False},
                             headers=auth.headers()).status_code == 200
    with app.app_context():
        left = db.session.get(Technician, names[1]).name
    assert auth.post(f"/api/v1/garages/{GARAGE}/technicians",
                     json={"name": left, "skills": ["maintenance"], "shifts": []}).status_code == 201
    back = auth.client.patch(f"/api/v1/technicians/{names[1]}", json={"active": True}, headers=auth.headers())
    assert back.status_code == 400 and back.get_json()["error"]["details"]["field"] == "name"


def test_an_absence_reason_the_app_gives_reads_in_the_readers_language(app, client, auth):
    """No reason typed is "leave", the sick-today button's is "sick": stored as the app's words, read as the
    reader's (an admin typed nothing and read "leave" on a French page)."""
    tech, _ = busiest_today(app)
    day = (datetime.fromisoformat(today(app)) + timedelta(days=20)).date().isoformat()
    auth.login("admin")
    french = {"Accept-Language": "fr"}
    made = auth.form(f"/admin/technicians/{tech}/absences", {"start": day, "end": day, "reason": ""},
                     headers=french, follow_redirects=True)
    assert "congé" in made.get_data(as_text=True) and ", leave." not in made.get_data(as_text=True)
    page = client.get(f"/admin/technicians/{tech}", headers=french).get_data(as_text=True)
    assert "· congé" in page
    form = page.split('id="sick-today"')[0].rsplit("<form", 1)[1]
    assert 'name="reason" value="sick"' in form, "stored as the app's word, whatever the page's language"


def test_a_part_day_absence_to_a_whole_day_ends_on_that_day_as_typed(app, client, auth):
    tech, _ = busiest_today(app)
    start = (datetime.fromisoformat(today(app)) + timedelta(days=20)).date()
    end = start + timedelta(days=1)
    auth.login("admin")
    made = auth.post(f"/api/v1/technicians/{tech}/absences",
                     json={"start": f"{start.isoformat()}T14:00", "end": end.isoformat(), "reason": "training"})
    assert made.status_code == 201, made.get_json()
    page = client.get(f"/admin/technicians/{tech}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    (item,) = [li for li in re.findall(r"<li>(.*?)<form", page, re.DOTALL) if "· formation" in li]
    assert "fin de journée" in item and "00:00" not in item, item


def test_the_boards_times_are_all_in_utc_after_a_part_day_absence(app, client, auth):
    """A probe: a shift an absence cut came in UTC on the board's API, the others in the garage's time."""
    tech, _ = busiest_today(app)
    day = today(app)
    auth.login("admin")
    made = auth.post(f"/api/v1/technicians/{tech}/absences", json={
        "start": f"{day}T10:00:00+01:00", "end": f"{day}T11:00:00+01:00", "reason": "dentist"})
    assert made.status_code == 201, made.get_json()
    board = client.get(f"/api/v1/garages/{GARAGE}/board?day={day}").get_json()
    times = [t for row in board["technicians"] for s in row["shifts"] for t in (s["start"], s["end"])]
    times += [t for lift in board["lifts"] for t in (lift["start"], lift["end"])]
    cut = next(row for row in board["technicians"] if row["id"] == tech)["shifts"]
    assert len(cut) >= 2 and times and all(t.endswith("+00:00") for t in times), [t for t in times if "+00:00" not in t]
