"""The admin desk's people: add, change, deactivate (sessions and tokens end at once), reset, one's own
password, the last admin kept; every change in the audit trail; only an admin may do any of it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from scheduler.models import AuditEntry, User
from tests.conftest import PASSWORD
from tests.web.pages import csrf_from
from web.extensions import db

NEW = {"username": "camille.r", "name": "Camille Roux", "role": "reception", "garage": "lyon-07",
       "password": "first-one-123"}


def _id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def _trail(app, entity_id) -> list[tuple[str, dict]]:
    with app.app_context():
        return [(e.action, e.changes) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity == "user", AuditEntry.entity_id == str(entity_id))
            .order_by(AuditEntry.id))]


def test_an_admin_adds_a_user_who_must_choose_their_own_password_before_any_page(app, client, auth):
    auth.login("admin")
    made = auth.post("/api/v1/users", json=NEW)
    assert made.status_code == 201, made.get_json()
    body = made.get_json()
    assert body["role"] == "reception" and body["garage"] == "lyon-07" and body["must_change_password"] is True
    assert any(u["username"] == "camille.r" for u in client.get("/api/v1/users").get_json())
    ((action, changes),) = _trail(app, body["id"])
    assert action == "created" and changes["role"] == [None, "reception"] and changes["password"] == [None, "(secret)"]
    assert "first-one-123" not in str(changes)

    auth.login("camille.r", "first-one-123")
    assert client.get("/garages/lyon-07/board").status_code == 302  # to the password page, first
    # the API takes the password the admin gave (its contract: a user created is a user who can act); the
    # session read says it is still to change
    assert client.get("/api/v1/garages/lyon-07/board").status_code == 200
    assert client.get("/api/v1/session").get_json()["must_change_password"] is True
    # but no token on it: a token would outlive the admin's password, and the change would be for show
    refused = auth.post("/api/v1/tokens")
    assert refused.status_code == 403 and "your own password first" in refused.get_json()["error"]["message"]
    short = auth.post("/api/v1/account/password", json={"current_password": "first-one-123", "new_password": "x"})
    assert short.status_code == 400 and "new_password" in short.get_json()["error"]["details"]["fields"]
    done = auth.post("/api/v1/account/password",
                     json={"current_password": "first-one-123", "new_password": "my-own-secret"})
    assert done.status_code == 200 and done.get_json()["must_change_password"] is False
    assert client.get("/garages/lyon-07/board").status_code == 200


@pytest.mark.parametrize("change, field", [
    ({"role": "reception"}, "garage"),  # garage-bound without a garage
    ({"role": "planner", "garage": "lyon-07"}, "garage"),  # network-wide with one
    ({"role": "boss"}, "role"),
    ({"garage": "atlantis", "role": "workshop"}, "garage"),
    ({"password": "short"}, "password"),
    ({"username": "Admin"}, "username"),
    ({"username": "admin"}, "username"),  # taken: a conflict with what is stored (API.md: 409)
    ({"username": "admin", "password": "short"}, "password"),  # taken, and a bad field beside it: 400, both said
    ({"password": "        "}, "password"),  # eight spaces are no password
    ({"name": "Camille\nRoux"}, "name"), ({"name": "Camille\tRoux"}, "name"),  # one line, as every list shows it
    ({"actve": False}, "actve"),  # a misspelt field is said, not dropped
    ({"active": "no"}, "active"),
])
def test_a_bad_user_is_refused_field_by_field_and_nothing_is_saved(app, auth, change, field):
    auth.login("admin")
    body = {**NEW, **change}
    if change.get("role") == "reception" and "garage" not in change:
        body.pop("garage")
    refused = auth.post("/api/v1/users", json=body)
    taken_only = change == {"username": "admin"}
    assert refused.status_code == (409 if taken_only else 400), refused.get_json()
    assert refused.get_json()["error"]["code"] == ("conflict" if taken_only else "bad_request")
    assert field in refused.get_json()["error"]["details"]["fields"]
    if body["username"] == "admin":
        assert "username" in refused.get_json()["error"]["details"]["fields"], "the taken name is said too"
    admin = _id(app, "admin")
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.username == body["username"])) in (None, admin)
        assert db.session.scalar(select(AuditEntry.id)) is None


def test_deactivation_ends_the_users_sessions_and_tokens_at_once(app, client, auth):
    target = app.test_client()
    assert target.post("/api/v1/session", json={"username": "operator", "password": PASSWORD}).status_code == 200
    assert target.get("/desk/").status_code == 200
    token = target.post("/api/v1/tokens", headers={"X-CSRFToken": target.get("/api/v1/session").get_json()["csrf_token"]})
    secret = token.get_json()["token"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/session", headers=bearer).status_code == 200

    auth.login("admin")
    gone = auth.client.patch(f"/api/v1/users/{_id(app, 'operator')}", json={"active": False}, headers=auth.headers())
    assert gone.status_code == 200 and gone.get_json()["active"] is False
    assert target.get("/desk/").status_code == 302  # the open session ends: back to the login page
    assert target.get("/api/v1/session").status_code == 401
    assert app.test_client().get("/api/v1/session", headers=bearer).status_code == 401
    assert app.test_client().post("/api/v1/session", json={"username": "operator", "password": PASSWORD}).status_code == 401
    ((action, changes),) = _trail(app, _id(app, "operator"))
    assert action == "deactivated" and changes == {"active": [True, False]}

    back = auth.client.patch(f"/api/v1/users/{_id(app, 'operator')}", json={"active": True}, headers=auth.headers())
    assert back.status_code == 200
    assert app.test_client().get("/api/v1/session", headers=bearer).status_code == 401  # revoked, not just paused


def test_the_last_active_admin_can_be_neither_deactivated_nor_demoted(app, client, auth):
    auth.login("admin")
    me = _id(app, "admin")
    for change in ({"active": False}, {"role": "planner"}):
        refused = auth.client.patch(f"/api/v1/users/{me}", json=change, headers=auth.headers())
        assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "last_admin"
        assert refused.get_json()["error"]["details"]["field"] == next(iter(change))  # the field that was refused
    page = auth.form(f"/admin/users/{me}", {"name": "Admin", "role": "planner", "garage": "", "active": "yes"})
    assert page.status_code == 409 and "last active admin" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, me).role == "admin" and db.session.get(User, me).active
    # with a second admin, the first may step down
    second = auth.post("/api/v1/users", json={**NEW, "username": "admin2", "role": "admin", "garage": None})
    assert second.status_code == 201
    assert auth.client.patch(f"/api/v1/users/{me}", json={"role": "planner"}, headers=auth.headers()).status_code == 200
    # that ended the session (a role change does): the second admin is now the last
    auth.login("admin2", "first-one-123")
    auth.post("/api/v1/account/password", json={"current_password": "first-one-123", "new_password": "second-admin"})
    mine = _id(app, "admin2")
    assert auth.client.patch(f"/api/v1/users/{mine}", json={"active": False},
                             headers=auth.headers()).get_json()["error"]["code"] == "last_admin"


def test_an_admin_cannot_deactivate_their_own_account_even_with_another_admin(app, client, auth):
    auth.login("admin")
    me = _id(app, "admin")
    assert auth.post("/api/v1/users", json={**NEW, "username": "admin2", "role": "admin", "garage": None}).status_code == 201
    refused = auth.client.patch(f"/api/v1/users/{me}", json={"active": False}, headers=auth.headers())
    assert refused.status_code == 422 and refused.get_json()["error"]["details"]["field"] == "active"
    page = auth.form(f"/admin/users/{me}", {"name": "Admin", "role": "admin", "garage": ""})  # "active" unticked
    assert page.status_code == 400 and "deactivate your own account" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, me).active
    assert auth.client.get("/admin/users").status_code == 200, "still logged in"


def test_a_user_added_inactive_is_inactive(app, client, auth):
    auth.login("admin")
    added = auth.post("/api/v1/users", json={**NEW, "active": False})
    assert added.status_code == 201 and added.get_json()["active"] is False
    assert app.test_client().post("/api/v1/session", json={"username": NEW["username"],
                                                           "password": NEW["password"]}).status_code == 401


def test_a_reset_password_must_be_changed_and_ends_the_old_sessions(app, client, auth):
    target = app.test_client()
    target.post("/api/v1/session", json={"username": "planner", "password": PASSWORD})
    token = target.post("/api/v1/tokens", headers={"X-CSRFToken": target.get("/api/v1/session").get_json()["csrf_token"]})
    bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    assert app.test_client().get("/api/v1/session", headers=bearer).status_code == 200
    auth.login("admin")
    reset = auth.client.patch(f"/api/v1/users/{_id(app, 'planner')}", json={"password": "temporary-99"},
                              headers=auth.headers())
    assert reset.status_code == 200 and reset.get_json()["must_change_password"] is True
    assert target.get("/api/v1/session").status_code == 401
    # a reset is what an admin does when a password may have leaked: a token made with it ends too
    assert app.test_client().get("/api/v1/session", headers=bearer).status_code == 401
    assert _trail(app, _id(app, "planner"))[-1] == ("password_reset", {"password": ["(secret)", "(secret)"]})
    assert app.test_client().post("/api/v1/session", json={"username": "planner", "password": PASSWORD}).status_code == 401


def test_changing_ones_own_password_ends_ones_other_sessions(app, client, auth):
    other = app.test_client()
    other.post("/api/v1/session", json={"username": "reception-lyon-07", "password": PASSWORD})
    auth.login("reception-lyon-07")
    page = client.get("/account/password")
    wrong = client.post("/account/password", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                    "current_password": "nope", "new_password": "another-secret"})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    done = client.post("/account/password", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                   "current_password": PASSWORD, "new_password": "another-secret"})
    assert done.status_code == 302
    assert client.get("/garages/lyon-07/board").status_code == 200  # this session goes on
    assert other.get("/api/v1/session").status_code == 401  # the other one ended


def _bearer(app, username: str, password: str = PASSWORD) -> dict:
    maker = app.test_client()
    maker.post("/api/v1/session", json={"username": username, "password": password})
    made = maker.post("/api/v1/tokens", headers={"X-CSRFToken": maker.get("/api/v1/session").get_json()["csrf_token"]})
    return {"Authorization": f"Bearer {made.get_json()['token']}"}


def test_changing_ones_own_password_ends_the_api_tokens_made_with_the_old_one(app, client, auth):
    leaked = _bearer(app, "reception-lyon-07")
    assert app.test_client().get("/api/v1/session", headers=leaked).status_code == 200
    auth.login("reception-lyon-07")
    page = client.get("/account/password")
    assert "API tokens end when you change it" in page.get_data(as_text=True)
    client.post("/account/password", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                           "current_password": PASSWORD, "new_password": "another-secret"})
    assert app.test_client().get("/api/v1/session", headers=leaked).status_code == 401
    assert client.get("/garages/lyon-07/board").status_code == 200
    assert _trail(app, _id(app, "reception-lyon-07"))[-1] == (
        "password_changed", {"password": ["(secret)", "(secret)"], "other_sessions_ended": [None, 2]})


def test_a_password_changed_through_a_token_keeps_that_token_and_ends_the_others(app):
    used, other = _bearer(app, "planner"), _bearer(app, "planner")
    changed = app.test_client().post("/api/v1/account/password", headers=used,
                                     json={"current_password": PASSWORD, "new_password": "another-secret"})
    assert changed.status_code == 200
    assert app.test_client().get("/api/v1/session", headers=used).status_code == 200
    assert app.test_client().get("/api/v1/session", headers=other).status_code == 401


def test_users_through_the_pages(app, client, auth):
    auth.login("admin")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "reception-lyon-07" in page.get_data(as_text=True)
    bad = auth.form("/admin/users", {**NEW, "username": "", "password": "x"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "A username is 2 to 60 characters" in text and "at least 8 characters" in text
    made = auth.form("/admin/users", NEW)
    assert made.status_code == 302
    new_id = _id(app, "camille.r")
    # refused (an operator has no garage): the form comes back as typed, so the fix is one field away
    refused = auth.form(f"/admin/users/{new_id}", {"name": "Camille R.", "role": "operator", "garage": "givors",
                                                  "active": "yes"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'value="Camille R."' in text
    assert re.search(r'<option value="operator"\s+selected', text), "the role typed, not the one saved"
    moved = auth.form(f"/admin/users/{new_id}", {"name": "Camille Roux", "role": "workshop", "garage": "givors",
                                                "active": "yes"})
    assert moved.status_code == 302
    page = client.get(f"/admin/users/{new_id}").get_data(as_text=True)
    # the header and the trail name garages as every page does, not by their ids
    assert "<small>camille.r · workshop · Givors" in page
    assert "Lyon 7e Gerland → Givors" in page.replace("<strong>", "").replace("</strong>", "")
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert "user <b>camille.r</b>" in audit, "a user is named by their username, not their id"
    assert [e["action"] for e in client.get(f"/api/v1/audit?entity=user&entity_id={new_id}").get_json()] == \
        ["changed", "created"]


@pytest.mark.parametrize("username", ["operator", "reception-lyon-07", "workshop-lyon-07", "planner"])
def test_only_an_admin_may(app, client, auth, username):
    auth.login(username)
    admin_id = _id(app, "admin")
    assert client.get("/api/v1/users").status_code == 403
    assert auth.post("/api/v1/users", json=NEW).status_code == 403
    assert auth.client.patch(f"/api/v1/users/{admin_id}", json={"active": False},
                             headers=auth.headers()).status_code == 403
    assert client.get("/api/v1/audit").status_code == 403
    for path in ("/admin/users", f"/admin/users/{admin_id}", "/admin/audit"):
        assert client.get(path).status_code == 403
    assert auth.form("/admin/users", NEW).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.username == "camille.r")) is None


def test_deactivate_and_reset_through_the_page(app, client, auth):
    target = app.test_client()
    assert target.post("/api/v1/session", json={"username": "workshop-lyon-07", "password": PASSWORD}).status_code == 200
    auth.login("admin")
    user_id = _id(app, "workshop-lyon-07")
    form = {"name": "Workshop Lyon 7e Gerland", "role": "workshop", "garage": "lyon-07"}
    reset = auth.form(f"/admin/users/{user_id}", {**form, "active": "yes", "password": "short"})
    assert reset.status_code == 400 and 'id="e-password"' in reset.get_data(as_text=True)
    assert target.get("/api/v1/session").status_code == 200, "a refused form changes nothing"
    off = auth.form(f"/admin/users/{user_id}", form)  # "active" unticked
    assert off.status_code == 302
    assert target.get("/garages/lyon-07/jobs").status_code == 302
    page = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert "deactivated" in page


def test_the_users_list_names_each_person_s_garage(client, auth):
    auth.login("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    row = page.split(">reception-lyon-07</a>", 1)[1].split("</tr>", 1)[0]
    assert "<td>Lyon 7e Gerland</td>" in row and "<td>lyon-07</td>" not in row


def test_the_audit_trails_limit_is_a_count_of_entries(app, client, auth):
    auth.login("admin")
    for name in ("a.one", "a.two"):
        assert auth.post("/api/v1/users", json={**NEW, "username": name}).status_code == 201
    assert len(client.get("/api/v1/audit").get_json()) == 2
    assert len(client.get("/api/v1/audit?limit=1").get_json()) == 1
    assert len(client.get("/api/v1/audit?limit=1000").get_json()) == 2
    for limit in ("-1", "0", "abc", "1.5", "5000"):  # at most 1000 a page, as the paged lists refuse beyond theirs  # SQLite reads LIMIT -1 as no limit at all
        refused = client.get(f"/api/v1/audit?limit={limit}")
        assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == "limit", limit
