"""Schemathesis over the served OpenAPI document, as each role: never a 5xx, every error in the documented
format ({"error": {"code", "message", "details"}}), and the document covers exactly the API's routes.

Each generated request is sent as every role (and as nobody), so the run makes well over a thousand
requests; the what-if replays it may start are queued but not run (their engine has tests of its own).
"""

from __future__ import annotations

import os
import re
from collections import Counter
import shutil
from dataclasses import dataclass, field

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode

from tests.conftest import make_app
from web.extensions import db

USERS = {"operator": "operator", "reception": "reception-lyon-07", "workshop": "workshop-lyon-07",
         "planner": "planner", "admin": "admin"}
# Per operation and run; each example goes out once per role and once without credentials.
# FRONTLINE_FUZZ_EXAMPLES=50 explores further (and FRONTLINE_FUZZ_SEED=n elsewhere) outside CI.
EXAMPLES = int(os.environ.get("FRONTLINE_FUZZ_EXAMPLES", "3"))
SEED = os.environ.get("FRONTLINE_FUZZ_SEED")
FIRST_TOKEN_ID = 900_000  # far from the small ids generated for DELETE /api/v1/tokens/{id}


@dataclass
class Fuzzed:
    app: object
    bearer: dict
    real: dict  # path prefix -> an id that exists there
    sent: list = field(default_factory=list)  # (method, path, status) of every request made


# On SQLite only, as the access matrix: a whole CI run must stay under ten minutes on two cores, and what differs on
# PostgreSQL at the edges (ids beyond its integer range, NUL bytes, huge text) has its own tests on both backends
# (test_nasty_inputs.py, test_integrity.py); params=["sqlite", "postgresql"] fuzzes both.
@pytest.fixture(scope="module", params=["sqlite"])
def fuzzed(request, tmp_path_factory):
    from sqlalchemy import select

    from scheduler.models import ApiToken, User
    from scheduler.models.user import digest
    from web import jobs

    if request.param == "sqlite":
        copy = tmp_path_factory.mktemp("fuzz") / "frontline.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), copy)
        url = f"sqlite:///{copy}"
    else:
        url = request.getfixturevalue("pg_databases").create("fuzz", template=request.getfixturevalue("pg_seeded"))
    app = make_app(url, RATELIMIT_ENABLED=False)
    bearer = {}
    with app.app_context():
        for n, (role, name) in enumerate(USERS.items()):
            user = db.session.scalar(select(User).where(User.username == name))
            bearer[role] = f"fl_fuzz_{role}"
            db.session.add(ApiToken(id=FIRST_TOKEN_ID + n, token_hash=digest(bearer[role]), user=user))
        db.session.commit()
        from scheduler.models import Appointment

        appointment = db.session.scalars(select(Appointment).where(Appointment.garage_id == "lyon-07")
                                         .order_by(Appointment.id.desc())).first()
        real = {"/api/v1/cases/": appointment.case_id, "/api/v1/appointments/": appointment.id,
                "/api/v1/garages/": "lyon-07"}
    patch = pytest.MonkeyPatch()
    patch.setattr(jobs, "start_replay", lambda replay_id: None)
    yield Fuzzed(app, bearer, real)
    patch.undo()
    with app.app_context():
        db.engine.dispose()


def check_error_body(response, what: str) -> None:
    kind = {k.lower(): v for k, v in response.headers.items()}.get("content-type", "")
    kind = kind[0] if isinstance(kind, list) else kind
    assert kind.startswith("application/json"), \
        f"{what}: an error that is not JSON: {response.text[:200]}"
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"{what}: {body}"
    error = body["error"]
    assert isinstance(error.get("code"), str) and error["code"], f"{what}: {body}"
    assert isinstance(error.get("message"), str) and error["message"], f"{what}: {body}"
    assert isinstance(error.get("details"), dict), f"{what}: {body}"


def strategies(operation, real: dict):
    """Valid and invalid requests; half the valid ones aimed at a thing that exists (random ids are 404s)."""
    from hypothesis import strategies as st

    found = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    for prefix, value in real.items():
        if operation.path.startswith(prefix + "{id}"):
            found.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"id": value}))
    return st.one_of(found)


def test_the_api_never_fails_and_always_explains(fuzzed):
    from hypothesis import given, seed

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzzed.app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=strategies(operation, fuzzed.real))
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=SEED is None, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def every_role(case):
            for role in ("anonymous", *USERS):
                headers = {"Authorization": f"Bearer {fuzzed.bearer[role]}"} if role != "anonymous" else {}
                response = case.call(headers=headers)
                what = f"{case.method} {case.formatted_path} as {role} ({case.body!r:.200}, {case.query})"
                fuzzed.sent.append((case.method, case.formatted_path, response.status_code))
                assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
                if response.status_code >= 400:
                    check_error_body(response, what)

        if SEED is not None:
            every_role = seed(int(SEED))(every_role)
        try:
            every_role()
        except AssertionError as failed:
            failures.append(str(failed).splitlines()[0])
    assert not failures, "\n".join(failures)


def test_enough_requests_were_made(fuzzed):
    """After the generated tests of this backend: the run was not trivially small."""
    assert len(fuzzed.sent) >= 1000, len(fuzzed.sent)
    print(f"{len(fuzzed.sent)} requests", sorted(Counter(s for _m, _p, s in fuzzed.sent).items()))
    assert {status for _m, _p, status in fuzzed.sent} >= {200, 400, 401, 403, 404}


def test_the_document_covers_exactly_the_api_routes(fuzzed):
    client = fuzzed.app.test_client()
    documented = {(method.upper(), path) for path, operations in
                  client.get("/api/openapi.json").get_json()["paths"].items() for method in operations}
    served = set()
    for rule in fuzzed.app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.rule != "/api/openapi.json":
            # <int:case_id> is documented as {id}, <plate> as {plate}
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{id}" if m[1].endswith("_id") else f"{{{m[1]}}}",
                          rule.rule)
            served |= {(method, path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
