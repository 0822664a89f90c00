"""The first API endpoints: session, garages, symptoms, the OpenAPI document, the error format."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD


def test_login_returns_user_role_garage_and_csrf_token(client):
    response = client.post("/api/v1/session", json={"username": "reception-lyon-07", "password": "frontline-demo"})
    body = response.get_json()
    assert response.status_code == 200
    assert (body["user"], body["role"], body["garage"]) == ("reception-lyon-07", "reception", "lyon-07")
    assert body["csrf_token"]
    assert client.get("/api/v1/session").get_json()["user"] == "reception-lyon-07"


@pytest.mark.parametrize("payload, status, code", [
    ({"username": "operator", "password": "wrong-password"}, 401, "bad_credentials"),
    ({"username": "operator"}, 400, "bad_request"),
    ({"username": 3, "password": []}, 400, "bad_request"),
])
def test_bad_logins_get_a_clear_error(client, payload, status, code):
    response = client.post("/api/v1/session", json=payload)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert response.get_json()["error"]["message"]


def test_a_wrong_password_is_told_in_the_reader_s_language(client):
    said = client.post("/api/v1/session", json={"username": "operator", "password": "nope"},
                       headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert said.status_code == 401 and said.get_json()["error"]["message"] == "Identifiant ou mot de passe incorrect."


def test_non_json_body_is_a_400_not_a_500(client):
    response = client.post("/api/v1/session", data="username=operator", content_type="text/plain")
    assert response.status_code == 400
    assert "JSON" in response.get_json()["error"]["message"]


def test_without_a_session_the_api_answers_401_in_the_error_format(client):
    for path in ("/api/v1/session", "/api/v1/garages", "/api/v1/symptoms"):
        response = client.get(path)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "not_logged_in"


def test_cookie_writes_need_the_csrf_header_and_logout_revokes(client, auth):
    auth.login("operator")
    refused = client.delete("/api/v1/session")
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    assert refused.get_json()["error"]["message"] == \
        "The CSRF token is missing: send the csrf_token from GET /api/v1/session in the X-CSRFToken header."
    assert client.get("/api/v1/session").status_code == 200  # still logged in
    assert client.delete("/api/v1/session", headers=auth.headers()).status_code == 204
    assert client.get("/api/v1/session").status_code == 401


def test_bearer_tokens_need_no_cookie_and_no_csrf(app):
    from scheduler.services import accounts
    from web.extensions import db

    with app.app_context():
        token = accounts.create_token(db.session, "planner")
        db.session.commit()
    bare = app.test_client()
    me = bare.get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["role"] == "planner"
    assert bare.get("/api/v1/garages", headers={"Authorization": "Bearer fl_not-a-token"}).status_code == 401
    # a client that keeps its cookies (the CSRF token the session read and the login page set) still acts
    # with its token, and writes need no CSRF header
    bearer = {"Authorization": f"Bearer {token}"}
    jar = app.test_client()
    assert jar.get("/login").status_code == 200 and jar.get("/api/v1/session", headers=bearer).status_code == 200
    assert jar.get_cookie("session") is not None
    assert jar.get("/api/v1/symptoms", headers=bearer).status_code == 200
    assert jar.post("/api/v1/policy", json={"offers": 4}, headers=bearer).status_code == 201
    assert jar.get("/api/v1/symptoms", headers={"Authorization": "Bearer fl_not-a-token"}).status_code == 401


def test_the_bearer_scheme_is_read_in_any_case_and_a_401_says_how_to_authenticate(app):
    from scheduler.services import accounts
    from web.extensions import db

    with app.app_context():
        token = accounts.create_token(db.session, "planner")
        db.session.commit()
    bare = app.test_client()
    for scheme in ("bearer", "BEARER", "Bearer"):
        me = bare.get("/api/v1/session", headers={"Authorization": f"{scheme} {token}"})
        assert me.status_code == 200 and me.get_json()["role"] == "planner", scheme
    refused = bare.get("/api/v1/garages")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert bare.get("/api/v1/garages", headers={"Authorization": "Basic cGxhbm5lcjp4"}).status_code == 401
    logged_in = app.test_client()
    logged_in.post("/api/v1/session", json={"username": "planner", "password": PASSWORD})
    for empty in ("Bearer ", "Bearer", "bearer   "):  # a token asked for that is none: not the cookie's user
        assert logged_in.get("/api/v1/session", headers={"Authorization": empty}).status_code == 401, empty
    assert logged_in.get("/api/v1/session").status_code == 200


def test_garages_and_symptoms(client, auth):
    auth.login("operator")
    garages = client.get("/api/v1/garages").get_json()
    assert len(garages) >= 12
    lyon7 = next(g for g in garages if g["id"] == "lyon-07")
    assert {"id", "name", "city", "location", "phone"} <= set(lyon7)
    assert lyon7["location"]["lat"] == pytest.approx(45.7335)
    symptoms = {s["code"]: s for s in client.get("/api/v1/symptoms").get_json()}
    engine = symptoms["engine_fault_stop"]
    assert engine["urgency"] == "P1" and engine["job_type"] == "fault_diagnosis"
    assert "nearest garage" in engine["label"]
    assert symptoms["brake_noise"]["urgency"] == "P2"
    assert symptoms["annual_service"]["urgency"] == "P3"
    french = client.get("/api/v1/symptoms", headers={"Accept-Language": "fr"}).get_json()
    assert any("garage le plus proche" in s["label"] for s in french)


def test_openapi_document_describes_the_endpoints(client):
    doc = client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/session", "/api/v1/garages", "/api/v1/symptoms"):
        assert path in doc["paths"]
    assert "Error" in doc["components"]["schemas"]


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
