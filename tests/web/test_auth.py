"""Logging in, landing on one's home page, logging out; sessions die server-side at logout."""

from __future__ import annotations

import re

import pytest

from tests.web.pages import csrf_from

HOMES = {
    "operator": ("/desk/", "Call-centre desk"),
    "reception-lyon-07": ("/garages/lyon-07/board", "Lyon 7e Gerland"),
    "workshop-lyon-07": ("/garages/lyon-07/jobs", "Job list"),
    "reception-venissieux": ("/garages/venissieux/board", "Vénissieux"),
    "workshop-venissieux": ("/garages/venissieux/jobs", "Job list"),
    "planner": ("/planner/", "Did people beat the rules?"),
    "admin": ("/admin/", "Administration"),
}


def page_login(client, username, password="frontline-demo"):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


@pytest.mark.parametrize("username", sorted(HOMES))
def test_each_role_lands_on_its_home_page_and_logs_out(client, username):
    path, heading = HOMES[username]
    response = page_login(client, username)
    assert response.status_code == 302
    assert response.headers["Location"] == path
    home = client.get(path)
    assert home.status_code == 200
    assert heading in home.get_data(as_text=True)
    token = csrf_from(home.get_data(as_text=True))
    out = client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 302 and out.headers["Location"].endswith("/login"), out.get_data(as_text=True).split("<main>")[1][:600]
    again = client.get(path)
    assert again.status_code == 302 and "/login" in again.headers["Location"]


@pytest.mark.parametrize("username", sorted(HOMES))
def test_every_link_of_the_main_menu_opens_for_the_one_who_sees_it(client, username):
    page_login(client, username)
    home = client.get(HOMES[username][0]).get_data(as_text=True)
    menu = home.split('class="mainnav"', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'href="([^"]+)"', menu)
    assert links, "every role has a desk to go to"
    for link in links:
        assert client.get(link).status_code == 200, link


def test_wrong_password_is_refused_with_a_message(client):
    response = page_login(client, "operator", "nope-nope")
    assert response.status_code == 401
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_login_form_without_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "operator", "password": "frontline-demo"})
    assert response.status_code in (400, 401) and "/desk" not in response.headers.get("Location", "")


def test_a_session_cookie_replayed_after_logout_is_rejected(app, client, auth):
    auth.login("operator")
    stolen = client.get_cookie("session").value
    assert client.get("/desk/").status_code == 200
    assert client.delete("/api/v1/session", headers=auth.headers()).status_code == 204
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/api/v1/session").status_code == 401
    assert replay.get("/desk/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_next_parameter_never_redirects_off_site(client, target):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", query_string={"next": target},
                           data={"username": "operator", "password": "frontline-demo", "csrf_token": token})
    assert response.headers["Location"] == "/desk/"
    token = csrf_from(client.get("/desk/").get_data(as_text=True))  # logging in renewed the session
    switched = client.post("/lang/fr", data={"next": target, "csrf_token": token})
    assert switched.headers["Location"] == "/"


def test_passwords_are_hashed_with_explicit_argon2id_parameters(app):
    from sqlalchemy import select

    from scheduler.models import User
    from web.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "operator"))
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert "frontline-demo" not in user.password_hash
