"""The admin's audit trail narrowed: by what changed, who changed it and when, a page at a time, on the page and
through the API alike; a filter that names nothing is said, never read as an empty trail."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from scheduler.models import Technician, User
from scheduler.services import audit
from web.extensions import db

NEW = {"name": "Camille Roux", "role": "reception", "garage": "lyon-07", "password": "first-one-123"}


def _record(app, count: int, actor: str = "admin", at: datetime | None = None, entity: str = "garage") -> None:
    with app.app_context():
        who = db.session.scalar(select(User).where(User.username == actor))
        for i in range(count):
            audit.record(db.session, who, entity, f"g-{i}", "changed", {"lifts": (i, i + 1)},
                         at or datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        db.session.commit()


def test_the_api_narrows_the_trail_by_what_who_and_when(app, client, auth):
    _record(app, 2, actor="planner", entity="policy", at=datetime(2026, 10, 1, 12, 0, tzinfo=UTC))
    auth.login("admin")
    assert auth.post("/api/v1/users", json={**NEW, "username": "a.one"}).status_code == 201
    everything = client.get("/api/v1/audit").get_json()
    assert len(everything) == 3
    by_planner = client.get("/api/v1/audit?actor=planner").get_json()
    assert [e["actor"] for e in by_planner] == ["planner", "planner"]
    assert [e["entity"] for e in client.get("/api/v1/audit?entity=user").get_json()] == ["user"]
    october = client.get("/api/v1/audit?from=2026-10-01&to=2026-10-01").get_json()
    assert len(october) == 2 and all(e["at"].startswith("2026-10-01") for e in october)
    assert client.get("/api/v1/audit?from=2026-10-02&to=2026-10-31").get_json() == []
    for query, field in (("actor=nobody", "actor"), ("entity=users", "entity"), ("from=2026-13-01", "from"),
                         ("before=abc", "before"), ("before=999999", "before")):
        refused = client.get(f"/api/v1/audit?{query}")
        assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == field, query


def test_the_api_pages_with_before(app, client, auth):
    _record(app, 5)
    auth.login("admin")
    first = client.get("/api/v1/audit?limit=2").get_json()
    second = client.get(f"/api/v1/audit?limit=2&before={first[-1]['id']}").get_json()
    third = client.get(f"/api/v1/audit?limit=2&before={second[-1]['id']}").get_json()
    ids = [e["id"] for e in first + second + third]
    assert len(ids) == 5 and len(set(ids)) == 5  # every entry once, none twice, though all share one moment
    assert ids == sorted(ids, reverse=True)


def test_the_api_says_where_the_next_page_is_and_refuses_a_limit_out_of_bounds(app, client, auth):
    _record(app, 5)
    auth.login("admin")
    seen, address = [], "/api/v1/audit?entity=garage&limit=2"
    while address:  # a client follows the Link header to the end: it said nothing of what a page left out
        response = client.get(address)
        seen += [e["id"] for e in response.get_json()]
        link = response.headers.get("Link")
        address = link[link.index("<") + 1:link.index(">")] if link else None
        assert link is None or ('rel="next"' in link and "entity=garage" in link)
    assert len(seen) == 5 and len(set(seen)) == 5
    assert "Link" not in client.get("/api/v1/audit?entity=garage").headers
    for bad in ("limit=0", "limit=1001", "limit=-1", "limit=ten"):
        refused = client.get(f"/api/v1/audit?{bad}")
        assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == "limit", bad


def test_the_page_filters_and_pages_through_older_changes(app, client, auth):
    _record(app, 105)
    _record(app, 1, actor="planner", entity="policy", at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC))
    auth.login("admin")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert page.count('<tr><td class="nowrap">') == 100 and "Older changes" in page
    link = page[page.rindex('href="', 0, page.index("Older changes")) + 6:].split('"', 1)[0].replace("&amp;", "&")
    rest = client.get(link).get_data(as_text=True)
    assert rest.count('<tr><td class="nowrap">') == 6 and "Older changes" not in rest and "Newest" in rest
    mine = client.get("/admin/audit?actor=planner").get_data(as_text=True)
    assert mine.count('<tr><td class="nowrap">') == 1 and '<option selected>planner</option>' in mine
    none = client.get("/admin/audit?actor=planner&entity=user").get_data(as_text=True)
    assert "No change matches these filters." in none


def test_a_filter_that_names_nothing_is_said_on_the_page_and_dropped(app, client, auth):
    _record(app, 1)
    auth.login("admin")
    refused = client.get("/admin/audit?actor=nobody&entity=garage")
    assert refused.status_code == 302 and "actor" not in refused.headers["Location"]
    assert "entity=garage" in refused.headers["Location"]
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "No user &#39;nobody&#39;." in page or "No user 'nobody'." in page
    bad_day = client.get("/admin/audit?from=2026-02-30", follow_redirects=True).get_data(as_text=True)
    assert "From must be a day" in bad_day


def test_a_stray_key_in_the_address_is_no_part_of_the_pages_links_and_a_period_that_ends_first_is_refused(
        app, client, auth):
    _record(app, 105)
    auth.login("admin")
    for query in ("endpoint=x", "_method=POST", "actor=nobody&endpoint=x", "from=bad&_method=POST"):
        page = client.get(f"/admin/audit?{query}", follow_redirects=True)
        assert page.status_code == 200, query
    linked = client.get("/admin/audit?_external=1&_anchor=x&entity=garage").get_data(as_text=True)
    assert 'href="/admin/audit?before=' in linked and "#x" not in linked and "entity=garage" in linked
    inverted = client.get("/api/v1/audit?from=2026-11-21&to=2026-11-19")
    assert inverted.status_code == 400 and inverted.get_json()["error"]["details"]["field"] == "to"


def test_the_trail_names_garages_and_technicians_as_the_admin_knows_them(app, client, auth):
    auth.login("admin")
    assert auth.client.patch("/api/v1/garages/givors", json={"lifts": 3}, headers=auth.headers()).status_code == 200
    with app.app_context():
        tech = db.session.scalars(select(Technician).order_by(Technician.id)).first()
        tech_id, tech_name = tech.id, tech.name
        audit.record(db.session, None, "technician", tech_id, "changed", {"active": (True, False)},
                     datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        audit.record(db.session, None, "garage", "gone-01", "changed", {"lifts": (1, 2)},
                     datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
        db.session.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "<b>Givors (givors)</b>" in page
    assert f"<b>{tech_name} ({tech_id})</b>" in page
    assert "<b>gone-01</b>" in page  # removed since: its id is all there is
    assert {e["entity_id"] for e in client.get("/api/v1/audit?entity=garage").get_json()} == {"givors", "gone-01"}
