"""What the browser is told to enforce, and the login's rate limits."""

from __future__ import annotations

import logging

from tests.conftest import make_app


def test_every_response_carries_the_security_headers(client, auth):
    for response in (client.get("/login"), client.get("/api/v1/symptoms"), client.get("/nowhere")):
        csp = response.headers["Content-Security-Policy"]
        script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_page_runs_inline_script(client, auth):
    auth.login("reception-lyon-07")
    for path in ("/garages/lyon-07/board", "/garages/lyon-07/jobs"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and " onclick=" not in page and " onchange=" not in page


def test_a_wrong_method_says_which_are_allowed(client):
    response = client.delete("/api/v1/symptoms")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_session_cookies_are_http_only_same_site_and_secure_outside_tests(app):
    production = make_app(app.config["SQLALCHEMY_DATABASE_URI"], TESTING=False)
    response = production.test_client().post("/api/v1/session",
                                             json={"username": "operator", "password": "frontline-demo"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_guessing_a_password_is_stopped_per_account_and_logged(app, client, caplog):
    caplog.set_level(logging.WARNING)
    answers = [client.post("/api/v1/session", json={"username": "planner", "password": f"guess-{i}"}).status_code
               for i in range(11)]
    assert answers[:10] == [401] * 10 and answers[10] == 429
    locked = client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"})
    assert locked.status_code == 429 and locked.headers["Retry-After"]
    assert locked.get_json()["error"]["code"] == "too_many_requests"
    assert any("rate limit" in r.message for r in caplog.records)
    other = client.post("/api/v1/session", json={"username": "operator", "password": "frontline-demo"})
    assert other.status_code == 200, "another account from the same address is not locked out"
    import re

    browser = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', browser.get("/login").get_data(as_text=True))
    page = browser.post("/login", data={"username": "planner", "password": "x", "csrf_token": token.group(1)})
    assert page.status_code == 429, "the login page and the API share the account's limit"
