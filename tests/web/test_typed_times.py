"""Times of day typed at a French desk: "14h15" is as good as "14:15"."""

from __future__ import annotations

import re
from datetime import time

import pytest

from tests.web.test_garage_desk import preview, walk_in
from web.inputs import clock_time


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
