"""The production run of the README: gunicorn with deploy/gunicorn.conf.py, several workers, one database."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.conftest import CLOCK_NOW
from tests.web.server import Desk, Gunicorn
from tests.web.story import call


def test_gunicorn_with_the_production_config_serves_a_login_and_a_booking(served_database, tmp_path):
    access_log = tmp_path / "access.log"
    with Gunicorn(served_database, tmp_path / "instance", workers=2, clock=CLOCK_NOW.isoformat(),
                  access_log=access_log) as server:
        operator = Desk(server.base, "operator")
        case = operator.post("/api/v1/cases", json=call(plate="GU-001-NI")).json()
        offers = operator.get(f"/api/v1/cases/{case['id']}/offers").json()["offers"]
        best = offers[0]
        booked = operator.post(f"/api/v1/cases/{case['id']}/appointments",
                               json={key: best[key] for key in ("garage", "technician", "start")})
        assert booked.status_code == 201, booked.text
        # Many reads: whichever worker answers sees the booking the other one committed.
        for _ in range(6):
            read = operator.get(f"/api/v1/cases/{case['id']}").json()
            assert [(a["garage"], a["start"], a["status"]) for a in read["appointments"]] == \
                [(best["garage"], best["start"], "booked")]
        again = operator.post(f"/api/v1/cases/{case['id']}/appointments",
                              json={key: best[key] for key in ("garage", "technician", "start")})
        assert again.status_code == 409 and again.json()["error"]["code"] == "already_booked"  # nothing more
        page = operator.get(f"/desk/cases/{case['id']}")
        assert page.status_code == 200 and "GU-001-NI" in page.text
        assert operator.http.cookies.get("session")  # sent back over plain HTTP: Secure is off here
        assert len(server.worker_pids()) == 2
    assert server.process.returncode == 0  # stopped cleanly by SIGTERM
    lines = access_log.read_text().splitlines()
    assert any(f"POST /api/v1/cases/{case['id']}/appointments" in line and " 201 " in line for line in lines)


def redis_url() -> str:
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not answering on 127.0.0.1:6379")
    return url


def test_the_production_config_keeps_cookies_secure_and_login_limits_shared_by_workers(served_database, tmp_path):
    """Outside the tests and the one-machine server the cookie only travels over HTTPS (the TLS proxy's); with
    Redis configured, the login limits count across every worker, not per process."""
    env = {"FRONTLINE_SECURE_COOKIES": "", "FRONTLINE_REDIS_URL": redis_url()}
    with Gunicorn(served_database, tmp_path / "instance", workers=2, env=env) as server:
        response = requests.post(f"{server.base}/api/v1/session",
                                 json={"username": "operator", "password": "frontline-demo"}, timeout=30)
        assert response.status_code == 200
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie
        # Fresh connections, so the attempts spread over both workers; each worker alone would allow 10.
        account = f"nobody-{uuid.uuid4().hex[:8]}"
        answers = [requests.post(f"{server.base}/api/v1/session", json={"username": account, "password": "wrong"},
                                 headers={"Connection": "close"}, timeout=30).status_code for _ in range(12)]
        assert answers == [401] * 10 + [429] * 2
