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


def test_logging_in_successfully_never_counts_against_the_limit(client):
    # a desk (or a script) that logs in again and again with the right password is never locked out
    answers = {client.post("/api/v1/session", json={"username": "operator", "password": "frontline-demo"}).status_code
               for _ in range(12)}
    assert answers == {200}
    for i in range(9):
        assert client.post("/api/v1/session", json={"username": "operator", "password": f"typo-{i}"}).status_code == 401
    assert client.post("/api/v1/session", json={"username": "operator", "password": "frontline-demo"}).status_code == 200


def test_passwords_are_argon2id_and_older_hashes_are_upgraded_at_login(app, client):
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from scheduler.models import User
    from web.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "planner"))
        assert user.password_hash.startswith("$argon2id$") and "m=19456,t=2,p=1" in user.password_hash
        user.password_hash = generate_password_hash("frontline-demo", method="scrypt:32768:8:1")  # as stored before
        db.session.commit()
    assert client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(User.password_hash).where(User.username == "planner")).startswith("$argon2id$")


def test_a_session_ends_after_its_idle_time_and_after_its_lifetime(app, client, auth):
    from datetime import timedelta

    from tests.conftest import CLOCK_NOW

    auth.login("operator")
    assert client.get("/desk/").status_code == 200
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(hours=3)
    assert client.get("/desk/").status_code == 200, "three hours of use: still in"
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(hours=7, minutes=30)
    assert client.get("/desk/").status_code == 302, "four and a half hours unused: the session ended"
    app.config["CLOCK"] = lambda: CLOCK_NOW
    auth.login("operator")
    for hours in range(1, 13, 3):  # used every three hours: never idle, yet over a working day
        app.config["CLOCK"] = lambda hours=hours: CLOCK_NOW + timedelta(hours=hours)
        assert client.get("/desk/").status_code == 200
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(hours=12, minutes=30)
    assert client.get("/desk/").status_code == 302, "past its twelve hours"


def test_api_tokens_are_listed_issued_and_revoked(app, client, auth):
    auth.login("operator")
    issued = auth.post("/api/v1/tokens")
    assert issued.status_code == 201
    token = issued.get_json()
    bearer = app.test_client()
    headers = {"Authorization": f"Bearer {token['token']}"}
    assert bearer.get("/api/v1/session", headers=headers).get_json()["user"] == "operator"
    listed = client.get("/api/v1/tokens").get_json()
    assert [t["id"] for t in listed] == [token["id"]] and "token" not in listed[0]
    auth.login("planner")
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=auth.headers()).status_code == 404, \
        "another user's token is not theirs to see"
    auth.login("operator")
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=auth.headers()).status_code == 204
    assert bearer.get("/api/v1/session", headers=headers).status_code == 401, "revoked: refused at once"


def test_the_secret_key_and_the_sqlite_file_are_readable_by_their_owner_only(tmp_path, monkeypatch):
    """Made owner-only, and an older instance folder's (readable by all) is put right at the next start."""
    import stat

    from web import create_app
    from web.extensions import db

    def mode(path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    instance = tmp_path / "instance"
    monkeypatch.setenv("FRONTLINE_INSTANCE_PATH", str(instance))
    monkeypatch.delenv("FRONTLINE_SECRET_KEY", raising=False)
    monkeypatch.delenv("FRONTLINE_DATABASE_URL", raising=False)
    import os

    umask = os.umask(0o022)  # files readable by all unless the app says otherwise
    try:
        app = create_app()
        with app.app_context():
            db.create_all()
            db.engine.dispose()
    finally:
        os.umask(umask)
    database, secret = instance / "frontline.sqlite", instance / "secret_key"
    assert mode(secret) == 0o600 and mode(database) == 0o600
    assert all(mode(p) == 0o600 for p in instance.glob("frontline.sqlite-*"))
    secret.chmod(0o644)
    database.chmod(0o644)
    again = create_app()
    with again.app_context():
        db.session.execute(db.text("SELECT 1"))
        db.session.remove()
        db.engine.dispose()
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"], "the same secret, kept"
    assert mode(secret) == 0o600 and mode(database) == 0o600
