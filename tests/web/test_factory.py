"""The application factory, its configuration, and the admin CLI."""

from __future__ import annotations

import os
import stat

from web import create_app


def test_default_config_uses_sqlite_in_the_instance_folder_and_a_generated_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("FRONTLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("FRONTLINE_SECRET_KEY", raising=False)
    monkeypatch.setenv("FRONTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'frontline.sqlite'}"
    secret_file = tmp_path / "instance" / "secret_key"
    assert app.config["SECRET_KEY"] == secret_file.read_text().strip()
    assert len(app.config["SECRET_KEY"]) >= 64
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]  # kept across restarts


def test_environment_overrides_and_postgres_urls_use_psycopg3(tmp_path, monkeypatch):
    monkeypatch.setenv("FRONTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("FRONTLINE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/frontline")
    monkeypatch.setenv("FRONTLINE_SECRET_KEY", "from-the-environment")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://postgres@127.0.0.1:5432/frontline"
    assert app.config["SECRET_KEY"] == "from-the-environment"


def test_test_config_replaces_the_instance_config(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.testing and app.config["SECRET_KEY"] == "t"


def test_user_and_token_commands(app):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["user", "create", "newop", "--role", "operator", "--password", "long-enough-1"])
    assert made.exit_code == 0, made.output
    token = runner.invoke(args=["token", "create", "newop"]).output.strip()
    assert token.startswith("fl_")
    me = app.test_client().get("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert me.get_json()["user"] == "newop"
    for args, message in [
        (["user", "create", "x1", "--role", "reception", "--password", "long-enough-1"], "belongs to a garage"),
        (["user", "create", "x2", "--role", "reception", "--garage", "mars", "--password", "long-enough-1"], "No garage"),
        (["user", "create", "newop", "--role", "operator", "--password", "long-enough-1"], "is taken"),
        (["user", "create", "x3", "--role", "operator", "--password", "short"], "at least 8"),
        (["token", "create", "ghost"], "No user"),
    ]:
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and message in result.output, (args, result.output)


def test_the_command_line_issues_no_token_on_a_password_an_admin_chose_and_dates_it_by_the_apps_clock(app, auth):
    """A probe: the admin desk's new user got a working token from `flask token create` before choosing their own
    password (the API refuses that: the README says no token is issued before it), and it was dated by the wall
    clock where everything else reads the app's."""
    from tests.conftest import CLOCK_NOW

    auth.login("admin")
    made = auth.post("/api/v1/users", json={"username": "camille", "name": "Camille Roux", "role": "operator",
                                            "password": "first-one-123"})
    assert made.status_code == 201, made.get_json()
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["token", "create", "camille"])
    assert refused.exit_code != 0 and "Choose your own password first" in refused.output, refused.output
    issued = runner.invoke(args=["token", "create", "planner"])
    assert issued.exit_code == 0 and issued.output.strip().startswith("fl_")
    listed = auth.client.get("/api/v1/tokens", headers=auth.headers()).get_json()
    assert {t["created_at"] for t in listed if t["user"] == "planner"} == {CLOCK_NOW.isoformat()}


def test_user_create_prompts_for_the_password(app):
    result = app.test_cli_runner().invoke(args=["user", "create", "prompted", "--role", "planner"],
                                          input="a-good-password\na-good-password\n")
    assert result.exit_code == 0, result.output
    assert app.test_client().post("/api/v1/session", json={"username": "prompted",
                                                            "password": "a-good-password"}).status_code == 200


def test_the_vendored_icon_answers_favicon_ico_and_every_page_links_it(client, auth):
    icon = client.get("/favicon.ico")  # asked before anyone logs in, and by tools that read no page
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.data.startswith(b"<svg") and b"http://www.w3.org/2000/svg" in icon.data and b"href" not in icon.data
    login = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in login
    assert client.get("/static/favicon.svg").data == icon.data
    auth.login("reception-lyon-07")
    assert 'rel="icon"' in client.get("/garages/lyon-07/board").get_data(as_text=True)
