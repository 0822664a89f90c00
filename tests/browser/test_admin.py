"""The admin desk in Chromium: a technician of a busy garage is off sick today; the admin sees exactly the
appointments that hits, previews a re-plan and confirms it; reception's board shows the work moved."""

from __future__ import annotations

import os
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.browser.test_story import log_in

GARAGE = "villeurbanne"  # busy, and not the garage the other browser tests squeeze into
SHOTS = os.environ.get("FRONTLINE_SCREENSHOTS")


def busiest_today(live_app, moment) -> tuple[str, str, list[int], list[int]]:
    """The technician with the most work left today: all of it (the absence hits it), and what may move."""
    from scheduler.models import ACTIVE, Appointment, Garage, Technician
    from web.extensions import db

    with live_app.app_context():
        garage = db.session.get(Garage, GARAGE)
        _, day_end = garage.day_bounds(garage.today(moment))
        rows = db.session.execute(select(Appointment.technician_id, Appointment.id, Appointment.status).where(
            Appointment.garage_id == GARAGE, Appointment.status.in_(ACTIVE), Appointment.end_at > moment,
            Appointment.start_at < day_end)).all()
        work: dict[str, list[int]] = {}
        movable: dict[str, list[int]] = {}
        for tech, appointment, status in rows:
            work.setdefault(tech, []).append(appointment)
            if status == "booked":
                movable.setdefault(tech, []).append(appointment)
        tech = max(sorted(movable), key=lambda t: len(movable[t]))
        return tech, db.session.get(Technician, tech).name, sorted(work[tech]), sorted(movable[tech])


def test_a_technician_off_sick_today_and_the_work_re_planned(browser, live_server, live_app, story_clock, tmp_path):
    shots = SHOTS or str(tmp_path)
    tech, name, work, movable = busiest_today(live_app, story_clock())
    assert len(movable) >= 2, "the busy garage's busiest technician has work left today"

    admin = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(admin, live_server, "admin")
    with admin.expect_navigation():
        admin.click(f"a[href='/admin/garages/{GARAGE}']")
    with admin.expect_navigation():
        admin.click(f"a[href='/admin/technicians/{tech}']")
    admin.screenshot(path=f"{shots}/admin-1-technician.png", full_page=True)
    with admin.expect_navigation():
        admin.click("#sick-today")
    admin.wait_for_selector("table#affected")
    admin.screenshot(path=f"{shots}/admin-2-affected.png", full_page=True)
    listed = sorted(int(row.get_attribute("id").split("-")[1])
                    for row in admin.query_selector_all("table#affected tbody tr"))
    assert listed == work, "exactly the booked work the absence hits"

    with admin.expect_navigation():
        admin.click("button:has-text('Re-plan')")
    admin.wait_for_selector(".diff")
    admin.screenshot(path=f"{shots}/admin-3-preview.png", full_page=True)
    preview_id = int(urlsplit(admin.url).path.rstrip("/").split("/")[-1])
    proposal = admin.request.get(f"{live_server}/api/v1/squeeze/{preview_id}").json()
    placed = {p["appointment"]: p for p in proposal["placements"]}
    assert placed and set(placed) | set(proposal["unplaced"]) == set(movable)
    board = admin.request.get(f"{live_server}/api/v1/garages/{GARAGE}/board").json()
    (row,) = [t for t in board["technicians"] if t["id"] == tech]
    assert {a["id"] for a in row["appointments"]} >= set(work), "the preview moved nothing"

    with admin.expect_navigation():
        admin.click("button:has-text('Confirm')")
    assert "Re-planned" in admin.inner_text(".flash.success")
    assert urlsplit(admin.url).path == f"/admin/technicians/{tech}", "back where the absence was made"

    reception = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(reception, live_server, f"reception-{GARAGE}")
    reception.wait_for_selector("#timeline")
    reception.screenshot(path=f"{shots}/admin-4-reception-board.png", full_page=True)
    for appointment_id in placed:
        cell = reception.inner_text(f"#appt-{appointment_id} td:nth-child(2)")
        assert cell != name, f"appointment {appointment_id} is no longer with {name}"
        assert reception.inner_text(f"#appt-{appointment_id} td:nth-child(1)").strip()
    board = reception.request.get(f"{live_server}/api/v1/garages/{GARAGE}/board").json()
    (row,) = [t for t in board["technicians"] if t["id"] == tech]
    # off from the moment they called in sick: what is left of their day is before it
    assert all(datetime.fromisoformat(s["end"]) <= story_clock() for s in row["shifts"])
    assert not {a["id"] for a in row["appointments"]} & set(placed)

    # the change is in the audit trail, worded from → to
    admin.goto(f"{live_server}/admin/")
    with admin.expect_navigation():
        admin.click("nav.subnav a:has-text('Audit trail')")
    trail = admin.inner_text("table.audit")
    assert tech in trail and "absence added" in trail
    admin.screenshot(path=f"{shots}/admin-5-audit.png", full_page=True)
    for name, path in (("users", "/admin/users"), ("garage", f"/admin/garages/{GARAGE}"),
                       ("catalogue", "/admin/catalogue"), ("overview", "/admin/")):
        admin.goto(f"{live_server}{path}")
        admin.screenshot(path=f"{shots}/admin-6-{name}.png", full_page=True)
