"""English and French: by the user's setting, the header switch, or the browser."""

from __future__ import annotations

from tests.web.pages import csrf_from


def test_the_browser_language_is_used_before_login(client):
    page = client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}).get_data(as_text=True)
    assert "Se connecter à Frontline" in page
    assert "Log in to Frontline" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)


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
