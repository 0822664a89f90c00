"""The catalogue at the admin desk: job types (skill, duration, lift) and symptoms (French and English labels,
suggested urgency and job type), through the API and the pages, audited, admin only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from scheduler.models import AuditEntry, JobType, Symptom
from web.extensions import db

JOB = {"code": "clutch_repair", "label": "Clutch repair", "skill": "engine", "duration_minutes": 180, "lift": True}
SYMPTOM = {"code": "clutch_slips", "label": "Clutch slips", "label_fr": "L'embrayage patine", "urgency": "P2",
           "job_type": "clutch_repair"}


def test_a_new_symptom_is_offered_to_callers_in_their_language(app, client, auth):
    auth.login("admin")
    assert auth.post("/api/v1/job-types", json=JOB).status_code == 201
    made = auth.post("/api/v1/symptoms", json=SYMPTOM)
    assert made.status_code == 201, made.get_json()
    auth.login("operator")
    listed = {s["code"]: s for s in client.get("/api/v1/symptoms", headers={"Accept-Language": "en"}).get_json()}
    assert listed["clutch_slips"]["urgency"] == "P2" and listed["clutch_slips"]["job_type"] == "clutch_repair"
    case = auth.post("/api/v1/cases", json={
        "customer": {"name": "Lou Martin", "phone": "+33 6 00 00 00 01"},
        "vehicle": {"plate": "AB-123-CD", "model": "Clio"}, "symptom": "clutch_slips",
        "location": {"lat": 45.735, "lon": 4.835}})
    assert case.status_code == 201 and case.get_json()["urgency"] == "P2"
    assert case.get_json()["job_type"] == "clutch_repair"


def test_a_new_job_type_reads_in_french_where_its_french_label_is_given(app, client, auth):
    """An admin's job type has no entry in the translation catalog: "Clutch repair" on French pages and in the
    customer's French message, until it is given a French label."""
    auth.login("admin")
    assert auth.post("/api/v1/job-types", json=JOB).status_code == 201
    assert auth.post("/api/v1/symptoms", json=SYMPTOM).status_code == 201
    french = {"Accept-Language": "fr"}
    auth.login("operator")
    case = auth.post("/api/v1/cases", json={
        "customer": {"name": "Lou Martin", "phone": "+33 6 00 00 00 01", "email": "lou@example.fr"},
        "vehicle": {"plate": "AB-123-CD", "model": "Clio"}, "symptom": "clutch_slips",
        "location": {"lat": 45.735, "lon": 4.835}}).get_json()
    assert "Clutch repair" in client.get(f"/desk/cases/{case['id']}", headers=french).get_data(as_text=True)
    auth.login("admin")
    named = auth.form("/admin/catalogue/job-types/clutch_repair", {**JOB, "label_fr": "Réparation de l’embrayage",
                                                                   "lift": "yes"})
    assert named.status_code == 302
    assert client.get("/api/v1/job-types").get_json()[0].keys() >= {"label", "label_fr"}
    auth.login("operator")
    page = client.get(f"/desk/cases/{case['id']}", headers=french).get_data(as_text=True)
    assert "Réparation de l’embrayage" in page and "Clutch repair" not in page
    best = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][0]
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: best[k] for k in ("garage", "technician", "start")})
    assert booked.status_code == 201, booked.get_json()
    with app.app_context():
        from scheduler.models import Message

        message = db.session.scalar(select(Message).where(Message.case_id == case["id"]))
        assert message.locale == "fr" and "Travaux : Réparation de l’embrayage." in message.body
        assert "SUMMARY:Réparation de l’embrayage —" in message.ics.replace("\r\n ", ""), "its calendar event too"
    auth.login("admin")  # emptied, the catalog's word again (here the English label: it has no entry)
    auth.client.patch("/api/v1/job-types/clutch_repair", json={"label_fr": ""}, headers=auth.headers())
    with app.app_context():
        assert db.session.get(JobType, "clutch_repair").label_fr is None


def test_a_changed_job_type_is_audited_from_and_to(app, client, auth):
    auth.login("admin")
    changed = auth.client.patch("/api/v1/job-types/oil_change", json={"duration_minutes": 60, "lift": False},
                                headers=auth.headers())
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["duration_minutes"] == 60
    (entry,) = client.get("/api/v1/audit?entity=job_type&entity_id=oil_change").get_json()
    assert entry["changes"]["duration_minutes"][1] == 60 and entry["changes"]["lift"] == [True, False]
    symptom = auth.client.patch("/api/v1/symptoms/engine_fault_stop", json={"label_fr": "Moteur : arrêt immédiat"},
                                headers=auth.headers())
    assert symptom.status_code == 200
    fr = {s["code"]: s["label"] for s in client.get("/api/v1/symptoms", headers={"Accept-Language": "fr"}).get_json()}
    assert fr["engine_fault_stop"] == "Moteur : arrêt immédiat"


@pytest.mark.parametrize("path, body, field, status", [
    ("/api/v1/job-types", {**JOB, "code": "Clutch Repair"}, "code", 400),
    # a code another entry holds: the body is right and clashes with what is stored (API.md's 409, as a username)
    ("/api/v1/job-types", {**JOB, "code": "oil_change"}, "code", 409),
    ("/api/v1/job-types", {**JOB, "code": "oil_change", "duration_minutes": 50}, "code", 400),
    ("/api/v1/job-types", {**JOB, "skill": "juggling"}, "skill", 400),
    ("/api/v1/job-types", {**JOB, "duration_minutes": 50}, "duration_minutes", 400),
    ("/api/v1/job-types", {**JOB, "label": ""}, "label", 400),
    ("/api/v1/symptoms", {**SYMPTOM, "job_type": "nothing"}, "job_type", 400),
    ("/api/v1/symptoms", {**SYMPTOM, "urgency": "P0"}, "urgency", 400),
    ("/api/v1/symptoms", {**SYMPTOM, "label_fr": ""}, "label_fr", 400),
])
def test_a_bad_catalogue_entry_names_its_field_and_saves_nothing(app, client, auth, path, body, field, status):
    auth.login("admin")
    refused = auth.post(path, json=body)
    assert refused.status_code == status and field in refused.get_json()["error"]["details"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert db.session.get(JobType, "clutch_repair") is None and db.session.get(Symptom, "clutch_slips") is None


def test_the_catalogue_through_the_pages(app, client, auth):
    auth.login("admin")
    assert "oil_change" in client.get("/admin/catalogue").get_data(as_text=True)
    bad = auth.form("/admin/catalogue/job-types", {**JOB, "duration_minutes": "three hours", "lift": "yes"})
    assert bad.status_code == 400 and 'id="e-duration_minutes"' in bad.get_data(as_text=True)
    added = auth.form("/admin/catalogue/job-types", {**JOB, "lift": "yes"}, follow_redirects=True)
    assert f"Added to the catalogue: {JOB['label']} (clutch_repair)." in added.get_data(as_text=True)
    assert auth.form("/admin/catalogue/symptoms", SYMPTOM).status_code == 302
    # a symptom's job type by its name, its code beside it; an item's page is titled by its name
    listed = client.get("/admin/catalogue").get_data(as_text=True)
    assert re.search(rf"<td>{JOB['label']} <code[^>]*>clutch_repair</code></td>", listed)
    assert f"<title>{SYMPTOM['label']}" in client.get("/admin/catalogue/symptoms/clutch_slips").get_data(as_text=True)
    edit = auth.form("/admin/catalogue/symptoms/clutch_slips", {**SYMPTOM, "urgency": "P1"})
    assert edit.status_code == 302
    page = client.get("/admin/catalogue/symptoms/clutch_slips").get_data(as_text=True)
    assert "P2 → " in page.replace("<strong>", "").replace("</strong>", "")
    with app.app_context():
        assert db.session.get(Symptom, "clutch_slips").urgency == "P1"
        assert db.session.get(JobType, "clutch_repair").needs_lift is True


@pytest.mark.parametrize("username", ["operator", "reception-lyon-07", "planner"])
def test_only_an_admin_changes_the_catalogue(app, client, auth, username):
    auth.login(username)
    assert auth.post("/api/v1/job-types", json=JOB).status_code == 403
    assert auth.post("/api/v1/symptoms", json=SYMPTOM).status_code == 403
    assert auth.client.patch("/api/v1/job-types/oil_change", json={"duration_minutes": 15},
                             headers=auth.headers()).status_code == 403
    assert client.get("/admin/catalogue").status_code == 403
    assert auth.form("/admin/catalogue/symptoms/engine_fault_stop", {"urgency": "P3"}).status_code == 403
    assert client.get("/api/v1/job-types").status_code == 200  # reading the catalogue is for everyone


SKILL = {"code": "air_conditioning", "label": "Air conditioning", "label_fr": "Climatisation"}


def test_a_new_skill_books_work_only_with_the_technicians_given_it(app, client, auth):
    """The admin adds a skill, gives it to one technician and to a new job type: a caller's case for that work is
    offered only that technician, and the garage's French board names the skill in French."""
    auth.login("admin")
    made = auth.post("/api/v1/skills", json=SKILL)
    assert made.status_code == 201, made.get_json()
    assert made.get_json() == SKILL
    tech = client.get("/api/v1/garages/lyon-07/technicians").get_json()[0]
    given = auth.client.patch(f"/api/v1/technicians/{tech['id']}", json={"skills": tech["skills"] + [SKILL["code"]]},
                              headers=auth.headers())
    assert given.status_code == 200, given.get_json()
    job = {**JOB, "code": "ac_recharge", "label": "Air conditioning recharge", "skill": SKILL["code"], "lift": False,
           "duration_minutes": 60}
    assert auth.post("/api/v1/job-types", json=job).status_code == 201
    assert auth.post("/api/v1/symptoms", json={**SYMPTOM, "code": "ac_blows_warm", "label": "A/C blows warm",
                                               "label_fr": "La clim souffle chaud",
                                               "job_type": "ac_recharge"}).status_code == 201
    auth.login("operator")
    assert {s["code"]: s["label"] for s in client.get("/api/v1/skills").get_json()}[SKILL["code"]] == SKILL["label"]
    case = auth.post("/api/v1/cases", json={
        "customer": {"name": "Lou Martin", "phone": "+33 6 00 00 00 01"},
        "vehicle": {"plate": "AB-123-CD", "model": "Clio"}, "symptom": "ac_blows_warm",
        "location": {"lat": 45.735, "lon": 4.835}}).get_json()
    offers = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()
    assert offers["offers"], "the one technician with the skill can do it"
    assert {o["technician"] for o in offers["offers"]} == {tech["id"]}
    assert offers["rule_offer"]["technician"] == tech["id"]
    auth.login("reception-lyon-07")
    board = client.get("/garages/lyon-07/board", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Climatisation" in board and "Air conditioning<" not in board


def test_a_skill_is_renamed_and_audited_and_its_code_stays(app, client, auth):
    auth.login("admin")
    assert auth.post("/api/v1/skills", json={"code": "glass", "label": "Glazing"}).status_code == 201
    renamed = auth.client.patch("/api/v1/skills/glass", json={"label": "Glass", "label_fr": "Vitrage"},
                                headers=auth.headers())
    assert renamed.status_code == 200 and renamed.get_json() == {"code": "glass", "label": "Glass",
                                                                 "label_fr": "Vitrage"}
    kept = auth.client.patch("/api/v1/skills/glass", json={"code": "glazing"}, headers=auth.headers())
    assert kept.status_code == 400 and "code" in kept.get_json()["error"]["details"]["fields"]
    assert auth.client.patch("/api/v1/skills/juggling", json={"label": "x"}, headers=auth.headers()).status_code == 404
    entries = client.get("/api/v1/audit?entity=skill&entity_id=glass").get_json()
    assert [e["action"] for e in entries] == ["changed", "created"]
    assert entries[0]["changes"]["label"] == ["Glazing", "Glass"]
    assert entries[0]["changes"]["label_fr"] == [None, "Vitrage"]


@pytest.mark.parametrize("body, field, status", [
    ({**SKILL, "code": "Air Conditioning"}, "code", 400),
    ({**SKILL, "code": "engine"}, "code", 409),
    ({**SKILL, "label": ""}, "label", 400),
    ({**SKILL, "label": "x" * 81}, "label", 400),
    ({**SKILL, "label_fr": 7}, "label_fr", 400),
])
def test_a_bad_skill_names_its_field_and_saves_nothing(app, client, auth, body, field, status):
    auth.login("admin")
    refused = auth.post("/api/v1/skills", json=body)
    assert refused.status_code == status and field in refused.get_json()["error"]["details"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_two_entries_of_one_list_never_read_alike(app, client, auth):
    """A probe: a second skill labelled "Climatisation" in French was taken, and the technician's and job type's
    forms showed two "Climatisation" to choose from."""
    auth.login("admin")
    assert auth.post("/api/v1/skills", json=SKILL).status_code == 201
    twin = auth.post("/api/v1/skills", json={"code": "glass", "label": "Glass", "label_fr": " climatisation "})
    assert twin.status_code == 409 and twin.get_json()["error"]["details"]["field"] == "label_fr"
    assert "air_conditioning" in twin.get_json()["error"]["message"]
    assert auth.post("/api/v1/skills", json={"code": "glass", "label": "AIR CONDITIONING"}).status_code == 409
    assert auth.post("/api/v1/skills", json={"code": "glass", "label": "Glass", "label_fr": "Vitrage"}).status_code == 201
    renamed = auth.client.patch("/api/v1/skills/glass", json={"label_fr": "Climatisation"}, headers=auth.headers())
    assert renamed.status_code == 409
    kept = auth.client.patch(f"/api/v1/skills/{SKILL['code']}", json={"label_fr": "Climatisation"},
                             headers=auth.headers())
    assert kept.status_code == 200, "its own label again is no clash"


def test_skills_through_the_pages(app, client, auth):
    auth.login("admin")
    french = {"Accept-Language": "fr"}
    bad = auth.form("/admin/catalogue/skills", {"code": "", "label": "Air conditioning"})
    assert bad.status_code == 400 and 'id="e-code"' in bad.get_data(as_text=True)
    added = auth.form("/admin/catalogue/skills", SKILL, follow_redirects=True, headers=french)
    assert "Climatisation (air_conditioning)" in added.get_data(as_text=True)
    renamed = auth.form("/admin/catalogue/skills/air_conditioning", {"label": "Air-conditioning",
                                                                     "label_fr": "Climatisation"},
                        follow_redirects=True, headers=french)
    assert "Enregistré : Climatisation (air_conditioning)" in renamed.get_data(as_text=True), "said by its name"
    page = client.get("/admin/catalogue", headers=french).get_data(as_text=True)
    row = re.search(r'<tr><td><a href="/admin/catalogue/skills/air_conditioning">.*?</tr>', page).group(0)
    assert "<td>Climatisation</td>" in row and "<td>0</td>" in row, "no technician has it yet"
    assert '<td lang="en">Air-conditioning</td>' in row
    item = client.get("/admin/catalogue/skills/air_conditioning", headers=french).get_data(as_text=True)
    assert "<title>Climatisation" in item
    assert auth.form("/admin/catalogue/skills/air_conditioning", {"label": "Air con", "label_fr": ""}).status_code == 302
    # with no French label of its own, a French reader gets the English one (no catalog entry for it)
    assert "<title>Air con" in client.get("/admin/catalogue/skills/air_conditioning", headers=french).get_data(
        as_text=True)
    technician = client.get("/admin/garages/lyon-07", headers=french).get_data(as_text=True)
    assert 'value="air_conditioning"' in technician, "the new skill can be ticked on a technician"


def test_a_seeded_entry_renamed_in_english_keeps_its_french(app, client, auth):
    """Seeded skills and job types read in French from the translation catalog, by their English label: renaming
    the English (page or API) must not turn the French pages English."""
    auth.login("admin")
    french = {"Accept-Language": "fr"}
    form = client.get("/admin/catalogue/job-types/oil_change", headers=french).get_data(as_text=True)
    assert re.search(r'name="label_fr"[^>]*value="Vidange"', form), "the form opens with the French it reads"
    unchanged = auth.form("/admin/catalogue/job-types/oil_change", {
        "label": "Oil change", "label_fr": "Vidange", "skill": "maintenance", "duration_minutes": "45", "lift": "yes"})
    assert unchanged.status_code == 302
    assert client.get("/api/v1/audit?entity=job_type&entity_id=oil_change").get_json() == [], "saved as it was"
    renamed = auth.form("/admin/catalogue/job-types/oil_change", {
        "label": "Oil change, synthetic", "label_fr": "Vidange", "skill": "maintenance", "duration_minutes": "45",
        "lift": "yes"})
    assert renamed.status_code == 302
    assert auth.client.patch("/api/v1/skills/tyres", json={"label": "Tyres and wheels"},
                             headers=auth.headers()).status_code == 200
    assert {s["code"]: s["label_fr"] for s in client.get("/api/v1/skills").get_json()}["tyres"] == "Pneus"
    page = client.get("/admin/catalogue", headers=french).get_data(as_text=True)
    assert "<td>Vidange</td>" in page and "Oil change, synthetic</td>" not in page
    assert "<td>Pneus</td>" in page
