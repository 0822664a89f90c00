"""English and French: by the user's setting, the header switch, or the browser."""

from __future__ import annotations

import shutil

from tests.conftest import CLOCK_NOW, Auth
from tests.web.pages import csrf_from
from web import create_app
from web.extensions import db


def test_the_browser_language_is_used_before_login(client):
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(as_text=True)
    assert "Se connecter à Frontline" in page
    assert "Log in to Frontline" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_a_reader_who_does_not_say_reads_the_networks_language_french(sqlite_template, tmp_path, monkeypatch):
    """An API client or a browser without Accept-Language, and a user with no setting, read French: this network's
    language (FRONTLINE_LANGUAGE changes it). The rest of the suite runs with English as its default."""
    monkeypatch.delenv("FRONTLINE_LANGUAGE", raising=False)
    copy = tmp_path / "frontline.sqlite"
    shutil.copy(sqlite_template, copy)
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}",
                      "CLOCK": lambda: CLOCK_NOW})
    client = app.test_client()
    refused = client.get("/api/v1/cases")
    assert refused.status_code == 401 and refused.get_json()["error"]["message"].startswith("Connectez-vous")
    assert "Se connecter à Frontline" in client.get("/login").get_data(as_text=True)
    Auth(client).login("operator")
    assert "Poste d’appels" in client.get("/desk/").get_data(as_text=True)
    assert "Call-centre desk" in client.get("/desk/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_the_header_switch_sticks_to_the_user(app, client, auth):
    auth.login("operator")
    page = client.get("/desk/").get_data(as_text=True)
    assert "Call-centre desk" in page
    switched = client.post("/lang/fr", data={"csrf_token": csrf_from(page), "next": "/desk/"})
    assert switched.status_code == 302 and switched.headers["Location"] == "/desk/"
    assert "Poste d’appels" in client.get("/desk/").get_data(as_text=True)
    # the setting is the user's: another session, with an English browser, keeps it
    from tests.conftest import Auth

    other = app.test_client()
    Auth(other).login("operator")
    assert "Poste d’appels" in other.get("/desk/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_a_forms_refusal_reads_in_the_readers_language(app, client, auth):
    """The services refuse in English templates with their words apart; a French page words each field's."""
    from sqlalchemy import select

    from scheduler.models import User
    from tests.web.test_french_pages import visible_text
    from web.extensions import db

    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    auth.login("admin")
    bad = auth.form("/admin/users", {"username": "X!", "name": "Paul", "role": "reception", "garage": "",
                                     "password": "court"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Rien n’a été enregistré" in page
    assert "Un identifiant fait de 2 à 60 caractères" in page
    assert "Le rôle accueil est rattaché à un garage" in page  # the role's word in French too
    assert "Le mot de passe doit comporter au moins 8 caractères." in page
    made = auth.form("/admin/users", {"username": "paul", "name": "Paul", "role": "reception", "garage": "lyon-07",
                                      "password": "assez-long-1"})
    assert made.status_code == 302
    trail = visible_text(client.get("/admin/audit").get_data(as_text=True))
    assert "utilisateur" in trail and "créé" in trail and "rôle : | — → | accueil" in trail  # words, not codes
    with app.app_context():
        me = db.session.scalar(select(User.id).where(User.username == "admin"))
    last = auth.form(f"/admin/users/{me}", {"name": "Admin", "role": "planner", "garage": "", "active": "yes"})
    assert last.status_code == 409 and "C’est le dernier administrateur actif" in last.get_data(as_text=True)
    page = client.get("/account/password").get_data(as_text=True)
    wrong = client.post("/account/password", data={"csrf_token": csrf_from(page), "current_password": "nope",
                                                    "new_password": "un-autre-secret"})
    assert wrong.status_code == 400 and "Ce n’est pas votre mot de passe actuel." in wrong.get_data(as_text=True)


def test_a_rules_notice_reads_in_hours_not_in_a_count_of_minutes(app):
    """"délai de prévenance de 24 h", not "1440 min": the planner and the operator read it at a glance."""
    from web.late_reasons import reason_text

    reason = {"code": "min_notice", "minutes": 1440, "free_at": "2026-11-24T12:30:00+00:00"}
    with app.test_request_context(headers={"Accept-Language": "fr-FR,fr;q=0.9"}):
        text = reason_text(reason, {})
    assert text.startswith("délai de prévenance de 24 h (libre le ") and "1440" not in text
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert reason_text({**reason, "minutes": 90}, {}).startswith("minimum notice of 1 h 30 (free at ")


def test_a_reason_kept_without_its_time_or_garage_is_said_without_them(app):
    """Older overrides kept only the optimizer's note: their reasons have no time or garage to show, and the
    page must not put a "?" where they would be."""
    from scheduler.models.override import reasons_from_note
    from web.late_reasons import reason_text

    notes = ["minimum notice of 1440 min", "only the first 1 garage(s) are looked at", "every lift is taken",
             "the customer needs time to drive there"]
    for locale in ("fr-FR", "en"):
        with app.test_request_context(headers={"Accept-Language": locale}):
            said = [reason_text(r, {}) for note in notes for r in reasons_from_note(note)]
        assert len(said) == len(notes) and not [s for s in said if "?" in s or "None" in s], said
    with app.test_request_context(headers={"Accept-Language": "fr-FR"}):
        assert reason_text(reasons_from_note("only the first 1 garage(s) are looked at")[0], {}) == \
            "seul le garage le plus proche est regardé"


def test_a_span_of_whole_days_reads_without_a_decimal(app):
    from web.filters import minutes_label

    with app.test_request_context(headers={"Accept-Language": "fr-FR"}):
        assert (minutes_label(14 * 1440), minutes_label(round(3.8 * 1440)), minutes_label(125)) == \
            ("14 j", "3,8 j", "2 h 05")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert minutes_label(14 * 1440) == "14 d"


def test_the_desk_says_a_span_in_days_and_hours_not_a_decimal_of_days(app):
    """Reception read "2,8 j plus tôt que les règles standard" on a squeeze's preview."""
    from web.filters import span_label

    with app.test_request_context(headers={"Accept-Language": "fr-FR"}):
        assert (span_label(4032), span_label(2 * 1440), span_label(125), span_label(-1500)) == \
            ("2 j 19 h", "2 j", "2 h 05", "-1 j 1 h")


def test_an_api_refusal_reads_in_french_down_to_each_field_and_the_csrf_reason(app, client, auth):
    auth.login("admin")
    french = {"Accept-Language": "fr"}
    refused = client.patch("/api/v1/garages/lyon-07", json={"lifts": -1, "phone": "call me"},
                           headers={**auth.headers(), **french})
    fields = refused.get_json()["error"]["details"]["fields"]
    assert refused.status_code == 400 and set(fields) == {"lifts", "phone"}
    assert "nombre entier" in fields["lifts"] and "téléphone" in fields["phone"].lower(), fields
    no_token = client.patch("/api/v1/garages/lyon-07", json={"lifts": 3}, headers=french)
    assert no_token.get_json()["error"]["message"].startswith("Le jeton CSRF manque"), no_token.get_json()
    auth.login("reception-lyon-07")
    status = client.get("/api/v1/outbox?status=lost", headers=french).get_json()["error"]
    assert status["message"].startswith("status doit être l’un de"), status
    answer = client.post("/api/v1/direct-line/1/answer", json={"accept": "yes"}, headers={**auth.headers(), **french})
    assert answer.status_code in (400, 403, 404) and "must" not in answer.get_json()["error"]["message"], answer.get_json()
    auth.login("operator")
    unknown = client.get("/api/v1/vehicles/ZZ-999-ZZ", headers=french).get_json()["error"]["message"]
    assert unknown.startswith("Aucun véhicule immatriculé"), unknown


def test_french_elides_de_before_a_garage_s_name_on_pages_and_in_refusals(app, client, auth):
    """"En attente de Écully", "tous les ponts de Écully": French says d’Écully. A person's name stays as typed."""
    from web.i18n import elided

    names = ["Écully", "Oullins", "Bron Parilly"].copy
    assert elided("tous les ponts de Écully sont pris, plus tôt que Oullins", names) == \
        "tous les ponts d’Écully sont pris, plus tôt qu’Oullins"
    assert elided("Manuel de Oliveira, garde Écully, de Écullyville, de Bron Parilly", names) == \
        "Manuel de Oliveira, garde Écully, de Écullyville, de Bron Parilly"
    auth.login("operator")
    case = auth.post("/api/v1/cases", json={
        "customer": {"name": "Manuel de Oliveira", "phone": "+33 6 10 20 30 40"},
        "vehicle": {"plate": "EL-123-DE", "model": "Clio"}, "symptom": "engine_fault_stop",
        "location": {"lat": 45.77, "lon": 4.78}}).get_json()
    assert auth.post(f"/api/v1/cases/{case['id']}/direct-line",
                     json={"garage": "ecully", "message": "Aujourd’hui ?"}).status_code == 201
    page = client.get(f"/desk/cases/{case['id']}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "En attente d’Écully" in page and "de Écully" not in page
    assert "Manuel de Oliveira" in page
