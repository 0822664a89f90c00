"""Times of day typed at a French desk: "14h15" is as good as "14:15"."""

from __future__ import annotations

import re
from datetime import time

import pytest

from tests.conftest import CLOCK_NOW

from tests.web.test_garage_desk import preview, walk_in
from web.extensions import db
from scheduler.models import Garage, Technician
from scheduler.typed import as_day, as_end, as_moment, as_ranges, clock_time


@pytest.mark.parametrize("typed, meant", [
    ("14:15", time(14, 15)), ("14h15", time(14, 15)), ("14H15", time(14, 15)), ("9h30", time(9, 30)),
    ("9h", time(9)), ("14", time(14)), ("9.30", time(9, 30)), ("0930", time(9, 30)), (" 14 h 15 ", time(14, 15)),
])
def test_the_ways_people_type_a_time_are_read_as_they_mean_it(typed, meant):
    assert clock_time(typed) == meant


@pytest.mark.parametrize("typed", ["", "25:00", "14:60", "14h5", "quatorze heures", "14:15:00", "1415h", "-1"])
def test_anything_else_is_not_a_time(typed):
    with pytest.raises(ValueError):
        clock_time(typed)


def test_reception_places_by_hand_at_a_time_typed_the_french_way(backend, app, client, auth):
    if backend != "sqlite":
        pytest.skip("reading a typed time does not depend on the database; the SQLite run covers it")
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    shown = client.get(f"/garages/lyon-07/squeeze/{proposal['id']}").get_data(as_text=True)
    tech = re.findall(r'<option value="(lyon-07-t\d+)"', shown)[0]
    typed = {"time": "23h30", "technician": tech, "reason": "foreman between two jobs", "preview": str(proposal["id"])}
    refused = auth.form(f"/garages/lyon-07/cases/{case['id']}/place", typed)
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Type the time as HH:MM" not in page, "23h30 is a time"
    assert "23:30" in page, "the refusal is about 23:30 itself: nobody works then"


@pytest.mark.parametrize("typed, read", [
    ("25/12/2026", "2026-12-25"), ("1/5/2027", "2027-05-01"), ("2026-12-25", "2026-12-25"),
    ("31/02/2026", "31/02/2026"), ("Noël", "Noël"),  # not a day: as typed, for the refusal to quote
])
def test_a_day_written_the_french_way_is_read_day_first(typed, read):
    assert as_day(typed) == read


@pytest.mark.parametrize("typed, read", [
    ("24/11/2026 14h", "2026-11-24T14:00"), ("24/11/2026 à 9h30", "2026-11-24T09:30"),
    ("2026-11-24T14:00", "2026-11-24T14:00"), ("2026-11-24 14h15", "2026-11-24T14:15"),
    ("24/11/2026", "2026-11-24"), ("2026-11-24", "2026-11-24"), ("demain", "demain"), ("24/11/2026 midi", "24/11/2026 midi"),
])
def test_a_moment_written_the_french_way_is_read_as_meant(typed, read):
    assert as_moment(typed) == read


TECH = "lyon-07-t01"
FRENCH = {"Accept-Language": "fr"}


def types_hours_and_week(auth, hours: str, week: str, closed: str = "") -> None:
    """The admin types Lyon 7e's hours and closed days, and its first technician's week, on their pages."""
    auth.login("admin")
    form = {"name": "Lyon 7e Gerland", "address": "62 avenue Tony Garnier", "city": "Lyon", "lat": "45.7335",
            "lon": "4.8335", "phone": "+33 4 70 10 20 40", "lifts": "7", "closed": closed, "hours": hours}
    saved = auth.form("/admin/garages/lyon-07", form, headers=FRENCH)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:300]
    week = auth.form(f"/admin/technicians/{TECH}", {"name": "Renamed", "garage": "lyon-07", "skills": "maintenance",
                                                     "week": week, "active": "yes"}, headers=FRENCH)
    assert week.status_code == 302, week.get_data(as_text=True)[:300]


def hours_and_week_read(garage: Garage, person: Technician) -> None:
    """Monday 07:45-18:30 with lunch 12:00-13:30, Friday to 17:00; the technician 08:00-12:00 and 13:30-17:00."""
    hours = {h.weekday: h for h in garage.opening_hours}
    assert (hours[0].opens, hours[0].closes, hours[0].lunch_starts, hours[0].lunch_ends, hours[4].closes) == \
        (time(7, 45), time(18, 30), time(12), time(13, 30), time(17))
    assert [(p.starts, p.ends) for p in person.shift_patterns] == [(time(8), time(12)), (time(13, 30), time(17))]


def test_the_admin_types_hours_holidays_shifts_and_absences_the_french_way(backend, app, client, auth):
    if backend != "sqlite":
        pytest.skip("reading typed days and times does not depend on the database; the SQLite run covers it")
    types_hours_and_week(auth, "lun. 7h45-18h30 déjeuner 12h-13h30\nven. 7h45-17h", "lun. 8h-12h, 13h30-17h",
                         closed="25/12/2026 Noël")
    away = auth.form(f"/admin/technicians/{TECH}/absences",
                     {"start": "01/12/2026 14h", "end": "02/12/2026", "reason": "formation"}, headers=FRENCH)
    assert away.status_code == 302, away.get_data(as_text=True)[:300]
    with app.app_context():
        garage, person = db.session.get(Garage, "lyon-07"), db.session.get(Technician, TECH)
        hours_and_week_read(garage, person)
        assert [(c.day.isoformat(), c.reason) for c in garage.closed_days] == [("2026-12-25", "Noël")]
        absence = max(person.absences, key=lambda a: a.id)
        start, end = absence.span(garage.zone)
        assert (start.astimezone(garage.zone).isoformat(), end.astimezone(garage.zone).isoformat()) == \
            ("2026-12-01T14:00:00+01:00", "2026-12-03T00:00:00+01:00")


@pytest.mark.parametrize("typed, read", [
    ("lun. 07:45–18:30", "lun. 07:45-18:30"),  # as the pages and the audit trail show hours: an en dash
    ("lun. 7h45 - 18h30 déjeuner 12h — 13h30", "lun. 7h45-18h30 déjeuner 12h-13h30"),
    ("Mon 08:00-12:00, 13:30-17:30", "Mon 08:00-12:00, 13:30-17:30"),
])
def test_a_range_typed_with_spaces_or_a_dash_of_any_length_is_one_range(typed, read):
    assert as_ranges(typed) == read


@pytest.mark.parametrize("typed, start, read", [
    ("16h", "01/12/2026 14h", "2026-12-01T16:00"), ("16:30", "2026-12-01T14:00", "2026-12-01T16:30"),
    ("02/12/2026", "01/12/2026 14h", "2026-12-02"), ("16h", "demain", "16h"),  # no day to put it on: as typed
])
def test_an_end_typed_as_a_time_alone_is_on_its_start_day(typed, start, read):
    assert as_end(typed, start) == read


def test_hours_and_shifts_typed_as_the_pages_show_them_are_taken_and_an_absence_to_a_time_alone(backend, app, client,
                                                                                                 auth):
    """A probe: the pages show hours with an en dash ("lun. 07:45–18:30") and refused them typed back so, or with
    spaces ("7h45 - 18h30"); an absence from "01/12/2026 14h" to "16h" was refused though its field says "or a time";
    and no start meant nothing, where the page offers "from now on"."""
    if backend != "sqlite":
        pytest.skip("reading typed days and times does not depend on the database; the SQLite run covers it")
    types_hours_and_week(auth, "lun. 07:45–18:30 déjeuner 12:00–13:30\nven. 7h45 - 17h", "lun. 08:00–12:00, 13h30 - 17h")
    away = auth.form(f"/admin/technicians/{TECH}/absences", {"start": "01/12/2026 14h", "end": "16h",
                                                              "reason": "dentiste"}, headers=FRENCH)
    assert away.status_code == 302, away.get_data(as_text=True)[:300]
    from_now = auth.form(f"/admin/technicians/{TECH}/absences", {"start": "", "end": "03/12/2026",
                                                                  "reason": "formation"}, headers=FRENCH)
    assert from_now.status_code == 302, from_now.get_data(as_text=True)[:300]
    with app.app_context():
        garage, person = db.session.get(Garage, "lyon-07"), db.session.get(Technician, TECH)
        hours_and_week_read(garage, person)
        spans = sorted(a.span(garage.zone) for a in person.absences)
        local = [(s.astimezone(garage.zone).isoformat(), e.astimezone(garage.zone).isoformat()) for s, e in spans]
        now = CLOCK_NOW.astimezone(garage.zone).replace(second=0, microsecond=0)
        assert local == sorted([("2026-12-01T14:00:00+01:00", "2026-12-01T16:00:00+01:00"),
                                (now.isoformat(), "2026-12-04T00:00:00+01:00")])
