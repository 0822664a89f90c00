"""The exact access matrix: every route of the app (pages and API) × every role × own garage / another garage.

The table below is the allowed set of DESIGN.md's roles and API.md's "who" column, one row per route
and method. A route the app serves that is not in the table fails `test_every_route_is_in_the_table`,
so a new route cannot ship without saying who may use it.

Allowed means the request got past the access checks (not 401/403, not sent to the login page);
forbidden means 401/403 with the API's error body, or the login page / a 403 page for pages.
Reads are GETs; writes carry deliberately invalid bodies or target things in a state that refuses
(an answered request, a rejected preview, a finished case), so a 4xx after the access check proves
access passed and nothing changes: the last test checks the database is as it was.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from tests.conftest import CLOCK_NOW, PASSWORD, make_app
from tests.web.pages import csrf_from
from web.extensions import db

OWN, OTHER = "givors", "ecully"  # both have answered direct-line requests in the seed
USERS = {"operator": "operator", "reception": f"reception-{OWN}", "workshop": f"workshop-{OWN}",
         "planner": "planner", "admin": "admin"}
ROLES = ("anonymous", *USERS)
LOGGED_IN = tuple(USERS)
PUBLIC = ROLES
GARAGE_ROLES = ("reception", "workshop")
PLANNERS = ("planner", "admin")


@dataclass(frozen=True)
class Rule:
    who: tuple[str, ...]
    path: str  # filled from the scope's objects: {garage}, {case}, {appointment}, {request}, {preview}, ...
    garage: bool = False  # bound to a garage: reception and workshop only for their own
    body: dict | None = None  # JSON for the API, form fields (with the CSRF token) for pages
    fresh_login: bool = False  # the request ends the session it is made with


def api(who, path, garage=False, body=None):
    return Rule(tuple(who), "/api/v1" + path, garage, body)


# (method, rule as in app.url_map) -> who may use it.
TABLE: dict[tuple[str, str], Rule] = {
    # -- public -----------------------------------------------------------------------------------
    ("GET", "/static/<path:filename>"): Rule(PUBLIC, "/static/frontline.css"),
    ("GET", "/favicon.ico"): Rule(PUBLIC, "/favicon.ico"),
    ("GET", "/login"): Rule(PUBLIC, "/login"),
    ("POST", "/login"): Rule(PUBLIC, "/login", body={"username": ""}),
    ("POST", "/lang/<code>"): Rule(PUBLIC, "/lang/xx"),
    ("GET", "/feedback/<token>"): Rule(PUBLIC, "/feedback/{feedback}"),
    ("POST", "/feedback/<token>"): Rule(PUBLIC, "/feedback/{feedback}", body={"booking": "x"}),
    ("GET", "/api/openapi.json"): Rule(PUBLIC, "/api/openapi.json"),
    ("POST", "/api/v1/session"): api(PUBLIC, "/session", body={}),
    ("GET", "/"): Rule(PUBLIC, "/"),  # sends each user to their desk, a visitor to the login page
    ("POST", "/logout"): Rule(LOGGED_IN, "/logout", body={}, fresh_login=True),
    ("GET", "/account/password"): Rule(LOGGED_IN, "/account/password"),
    ("POST", "/account/password"): Rule(LOGGED_IN, "/account/password",  # a wrong current password: nothing changes
                                        body={"current_password": "not the password", "new_password": ""}),
    # -- the API: anyone logged in ------------------------------------------------------------------
    ("GET", "/api/v1/session"): api(LOGGED_IN, "/session"),
    ("DELETE", "/api/v1/session"): api(LOGGED_IN, "/session"),
    ("GET", "/api/v1/symptoms"): api(LOGGED_IN, "/symptoms"),
    ("GET", "/api/v1/garages"): api(LOGGED_IN, "/garages"),
    ("GET", "/api/v1/job-types"): api(LOGGED_IN, "/job-types"),
    ("GET", "/api/v1/skills"): api(LOGGED_IN, "/skills"),
    ("GET", "/api/v1/stranded"): api(("operator", "admin"), "/stranded"),
    ("POST", "/api/v1/account/password"): api(LOGGED_IN, "/account/password",
                                              body={"current_password": "not the password", "new_password": ""}),
    ("GET", "/api/v1/policy"): api(LOGGED_IN, "/policy"),
    ("GET", "/api/v1/tokens"): api(LOGGED_IN, "/tokens"),
    ("POST", "/api/v1/tokens"): api(LOGGED_IN, "/tokens", body={}),
    ("DELETE", "/api/v1/tokens/<int:token_id>"): api(LOGGED_IN, "/tokens/{token}"),
    # -- cases: in scope ----------------------------------------------------------------------------
    ("POST", "/api/v1/cases"): api(("operator", "reception"), "/cases", body={}),
    ("GET", "/api/v1/cases"): api(("operator", "reception", "workshop"), "/cases?q=ZZ-999-ZZ"),
    ("GET", "/api/v1/customers"): api(("operator", "reception"), "/customers?phone=0100000000"),
    ("GET", "/api/v1/cases/<int:case_id>"): api(LOGGED_IN, "/cases/{case}", garage=True),
    ("GET", "/api/v1/cases/<int:case_id>/offers"): api(("operator", "reception"), "/cases/{case}/offers", True),
    ("POST", "/api/v1/cases/<int:case_id>/appointments"): api(("operator", "reception"),
                                                              "/cases/{case}/appointments", True, {}),
    ("POST", "/api/v1/cases/<int:case_id>/withdraw"): api(("operator", "reception"), "/cases/{case}/withdraw", True,
                                                          {}),
    ("POST", "/api/v1/cases/<int:case_id>/urgency"): api(("operator", "reception"), "/cases/{case}/urgency", True,
                                                         {"urgency": "P9"}),
    ("POST", "/api/v1/cases/<int:case_id>/direct-line"): api(("operator",), "/cases/{case}/direct-line", True, {}),
    ("POST", "/api/v1/cases/<int:case_id>/drive-in"): api(("operator",), "/cases/{case}/drive-in", True,
                                                          {"confirm": "maybe"}),
    ("POST", "/api/v1/cases/<int:case_id>/feedback"): api(LOGGED_IN, "/cases/{case}/feedback", True, {}),
    ("POST", "/api/v1/cases/<int:case_id>/squeeze"): api(("reception",), "/cases/{case}/squeeze", True, {}),
    ("GET", "/api/v1/vehicles/<plate>"): api(("operator", "reception"), "/vehicles/ZZ-999-ZZ"),
    # -- direct line ------------------------------------------------------------------------------------
    ("GET", "/api/v1/direct-line"): api(("operator", "reception", "workshop"), "/direct-line"),
    ("GET", "/api/v1/direct-line/<int:request_id>"): api(("operator", "reception", "workshop"),
                                                         "/direct-line/{request}", True),
    ("POST", "/api/v1/direct-line/<int:request_id>/answer"): api(("reception", "workshop"),
                                                                 "/direct-line/{request}/answer", True, {}),
    # -- the garage desk --------------------------------------------------------------------------------
    ("GET", "/api/v1/garages/<garage_id>/board"): api(LOGGED_IN, "/garages/{garage}/board", True),
    ("GET", "/api/v1/squeeze/<int:preview_id>"): api(("reception", "admin"), "/squeeze/{preview}", True),
    # a walk-in's squeeze-in is reception's to decide (API.md); an admin decides the re-plans of their own changes
    ("POST", "/api/v1/squeeze/<int:preview_id>/confirm"): api(("reception",), "/squeeze/{preview}/confirm",
                                                              True, {}),
    ("POST", "/api/v1/squeeze/<int:preview_id>/reject"): api(("reception",), "/squeeze/{preview}/reject",
                                                             True, {}),
    ("POST", "/api/v1/appointments/<int:appointment_id>/<action>"): api(
        GARAGE_ROLES, "/appointments/{appointment}/no-such-action", True, {}),
    ("GET", "/api/v1/appointments/<int:appointment_id>/calendar.ics"): api(
        LOGGED_IN, "/appointments/{appointment}/calendar.ics", True),
    ("POST", "/api/v1/drive-ins/<int:drive_in_id>/arrived"): api(GARAGE_ROLES, "/drive-ins/{drive_in}/arrived",
                                                                 True, {}),
    ("GET", "/api/v1/outbox"): api(("reception", "admin"), "/outbox"),
    ("GET", "/api/v1/outbox/<int:message_id>"): api(("reception", "workshop", "admin"), "/outbox/{message}", True),
    ("GET", "/api/v1/outbox/<int:message_id>/calendar.ics"): api(("reception", "workshop", "admin"),
                                                                 "/outbox/{message}/calendar.ics", True),
    ("POST", "/api/v1/outbox/<int:message_id>/phoned"): api(("reception", "admin"), "/outbox/{message}/phoned",
                                                            True, {}),
    ("POST", "/api/v1/garages/<garage_id>/replan"): api(("reception", "admin"), "/garages/{garage}/replan", True,
                                                        {"appointments": []}),
    # -- the planner ----------------------------------------------------------------------------------
    ("GET", "/api/v1/overrides"): api(PLANNERS, "/overrides"),
    ("GET", "/api/v1/stats/overrides"): api(PLANNERS, "/stats/overrides"),
    ("GET", "/api/v1/stats/summary"): api(PLANNERS, "/stats/summary"),
    ("GET", "/api/v1/stats/rules"): api(PLANNERS, "/stats/rules"),
    ("GET", "/api/v1/stats/feedback"): api(PLANNERS, "/stats/feedback"),
    ("GET", "/api/v1/policy/versions"): api(PLANNERS, "/policy/versions"),
    ("POST", "/api/v1/policy"): api(PLANNERS, "/policy", body={"no_such_field": 1}),
    ("GET", "/api/v1/replays"): api(PLANNERS, "/replays"),
    ("POST", "/api/v1/replays"): api(PLANNERS, "/replays", body={}),
    ("GET", "/api/v1/replays/<int:replay_id>"): api(PLANNERS, "/replays/{replay}"),
    # -- the admin ------------------------------------------------------------------------------------
    ("GET", "/api/v1/users"): api(("admin",), "/users"),
    ("POST", "/api/v1/users"): api(("admin",), "/users", body={"username": ""}),
    ("PATCH", "/api/v1/users/<int:user_id>"): api(("admin",), "/users/{user}", body={"name": ""}),
    ("GET", "/api/v1/audit"): api(("admin",), "/audit"),
    ("POST", "/api/v1/garages"): api(("admin",), "/garages", body={"id": ""}),
    ("PATCH", "/api/v1/garages/<garage_id>"): api(("admin",), "/garages/{garage}", body={"name": ""}),
    ("GET", "/api/v1/garages/<garage_id>/technicians"): api(("admin",), "/garages/{garage}/technicians"),
    ("POST", "/api/v1/garages/<garage_id>/technicians"): api(("admin",), "/garages/{garage}/technicians",
                                                             body={"name": ""}),
    ("PATCH", "/api/v1/technicians/<technician_id>"): api(("admin",), "/technicians/{technician}",
                                                          body={"name": ""}),
    ("POST", "/api/v1/technicians/<technician_id>/absences"): api(("admin",), "/technicians/{technician}/absences",
                                                                  body={"start": "not a day"}),
    ("DELETE", "/api/v1/absences/<int:absence_id>"): api(("admin",), "/absences/999999999"),  # none: 404
    ("POST", "/api/v1/skills"): api(("admin",), "/skills", body={"code": ""}),
    ("PATCH", "/api/v1/skills/<code>"): api(("admin",), "/skills/engine", body={"label": ""}),
    ("POST", "/api/v1/job-types"): api(("admin",), "/job-types", body={"code": ""}),
    ("PATCH", "/api/v1/job-types/<code>"): api(("admin",), "/job-types/{job_type}", body={"label": ""}),
    ("POST", "/api/v1/symptoms"): api(("admin",), "/symptoms", body={"code": ""}),
    ("PATCH", "/api/v1/symptoms/<code>"): api(("admin",), "/symptoms/{symptom}", body={"label": ""}),
    # -- the operator's desk ----------------------------------------------------------------------------
    ("GET", "/desk/"): Rule(("operator",), "/desk/"),
    ("GET", "/desk/vehicle"): Rule(("operator",), "/desk/vehicle?plate=ZZ-999-ZZ"),
    ("GET", "/desk/customer"): Rule(("operator",), "/desk/customer?phone=0100000000"),
    ("GET", "/desk/queue"): Rule(("operator",), "/desk/queue"),
    ("POST", "/desk/cases"): Rule(("operator",), "/desk/cases", body={}),
    ("GET", "/desk/cases/<int:case_id>"): Rule(("operator",), "/desk/cases/{case}"),
    ("GET", "/desk/cases/<int:case_id>/live"): Rule(("operator",), "/desk/cases/{case}/live"),
    ("GET", "/desk/cases/<int:case_id>/move"): Rule(("operator",), "/desk/cases/{case}/move"),  # a read: changes nothing
    ("POST", "/desk/cases/<int:case_id>/book"): Rule(("operator",), "/desk/cases/{case}/book",
                                                     body={"start": "not a time"}),
    ("POST", "/desk/cases/<int:case_id>/withdraw"): Rule(("operator",), "/desk/cases/{case}/withdraw", body={}),
    ("POST", "/desk/cases/<int:case_id>/urgency"): Rule(("operator",), "/desk/cases/{case}/urgency",
                                                        body={"urgency": "P9"}),
    ("POST", "/desk/cases/<int:case_id>/direct-line"): Rule(("operator",), "/desk/cases/{case}/direct-line",
                                                            body={"garage": "nowhere"}),
    ("POST", "/desk/cases/<int:case_id>/drive-in"): Rule(("operator",), "/desk/cases/{case}/drive-in",
                                                         body={"garage": "nowhere"}),
    # -- a garage's board, job list, inbox and actions ---------------------------------------------------
    ("GET", "/garages/<garage_id>/board"): Rule(("reception", "operator", "planner", "admin"),
                                                "/garages/{garage}/board", True),
    ("GET", "/garages/<garage_id>/board/live"): Rule(LOGGED_IN, "/garages/{garage}/board/live", True),
    ("GET", "/garages/<garage_id>/jobs"): Rule(("workshop", "reception", "admin"), "/garages/{garage}/jobs", True),
    ("GET", "/garages/<garage_id>/direct-line/inbox"): Rule(LOGGED_IN, "/garages/{garage}/direct-line/inbox", True),
    ("GET", "/garages/<garage_id>/outbox"): Rule(("reception", "admin"), "/garages/{garage}/outbox", True),
    ("GET", "/garages/<garage_id>/outbox/<int:message_id>"): Rule(
        ("reception", "workshop", "admin"), "/garages/{garage}/outbox/{message}", True),
    ("GET", "/garages/<garage_id>/outbox/<int:message_id>/calendar.ics"): Rule(
        ("reception", "workshop", "admin"), "/garages/{garage}/outbox/{message}/calendar.ics", True),
    ("POST", "/garages/<garage_id>/outbox/<int:message_id>/phoned"): Rule(
        ("reception", "admin"), "/garages/{garage}/outbox/{message}/phoned", True, {}),
    ("GET", "/garages/<garage_id>/vehicle"): Rule(("reception",), "/garages/{garage}/vehicle?plate=ZZ-999-ZZ", True),
    ("POST", "/garages/<garage_id>/walk-in"): Rule(("reception",), "/garages/{garage}/walk-in", True, {}),
    ("POST", "/garages/<garage_id>/cases/<int:case_id>/withdraw"): Rule(
        ("reception",), "/garages/{garage}/cases/{case}/withdraw", True, {}),
    ("POST", "/garages/<garage_id>/replan"): Rule(("reception",), "/garages/{garage}/replan", True, {}),
    ("POST", "/garages/<garage_id>/cases/<int:case_id>/squeeze"): Rule(
        ("reception",), "/garages/{garage}/cases/{case}/squeeze", True, {}),
    ("POST", "/garages/<garage_id>/cases/<int:case_id>/place"): Rule(
        ("reception",), "/garages/{garage}/cases/{case}/place", True, {"time": "not a time"}),
    ("GET", "/garages/<garage_id>/squeeze/<int:preview_id>"): Rule(
        ("reception", "admin"), "/garages/{garage}/squeeze/{preview}", True),
    ("POST", "/garages/<garage_id>/squeeze/<int:preview_id>/confirm"): Rule(
        ("reception",), "/garages/{garage}/squeeze/{preview}/confirm", True, {}),
    ("POST", "/garages/<garage_id>/squeeze/<int:preview_id>/reject"): Rule(
        ("reception",), "/garages/{garage}/squeeze/{preview}/reject", True, {}),
    ("POST", "/garages/<garage_id>/direct-line/<int:request_id>/answer"): Rule(
        GARAGE_ROLES, "/garages/{garage}/direct-line/{request}/answer", True, {"decision": "decline"}),
    ("GET", "/garages/<garage_id>/appointments/<int:appointment_id>/move"): Rule(
        ("reception",), "/garages/{garage}/appointments/{appointment}/move", True),
    ("POST", "/garages/<garage_id>/appointments/<int:appointment_id>/move"): Rule(
        ("reception",), "/garages/{garage}/appointments/{appointment}/move", True, {"slot": "not a slot"}),
    ("POST", "/garages/<garage_id>/appointments/<int:appointment_id>/<action>"): Rule(
        GARAGE_ROLES, "/garages/{garage}/appointments/{appointment}/no-such-action", True, {}),
    ("POST", "/garages/<garage_id>/drive-ins/<int:drive_in_id>/arrived"): Rule(
        GARAGE_ROLES, "/garages/{garage}/drive-ins/{drive_in}/arrived", True, {}),
    # -- the planner's desk and the admin -----------------------------------------------------------------
    ("GET", "/planner/"): Rule(PLANNERS, "/planner/"),
    ("GET", "/planner/overrides"): Rule(PLANNERS, "/planner/overrides"),
    ("GET", "/planner/rules"): Rule(PLANNERS, "/planner/rules"),
    ("GET", "/planner/cases/<int:case_id>"): Rule(PLANNERS, "/planner/cases/{case}"),
    ("GET", "/planner/policy"): Rule(PLANNERS, "/planner/policy"),
    ("POST", "/planner/policy"): Rule(PLANNERS, "/planner/policy", body={}),
    ("GET", "/planner/replays"): Rule(PLANNERS, "/planner/replays"),
    ("POST", "/planner/replays"): Rule(PLANNERS, "/planner/replays", body={"other": "no equals sign"}),
    ("GET", "/planner/replays/<int:replay_id>"): Rule(PLANNERS, "/planner/replays/{replay}"),
    ("GET", "/planner/replays/<int:replay_id>/progress"): Rule(PLANNERS, "/planner/replays/{replay}/progress"),
    ("GET", "/admin/"): Rule(("admin",), "/admin/"),
    ("GET", "/admin/users"): Rule(("admin",), "/admin/users"),
    ("POST", "/admin/users"): Rule(("admin",), "/admin/users", body={"username": ""}),
    ("GET", "/admin/users/<int:user_id>"): Rule(("admin",), "/admin/users/{user}"),
    ("POST", "/admin/users/<int:user_id>"): Rule(("admin",), "/admin/users/{user}", body={"name": ""}),
    ("GET", "/admin/audit"): Rule(("admin",), "/admin/audit"),
    ("GET", "/admin/garages/new"): Rule(("admin",), "/admin/garages/new"),
    ("POST", "/admin/garages/new"): Rule(("admin",), "/admin/garages/new", body={"id": ""}),
    ("GET", "/admin/garages/<garage_id>"): Rule(("admin",), "/admin/garages/{garage}"),
    ("POST", "/admin/garages/<garage_id>"): Rule(("admin",), "/admin/garages/{garage}", body={"name": ""}),
    ("POST", "/admin/garages/<garage_id>/technicians"): Rule(("admin",), "/admin/garages/{garage}/technicians",
                                                             body={"name": ""}),
    ("POST", "/admin/garages/<garage_id>/replan"): Rule(("admin",), "/admin/garages/{garage}/replan", body={}),
    ("GET", "/admin/technicians/<technician_id>"): Rule(("admin",), "/admin/technicians/{technician}"),
    ("POST", "/admin/technicians/<technician_id>"): Rule(("admin",), "/admin/technicians/{technician}",
                                                         body={"name": ""}),
    ("POST", "/admin/technicians/<technician_id>/absences"): Rule(
        ("admin",), "/admin/technicians/{technician}/absences", body={"start": "not a day"}),
    ("POST", "/admin/absences/<int:absence_id>/remove"): Rule(("admin",), "/admin/absences/999999999/remove",
                                                              body={}),  # none: 404
    ("GET", "/admin/catalogue"): Rule(("admin",), "/admin/catalogue"),
    ("POST", "/admin/catalogue/<any(skills, 'job-types', symptoms):kind>"): Rule(
        ("admin",), "/admin/catalogue/symptoms", body={"code": ""}),
    ("GET", "/admin/catalogue/<kind>/<code>"): Rule(("admin",), "/admin/catalogue/job-types/{job_type}"),
    ("POST", "/admin/catalogue/<kind>/<code>"): Rule(("admin",), "/admin/catalogue/job-types/{job_type}",
                                                     body={"label": ""}),
}


def scopes(rule: Rule) -> tuple[str, ...]:
    """own: the user's garage and its things; other: another garage's; mixed: the user's garage in the
    path but another garage's thing in it (the page must not trust the path's garage)."""
    if not rule.garage:
        return ("network",)
    if "{garage}" in rule.path and rule.path.count("{") > 1:
        return ("own", "other", "mixed")
    return ("own", "other")


def allowed(rule: Rule, role: str, scope: str) -> bool:
    return role in rule.who and not (role in GARAGE_ROLES and scope in ("other", "mixed"))


CASES = [pytest.param(method, path, role, scope, id=f"{method} {path} {role} {scope}")
         for (method, path), rule in TABLE.items() for scope in scopes(rule) for role in ROLES]


# -- one database for the module, its objects made once ---------------------------------------------


@dataclass
class World:
    app: object
    things: dict  # scope -> {name: value} for the paths
    bearer: dict  # role -> API token
    cookies: dict  # role -> (session cookie, CSRF token)
    counts: dict  # table -> rows before the matrix ran


def _counts() -> dict:
    names = inspect(db.engine).get_table_names()
    skip = {"user_session", "api_token", "app_user", "alembic_version"}  # logins and tokens are the point
    return {t: db.session.execute(select(func.count()).select_from(db.metadata.tables[t])).scalar()
            for t in names if t in db.metadata.tables and t not in skip}


def _make_things() -> tuple[dict, dict]:
    from scheduler.models import (
        ApiToken,
        Appointment,
        Case,
        DirectLineRequest,
        DriveIn,
        JobType,
        Message,
        Replay,
        Symptom,
        Technician,
        User,
    )
    from scheduler.services import accounts, feedback, squeeze

    users = {role: db.session.scalar(select(User).where(User.username == name)) for role, name in USERS.items()}
    things = {}
    for scope, garage_id in (("own", OWN), ("other", OTHER)):
        done = db.session.scalars(select(Case).where(Case.garage_id == garage_id, Case.status == "done")
                                  .order_by(Case.id)).first()
        appointment = db.session.scalars(select(Appointment).where(Appointment.case_id == done.id)).first()
        answered = db.session.scalars(select(DirectLineRequest).where(
            DirectLineRequest.garage_id == garage_id, DirectLineRequest.status != "open")).first()
        booked = db.session.scalars(select(Case).join(Appointment).where(
            Case.garage_id == garage_id, Case.status == "booked", Appointment.status == "booked",
            Appointment.start_at > CLOCK_NOW).order_by(Appointment.start_at)).first()
        reception = db.session.scalar(select(User).where(User.username == f"reception-{garage_id}"))
        preview = squeeze.preview_squeeze(db.session, reception, booked, booked.garage, CLOCK_NOW)
        squeeze.reject(db.session, reception, preview, CLOCK_NOW)
        came = DriveIn(case=done, garage_id=garage_id, expected_at=CLOCK_NOW - timedelta(hours=1),
                       status="arrived", announced_at=CLOCK_NOW - timedelta(hours=2))
        told = Message(case=done, appointment_id=appointment.id, garage_id=garage_id, kind="booked",
                       recipient="+33 4 00 00 00 00", subject="told already", body="-", status="sent",
                       created_at=CLOCK_NOW - timedelta(hours=1), sent_at=CLOCK_NOW)  # a phone call would be a 409
        db.session.add_all([came, told])
        db.session.flush()
        technician = db.session.scalars(select(Technician).where(Technician.garage_id == garage_id)
                                        .order_by(Technician.id)).first()
        things[scope] = {"garage": garage_id, "case": done.id, "appointment": appointment.id,
                         "request": answered.id, "preview": preview.id, "drive_in": came.id,
                         "technician": technician.id, "message": told.id}
    things["mixed"] = {**things["other"], "garage": OWN}
    replay = Replay(status="failed", params={"from": "2026-10-01", "to": "2026-10-07", "policy": {}},
                    error="a replay that failed", created_by_id=users["planner"].id, created_at=CLOCK_NOW)
    revoked = ApiToken(token_hash="0" * 64, user=users["admin"], revoked_at=CLOCK_NOW)
    db.session.add_all([replay, revoked])
    db.session.flush()
    common = {"replay": replay.id, "token": revoked.id, "user": users["planner"].id,
              "job_type": db.session.scalars(select(JobType.code).order_by(JobType.code)).first(),
              "symptom": db.session.scalars(select(Symptom.code).order_by(Symptom.code)).first(),
              "feedback": feedback.token_for(things["own"]["case"], "test-secret")}
    things = {scope: {**values, **common} for scope, values in things.items()}
    things["network"] = things["own"]
    bearer = {role: accounts.issue_token(db.session, user)[1] for role, user in users.items()}
    return things, bearer


def _login(app, role: str) -> tuple[str, str]:
    client = app.test_client()
    answer = client.post("/api/v1/session", json={"username": USERS[role], "password": PASSWORD})
    assert answer.status_code == 200, answer.get_json()
    return client.get_cookie("session").value, answer.get_json()["csrf_token"]


# One database: who may reach what is decided before any query that differs between them, and the matrix's
# ~1,100 requests on PostgreSQL too took CI close to its 10 minutes; every other test runs on both.
@pytest.fixture(scope="module", params=["sqlite"])
def world(request, tmp_path_factory):
    if request.param == "sqlite":
        copy = tmp_path_factory.mktemp("matrix") / "frontline.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), copy)
        url = f"sqlite:///{copy}"
    else:
        url = request.getfixturevalue("pg_databases").create("matrix",
                                                             template=request.getfixturevalue("pg_seeded"))
    app = make_app(url, RATELIMIT_ENABLED=False)
    with app.app_context():
        things, bearer = _make_things()
        db.session.commit()
        counts = _counts()
    cookies = {role: _login(app, role) for role in USERS}
    yield World(app, things, bearer, cookies, counts)
    with app.app_context():
        db.engine.dispose()


def _request(world: World, method: str, rule: Rule, role: str, scope: str):
    client = world.app.test_client()
    path = rule.path.format(**world.things[scope])
    if path.startswith("/api/"):
        headers = {"Authorization": f"Bearer {world.bearer[role]}"} if role != "anonymous" else {}
        return client.open(path, method=method, headers=headers, json=rule.body)
    if role == "anonymous":
        csrf = csrf_from(client.get("/login").get_data(as_text=True))
    elif rule.fresh_login:
        cookie, csrf = _login(world.app, role)
        client.set_cookie("session", cookie)
    else:
        cookie, csrf = world.cookies[role]
        client.set_cookie("session", cookie)
    data = {"csrf_token": csrf, **rule.body} if rule.body is not None else None
    return client.open(path, method=method, data=data)


def _sent_to_login(response) -> bool:
    """Sent to log in first (with where to come back to): logging out also ends on the login page, without."""
    where = response.headers.get("Location", "")
    return response.status_code == 302 and where.split("?")[0].endswith("/login") and "next=" in where


@pytest.mark.parametrize("method, path, role, scope", CASES)
def test_access_matrix(world, method, path, role, scope):
    rule = TABLE[(method, path)]
    response = _request(world, method, rule, role, scope)
    status = response.status_code
    assert status < 500, response.get_data(as_text=True)[:500]
    is_api = rule.path.startswith("/api/")
    if allowed(rule, role, scope):
        assert status not in (401, 403) and not _sent_to_login(response), \
            f"{role} ({scope}) refused: {status} {response.get_data(as_text=True)[:300]}"
    elif is_api:
        assert status == (401 if role == "anonymous" else 403), \
            f"{role} ({scope}) not refused: {status} {response.get_data(as_text=True)[:300]}"
        assert response.get_json()["error"]["code"] in ("not_logged_in", "forbidden")
    elif role == "anonymous":
        assert _sent_to_login(response), f"a visitor got {status}"
    else:
        assert status == 403, f"{role} ({scope}) not refused: {status} {response.headers.get('Location')}"


def test_every_route_is_in_the_table(world):
    served = {(method, rule.rule) for rule in world.app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served - set(TABLE) == set(), "routes the table does not cover: add who may use them"
    assert set(TABLE) - served == set(), "the table names routes the app no longer serves"


def test_the_matrix_changed_nothing(world, request):
    """Runs after the matrix (same module, declared last): every refused or invalid write left no row."""
    with world.app.app_context():
        assert _counts() == world.counts
