"""Access rules in one place: who may open which page. A garage-bound user sees only their garage."""

from __future__ import annotations

import pytest

# (user, path, expected status)
RULES = [
    ("reception-lyon-07", "/garages/lyon-07/board", 200),
    ("reception-lyon-07", "/garages/lyon-03/board", 403),
    ("reception-lyon-07", "/garages/lyon-03/jobs", 403),
    ("workshop-lyon-07", "/garages/lyon-07/jobs", 200),
    ("workshop-lyon-07", "/garages/venissieux/jobs", 403),
    ("workshop-lyon-07", "/planner/", 403),
    ("reception-lyon-07", "/admin/", 403),
    ("operator", "/planner/", 403),
    ("operator", "/garages/lyon-03/board", 200),
    ("planner", "/desk/", 403),
    ("planner", "/planner/?group_by=team", 200),
    ("admin", "/garages/givors/board", 200),
    ("admin", "/garages/nowhere/board", 404),
    ("reception-lyon-07", "/garages/lyon-07/board?day=tomorrow", 400),
    ("reception-lyon-07", "/garages/lyon-07/board?day=9999-12-31", 400),  # the last date: its next day overflows
    ("workshop-lyon-07", "/garages/lyon-07/jobs?day=0001-01-01", 400),
    ("reception-lyon-07", "/garages/lyon-07/board?day=2027-06-01", 200),
]


@pytest.mark.parametrize("username, path, status", RULES)
def test_access_rules(client, auth, username, path, status):
    auth.login(username)
    assert client.get(path).status_code == status


@pytest.mark.parametrize("path", ["/desk/", "/garages/lyon-07/board", "/planner/", "/admin/"])
def test_pages_need_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_garages_data_never_appears_on_a_board(client, auth):
    auth.login("reception-lyon-07")
    page = client.get("/garages/lyon-07/board").get_data(as_text=True)
    assert "Lyon 7e Gerland" in page
    assert "Vénissieux" not in page
    refused = client.get("/garages/venissieux/board")
    assert refused.status_code == 403
    assert "another garage" in refused.get_data(as_text=True)


def test_planner_sees_times_in_the_network_zone_not_utc(app, client, auth):
    from sqlalchemy import select

    from scheduler.models import Override
    from web.extensions import db
    from zoneinfo import ZoneInfo

    with app.app_context():
        latest = db.session.scalars(select(Override).order_by(Override.created_at.desc(), Override.id.desc())).first()
        local = latest.created_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
        assert all(o.rule_start.astimezone(ZoneInfo("Europe/Paris")).weekday() < 5
                   for o in db.session.scalars(select(Override)))
    auth.login("planner")
    assert local in client.get("/planner/").get_data(as_text=True)
