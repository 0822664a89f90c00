"""Frontline's web app: `create_app` reads like a checklist."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from web.extensions import babel, csrf, db, login_manager, migrate

MIGRATIONS = str(Path(__file__).parent / "migrations")


LANGUAGES = ["en", "fr"]


def create_app(test_config: dict | None = None) -> Flask:
    # FRONTLINE_INSTANCE_PATH moves the instance folder (config, SQLite file, secret) elsewhere.
    app = Flask(__name__, instance_relative_config=True, instance_path=os.environ.get("FRONTLINE_INSTANCE_PATH"))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    language = os.environ.get("FRONTLINE_LANGUAGE", "fr")
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'frontline.sqlite'}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=0,
        WTF_CSRF_TIME_LIMIT=None,
        # The network's language, for a reader who has not chosen one and whose browser does not say (an API client):
        # this network is French.
        BABEL_DEFAULT_LOCALE=language if language in LANGUAGES else "fr",  # one it has no words for reads French
        LANGUAGES=list(LANGUAGES),
        NETWORK_TIMEZONE="Europe/Paris",
        JSON_SORT_KEYS=False,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        if os.environ.get("FRONTLINE_DATABASE_URL"):
            app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["FRONTLINE_DATABASE_URL"]
        # REDIS_URL: replays run on RQ workers (web/jobs.py), login limits are shared
        for name in ("SMTP_URL", "MAIL_FROM", "OUTBOX_SEND_AFTER_COMMIT", "REDIS_URL", "BASE_URL"):
            if os.environ.get(f"FRONTLINE_{name}"):
                app.config[name] = os.environ[f"FRONTLINE_{name}"]
        if os.environ.get("FRONTLINE_SECURE_COOKIES"):
            app.config["SECURE_COOKIES"] = os.environ["FRONTLINE_SECURE_COOKIES"] not in ("0", "false", "no")
        app.config["SECRET_KEY"] = os.environ.get("FRONTLINE_SECRET_KEY") or app.config.get("SECRET_KEY") \
            or _instance_secret(Path(app.instance_path))
    else:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = _driver(app.config["SQLALCHEMY_DATABASE_URI"])

    from scheduler.services import outbox

    # The address customers' links point to (the confirmation's feedback link).
    outbox.configure_links(app.config.get("BASE_URL", "http://127.0.0.1:5000"), app.config["SECRET_KEY"])
    from web.i18n import translate_term

    outbox.configure_terms(translate_term)  # a customer's message names the job in the customer's language
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_helpers(app)
    return app


def _instance_secret(instance: Path) -> str:
    """A random secret made once per instance folder: never a hard-coded one."""
    path = instance / "secret_key"
    if not path.exists():
        # made owner-only from the start: never readable by others, not even for an instant
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_hex(32))
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)  # an older instance folder's secret, made before this rule
    return path.read_text().strip()


def _driver(url: str) -> str:
    # psycopg 3 is the PostgreSQL driver; plain postgresql:// URLs would ask for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def register_extensions(app: Flask) -> None:
    from scheduler.db import harden_sqlite
    from web import auth, inputs, security, transaction
    from web.i18n import select_locale

    transaction.register(app)  # first: the request's read or write intent is known before anything queries
    inputs.register(app)
    security.register(app)
    db.init_app(app)
    with app.app_context():
        harden_sqlite(db.engine, app.config.get("SQLITE_BUSY_TIMEOUT_MS", 5000))
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    auth.init_login(app, login_manager)


class RowId(IntegerConverter):
    """An id in a path fits the databases' integer columns: a longer number is a 404, not an overflow."""

    def __init__(self, url_map, **kwargs):
        super().__init__(url_map, **{"max": 2**31 - 1, **kwargs})


def register_blueprints(app: Flask) -> None:
    from web.admin.routes import bp as admin
    from web.api import bp as api
    from web.auth.routes import bp as auth
    from web.operator.routes import bp as operator
    from web.planner.routes import bp as planner
    from web.planner.routes import feedback_bp as feedback_page
    from web.reception.routes import bp as reception
    from web.workshop.routes import bp as workshop

    app.url_map.converters["int"] = RowId  # before the routes that use <int:...> are added
    for blueprint in (auth, operator, reception, workshop, planner, feedback_page, admin, api):
        app.register_blueprint(blueprint)
    csrf.exempt(api)  # the API checks CSRF itself, only for cookie-authenticated writes


def register_errorhandlers(app: Flask) -> None:
    from web.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from web.commands import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from web.filters import register
    from web.i18n import elide_french_page

    register(app)
    app.after_request(elide_french_page)
