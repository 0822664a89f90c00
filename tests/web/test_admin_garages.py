"""Garages at the admin desk: name, address, location, phone, lifts, opening hours with lunch, closed days
(honoured by offers and booking), a new garage; renames keep statistics on the same garage."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from scheduler.models import ACTIVE, Appointment, AuditEntry, Garage, Technician
from scheduler.services import capacity
from tests.conftest import CLOCK_NOW
from tests.web.story import open_case
from web.extensions import db

GARAGE = "lyon-07"
NEW = {"id": "lyon-08", "name": "Lyon 8e Monplaisir", "address": "4 avenue des Frères Lumière", "city": "Lyon",
       "location": {"lat": 45.744, "lon": 4.870}, "phone": "+33 4 78 00 11 22", "lifts": 3,
       "opening_hours": [{"weekday": d, "opens": "08:00", "closes": "18:00", "lunch_start": "12:00",
                          "lunch_end": "13:30"} for d in range(5)]}


def patch(auth, garage: str, body: dict):
    return auth.client.patch(f"/api/v1/garages/{garage}", json=body, headers=auth.headers())


def next_working_day(app) -> date:
    with app.app_context():
        day = db.session.get(Garage, GARAGE).today(CLOCK_NOW) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def test_a_rename_keeps_the_statistics_on_the_same_garage(app, client, auth):
    auth.login("admin")
    before = client.get("/api/v1/stats/overrides?group_by=garage").get_json()
    assert GARAGE in [r["key"] for r in before]
    changed = patch(auth, GARAGE, {"name": "Lyon Gerland (new site name)", "phone": "+33 4 72 99 99 99",
                                   "address": "64 avenue Tony Garnier", "lifts": 8})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["garage"]["name"] == "Lyon Gerland (new site name)"
    after = client.get("/api/v1/stats/overrides?group_by=garage").get_json()
    assert [(r["key"], r["count"]) for r in after] == [(r["key"], r["count"]) for r in before]
    assert "Lyon Gerland (new site name)" in client.get("/planner/?group_by=garage").get_data(as_text=True)
    (entry,) = client.get(f"/api/v1/audit?entity=garage&entity_id={GARAGE}").get_json()
    assert entry["changes"]["name"] == ["Lyon 7e Gerland", "Lyon Gerland (new site name)"]
    assert entry["changes"]["lifts"] == [7, 8] and entry["actor"] == "admin"


def test_a_closed_day_takes_the_garage_out_of_offers_and_booking(app, client, auth):
    day = next_working_day(app)
    auth.login("admin")
    closed = patch(auth, GARAGE, {"closed_days": [{"day": day.isoformat(), "reason": "public holiday"}]})
    assert closed.status_code == 200, closed.get_json()
    with app.app_context():
        start, end = db.session.get(Garage, GARAGE).day_bounds(day)
        expected = sorted(db.session.scalars(select(Appointment.id).where(
            Appointment.garage_id == GARAGE, Appointment.status.in_(ACTIVE),
            Appointment.start_at < end, Appointment.end_at > start)))
        assert all(capacity.shifts(t, day) == [] for t in db.session.get(Garage, GARAGE).technicians)
    assert expected and sorted(a["id"] for a in closed.get_json()["affected"]) == expected
    page = client.get(f"/admin/garages/{GARAGE}", query_string={"affected": ",".join(map(str, expected))})
    table = page.get_data(as_text=True).split('id="affected"')[1].split("</table>")[0]
    with app.app_context():  # a day the garage is closed needs a new day: whoever calls them has the number
        phone = db.session.get(Appointment, expected[0]).case.customer.phone
    assert phone in table
    # visited again later (no ids in the address), the page still lists the work nobody can do that day
    again = client.get(f"/admin/garages/{GARAGE}").get_data(as_text=True)
    assert 'id="affected"' in again
    listed = {int(i) for i in re.findall(r'id="hit-(\d+)"', again.split('id="affected"')[1].split("</table>")[0])}
    assert listed == set(expected)
    # the admin's re-plan of a closed day places nothing on it: the preview says where the work goes from there
    # (the call centre's list) and leads back to the garage's page
    replanned = auth.form(f"/admin/garages/{GARAGE}/replan", {"appointment": [str(i) for i in expected]},
                          follow_redirects=True)
    shown = replanned.get_data(as_text=True)
    assert "the call centre’s desk lists them" in shown
    assert f'href="/admin/garages/{GARAGE}"' in shown
    auth.login("operator")
    case = open_case(auth)
    offers = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()
    assert not [o for o in offers["offers"] if o["garage"] == GARAGE and o["start"][:10] == day.isoformat()]
    with app.app_context():
        tech = db.session.scalars(select(Technician).where(Technician.garage_id == GARAGE)).first()
        tech_id, zone = tech.id, tech.garage.zone
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments", json={
        "garage": GARAGE, "technician": tech_id, "reason": "try the holiday",
        "start": datetime.combine(day, time(9), zone).isoformat()})
    assert booked.status_code == 422 and "outside their shift" in booked.get_json()["error"]["message"]


def test_a_lunch_closure_cuts_the_shifts(app, client, auth):
    day = next_working_day(app)
    auth.login("admin")
    hours = [{"weekday": d, "opens": "07:45", "closes": "18:30", "lunch_start": "12:15", "lunch_end": "14:15"}
             for d in range(5)]
    assert patch(auth, GARAGE, {"opening_hours": hours}).status_code == 200
    with app.app_context():
        garage = db.session.get(Garage, GARAGE)
        lunch = (datetime.combine(day, time(12, 15), garage.zone), datetime.combine(day, time(14, 15), garage.zone))
        for t in garage.technicians:
            assert all(e <= lunch[0] or s >= lunch[1] for s, e in capacity.shifts(t, day))
    page = client.get(f"/admin/garages/{GARAGE}").get_data(as_text=True)
    assert "Mon 07:45-18:30 lunch 12:15-14:15" in page


def test_add_a_garage_through_api_and_page(app, client, auth):
    auth.login("admin")
    made = auth.post("/api/v1/garages", json=NEW)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["opening_hours"][0]["lunch_start"] == "12:00"
    assert any(g["id"] == "lyon-08" for g in client.get("/api/v1/garages").get_json())
    again = auth.post("/api/v1/garages", json=NEW)
    assert again.status_code == 400 and "id" in again.get_json()["error"]["details"]["fields"]
    page = auth.form("/admin/garages/new", {"id": "bron-2", "name": "Bron 2", "address": "1 rue A", "city": "Bron",
                                            "lat": "45.73", "lon": "4.91", "phone": "+33 4 00 00 00 00",
                                            "lifts": "2", "hours": "Mon 08:00-17:00\nSat 08:00-12:00"})
    assert page.status_code == 302
    with app.app_context():
        garage = db.session.get(Garage, "bron-2")
        assert [(h.weekday, h.opens) for h in garage.opening_hours] == [(0, time(8)), (5, time(8))]
    made = auth.post("/api/v1/garages/bron-2/technicians", json={
        "name": "Nadia K.", "skills": ["maintenance"], "shifts": [{"weekday": 0, "start": "07:00", "end": "18:00"}]})
    with app.app_context():  # the garage's hours bound the shift
        tech = db.session.get(Technician, made.get_json()["id"])
        monday = date(2026, 11, 30)
        zone = tech.garage.zone
        assert capacity.shifts(tech, monday) == [(datetime.combine(monday, time(8), zone),
                                                  datetime.combine(monday, time(17), zone))]


def test_a_new_garage_takes_no_name_already_given_and_the_page_takes_a_decimal_comma(app, client, auth):
    auth.login("admin")
    twin = auth.post("/api/v1/garages", json={**NEW, "name": "Lyon 7e Gerland"})
    assert twin.status_code == 400 and "already named" in twin.get_json()["error"]["details"]["fields"]["name"]
    assert patch(auth, GARAGE, {"name": "Lyon 7e Gerland"}).status_code == 200, "its own name is no clash"
    page = client.get(f"/admin/garages/{GARAGE}").get_data(as_text=True)
    hours = page.split('name="hours"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    form = {"name": "Lyon 7e Gerland", "address": "62 avenue Tony Garnier", "city": "Lyon", "lat": "45,7401",
            "lon": "4,8335", "phone": "+33 4 70 10 20 40", "lifts": "7", "closed": "", "hours": hours}
    assert auth.form(f"/admin/garages/{GARAGE}", form).status_code == 302
    with app.app_context():
        assert db.session.get(Garage, GARAGE).lat == 45.7401


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"),
    ({"name": "givors"}, "name"),  # another garage's name, whatever its case: two "Givors" in every list
    ({"name": "Ecully "}, "name"),  # or its accents and spaces ("Écully"): SQLite's lower() leaves "É" as it is
    ({"name": "ÉCULLY"}, "name"),
    ({"phone": "call me"}, "phone"),
    ({"phone": "------"}, "phone"), ({"phone": "+33 4 7"}, "phone"),  # six characters, not a number to call
    ({"lifts": -1}, "lifts"),
    ({"lifts": "two"}, "lifts"),
    ({"location": {"lat": 95, "lon": 4.8}}, "location"),
    ({"opening_hours": [{"weekday": 0, "opens": "18:00", "closes": "08:00"}]}, "opening_hours"),
    ({"opening_hours": [{"weekday": 0, "opens": "08:00", "closes": "18:00", "lunch_start": "07:00",
                         "lunch_end": "09:00"}]}, "opening_hours"),
    ({"opening_hours": [{"weekday": 0, "opens": "08:00", "closes": "18:00"}] * 2}, "opening_hours"),
    ({"closed_days": [{"day": "Christmas"}]}, "closed_days"),
    ({"id": "renamed"}, "id"),
    # a zone that is not a zone's name: stored, it broke the board and every offer near the garage (500s)
    ({"timezone": 7}, "timezone"), ({"timezone": ["Europe/Paris"]}, "timezone"), ({"timezone": ""}, "timezone"),
    ({"timezone": "Mars/Olympus"}, "timezone"), ({"timezone": None}, "timezone"),
    # the page's rule, on the API too: no hours would book whenever the technicians work, Sundays included
    ({"opening_hours": []}, "opening_hours"),
])
def test_a_bad_garage_change_names_its_field_and_saves_nothing(app, client, auth, body, field):
    auth.login("admin")
    was = client.get(f"/admin/garages/{GARAGE}").get_data(as_text=True)
    refused = patch(auth, GARAGE, {"name": "Half saved?", **body})
    assert refused.status_code == 400 and field in refused.get_json()["error"]["details"]["fields"]
    with app.app_context():
        assert db.session.get(Garage, GARAGE).name == "Lyon 7e Gerland"
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert "Half saved?" not in was


@pytest.mark.parametrize("zone", [5, {"name": "Europe/Paris"}, "Europe/Nowhere"])
def test_a_new_garage_with_no_real_time_zone_is_not_saved(app, client, auth, zone):
    auth.login("admin")
    refused = auth.post("/api/v1/garages", json={**NEW, "timezone": zone})
    assert refused.status_code == 400 and "timezone" in refused.get_json()["error"]["details"]["fields"]
    with app.app_context():
        assert db.session.get(Garage, NEW["id"]) is None
    assert auth.post("/api/v1/garages", json={**NEW, "timezone": "Europe/Paris"}).status_code == 201


def test_the_garage_page_refuses_bad_hours_under_the_field(app, client, auth):
    auth.login("admin")
    form = {"name": "Lyon 7e Gerland", "address": "62 avenue Tony Garnier", "city": "Lyon", "lat": "45.7335",
            "lon": "4.8335", "phone": "+33 4 70 10 20 40", "lifts": "7", "hours": "Mon 18:00-08:00", "closed": ""}
    page = auth.form(f"/admin/garages/{GARAGE}", form)
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert 'id="e-opening_hours"' in text and "closing after opening" in text and "Mon 18:00-08:00" in text
    # a second break cannot be kept: said, not silently dropped
    twice = auth.form(f"/admin/garages/{GARAGE}", {**form, "hours": "Mon 08:00-18:00 lunch 12:00-13:00 14:00-15:00"})
    assert twice.status_code == 400 and "14:00-15:00 would not be kept" in twice.get_data(as_text=True)
    ok = auth.form(f"/admin/garages/{GARAGE}", {**form, "hours": "Mon 07:45-18:30 lunch 12:00-13:00",
                                                "closed": "2026-12-25 Christmas"})
    assert ok.status_code == 302


def test_an_emptied_hours_box_is_refused_not_read_as_open_every_day(app, client, auth):
    auth.login("admin")
    def hours(garage_id):
        with app.app_context():
            found = db.session.get(Garage, garage_id)
            return found and [(h.weekday, h.opens, h.closes) for h in found.opening_hours]

    before = hours(GARAGE)
    form = {"name": "Lyon 7e Gerland", "address": "62 avenue Tony Garnier", "city": "Lyon", "lat": "45.7335",
            "lon": "4.8335", "phone": "+33 4 70 10 20 40", "lifts": "7", "hours": "", "closed": ""}
    page = auth.form(f"/admin/garages/{GARAGE}", form)
    assert page.status_code == 400
    assert 'id="e-opening_hours"' in page.get_data(as_text=True) and "Give the days the garage opens" in \
        page.get_data(as_text=True)
    assert before and hours(GARAGE) == before
    new = auth.form("/admin/garages/new", {**form, "id": "nohours", "name": "Sans horaires"})
    assert new.status_code == 400 and "Give the days the garage opens" in new.get_data(as_text=True)
    assert hours("nohours") is None


@pytest.mark.parametrize("username", ["operator", "reception-lyon-07", "workshop-lyon-07", "planner"])
def test_only_an_admin_changes_garages(app, client, auth, username):
    auth.login(username)
    assert patch(auth, GARAGE, {"name": "Mine"}).status_code == 403
    assert auth.post("/api/v1/garages", json=NEW).status_code == 403
    assert client.get("/admin/garages/new").status_code == 403
    assert auth.form(f"/admin/garages/{GARAGE}", {"name": "Mine"}).status_code == 403
    with app.app_context():
        assert db.session.get(Garage, GARAGE).name == "Lyon 7e Gerland"


def test_hours_read_and_typed_in_french(app, client, auth):
    french = {"Accept-Language": "fr"}
    auth.login("admin")
    page = client.get(f"/admin/garages/{GARAGE}", headers=french).get_data(as_text=True)
    assert "lun. " in page and "Mon " not in page  # the hours box speaks the reader's language
    assert re.search(r">[2-7] jours<", page) and not re.search(r"\b1 jours", page)  # under "Semaine"
    form = {"name": "Lyon 7e Gerland", "address": "62 avenue Tony Garnier", "city": "Lyon", "lat": "45.7335",
            "lon": "4.8335", "phone": "+33 4 70 10 20 40", "lifts": "7", "closed": "",
            "hours": "lun. 07:45-18:30 déjeuner 12:00-13:00\nMardi 08:00-17:00\nwed 08:00-12:00"}
    saved = auth.form(f"/admin/garages/{GARAGE}", form, headers=french)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    with app.app_context():
        hours = {h.weekday: h for h in db.session.get(Garage, GARAGE).opening_hours}
        assert sorted(hours) == [0, 1, 2]
        assert (hours[0].opens, hours[0].lunch_starts, hours[1].closes) == (time(7, 45), time(12), time(17))
    again = client.get(f"/admin/garages/{GARAGE}", headers=french).get_data(as_text=True)
    assert "lun. 07:45-18:30 déjeuner 12:00-13:00" in again
    refused = auth.form(f"/admin/garages/{GARAGE}", {**form, "hours": "lundo 07:45-18:30"}, headers=french)
    assert refused.status_code == 400  # not a day in either language: said under the field, nothing saved
    twice = auth.form(f"/admin/garages/{GARAGE}", {**form, "hours": "lundi 08:00-12:00\nlun. 13:00-17:00"},
                      headers=french).get_data(as_text=True)
    # the refusal names the day as the reader does, not in English
    assert "lun. figure deux fois" in twice and "Mon " not in twice
    api = client.patch(f"/api/v1/garages/{GARAGE}", headers=auth.headers(), json={"opening_hours": [
        {"weekday": 0, "opens": "08:00", "closes": "12:00"}, {"weekday": 0, "opens": "13:00", "closes": "17:00"}]})
    assert api.status_code in (400, 422)
    assert api.get_json()["error"]["details"]["fields"]["opening_hours"] == "Mon is given twice: one line per day."


def test_a_wrong_garage_change_says_what_is_wrong_with_it(app, client, auth):
    auth.login("admin")

    def refused(body: dict) -> dict:
        answer = client.patch(f"/api/v1/garages/{GARAGE}", headers=auth.headers(), json=body)
        assert answer.status_code in (400, 422), answer.get_json()
        return answer.get_json()["error"]["details"]["fields"]

    assert "is not a garage's field" in refused({"hours": "Mon 08:00-12:00"})["hours"]
    assert refused({"id": "lyon-99"})["id"] == "id cannot be changed: a garage's id never changes."
    assert refused({"closed_days": ["not-a-date"]})["closed_days"] == \
        "closed_days is a list of {day, reason}, not 'not-a-date'."
    assert "list of {day, reason}" in refused({"closed_days": ["2026-12-25"]})["closed_days"]
    assert refused({"closed_days": [{"day": "nope"}]})["closed_days"] == \
        "A closed day is a date like 2026-12-25, not 'nope'."
    with app.app_context():
        assert db.session.get(Garage, GARAGE).id == GARAGE and not db.session.get(Garage, GARAGE).closed_days


def test_fewer_lifts_than_the_lift_work_booked_lists_the_jobs_left_without_one(app, client, auth):
    from scheduler.models import ACTIVE, Appointment
    from tests.conftest import CLOCK_NOW

    with app.app_context():
        lift_work = {a.id: (a.start_at, a.end_at) for a in db.session.scalars(select(Appointment).where(
            Appointment.garage_id == GARAGE, Appointment.lift.is_(True), Appointment.status.in_(ACTIVE),
            Appointment.end_at > CLOCK_NOW))}
    assert len(lift_work) > 2, "Lyon 7e has lift work booked"
    auth.login("admin")
    same = patch(auth, GARAGE, {"lifts": 7})
    assert same.status_code == 200 and same.get_json()["affected"] == []
    one = patch(auth, GARAGE, {"lifts": 1})
    assert one.status_code == 200, one.get_json()
    hit = {a["id"] for a in one.get_json()["affected"]}
    # with one lift, every lift job that overlaps an earlier-starting one is left without a lift, and only those
    expected = {i for i, (s, e) in lift_work.items()
                if any(j != i and (s2, j) < (s, i) and s2 < s + (e - s) and e2 > s
                       for j, (s2, e2) in lift_work.items())}
    assert hit and hit <= set(lift_work) and hit <= expected
    form = {"name": "Lyon 7e Gerland", "address": "62 avenue Tony Garnier", "city": "Lyon", "lat": "45.7335",
            "lon": "4.8335", "phone": "+33 4 70 10 20 40", "lifts": "1", "closed": ""}
    patch(auth, GARAGE, {"lifts": 7})
    page = client.get(f"/admin/garages/{GARAGE}").get_data(as_text=True)
    form["hours"] = page.split('name="hours"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    saved = auth.form(f"/admin/garages/{GARAGE}", form, follow_redirects=True).get_data(as_text=True)
    assert f"This hits {len(hit)} booked appointments: re-plan them below." in saved  # as fewer hours would
    # the warning stays at the next visit (it listed only work with no one on shift, so it vanished)
    later = client.get(f"/admin/garages/{GARAGE}").get_data(as_text=True)
    assert f"{len(hit)} appointments can no longer be worked as booked" in later
    assert all(f'id="hit-{i}"' in later for i in hit) and "fewer lifts" in later
    assert "opening hours, closed days or lifts" in later


def test_a_re_plan_that_places_nothing_can_be_closed_and_stops_waiting_on_the_board(app, client, auth):
    day = next_working_day(app)
    auth.login("admin")
    closed = patch(auth, GARAGE, {"closed_days": [{"day": day.isoformat(), "reason": "public holiday"}]})
    movable = [a["id"] for a in closed.get_json()["affected"] if a["movable"]]
    assert len(movable) >= 2
    preview = auth.post(f"/api/v1/garages/{GARAGE}/replan", json={"appointments": movable, "reason": "holiday"})
    assert preview.status_code == 200 and preview.get_json()["placements"] == [], "a closed day has no room"
    preview_id = preview.get_json()["id"]
    auth.login(f"reception-{GARAGE}")
    assert f'id="replan-{preview_id}"' in client.get(f"/garages/{GARAGE}/board").get_data(as_text=True)
    page = client.get(f"/garages/{GARAGE}/squeeze/{preview_id}").get_data(as_text=True)
    assert "Call the customers to agree other times." in page and "Confirming leaves" not in page
    assert 'id="close-replan"' in page, "not a dead end: it can be closed"
    assert auth.form(f"/garages/{GARAGE}/squeeze/{preview_id}/reject").status_code == 302
    assert f'id="replan-{preview_id}"' not in client.get(f"/garages/{GARAGE}/board").get_data(as_text=True)


def test_a_consented_lift_overbooking_is_not_listed_as_work_without_a_lift(app, client, auth):
    """An overbooking the garage agreed to is an extra beyond its lifts: counted, it pushed the ordinary bookings
    after it onto the garage page's list of work to re-plan."""
    with app.app_context():
        garage = db.session.get(Garage, GARAGE)
        garage.lifts = 1
        db.session.commit()
        over = capacity.beyond_lifts(db.session, garage, CLOCK_NOW)
        assert over, "with one lift, overlapping lift work finds none"
        for a in db.session.scalars(select(Appointment).where(Appointment.id.in_(over))):
            a.overbooked = True  # each of them consented to
        db.session.commit()
        assert capacity.beyond_lifts(db.session, garage, CLOCK_NOW) == set()
    auth.login("admin")
    assert 'id="affected"' not in client.get(f"/admin/garages/{GARAGE}").get_data(as_text=True)
