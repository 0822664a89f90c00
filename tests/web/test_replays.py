"""What-if replay on a constructed history: one garage, one technician, three P1 calls and a P3.

Under the rules at launch (a day's notice) each P1 waits a day; with no notice for P1 each starts
at once. The same replay with a change that changes nothing gives the current rules' figures. The
inline path and the RQ path (a real Redis at 127.0.0.1:6379) give the same result.
"""

from __future__ import annotations

import re
import socket
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from scheduler.models import (
    Appointment, Case, Customer, Garage, JobType, OpeningHours, Override, Policy, Replay, ShiftPattern, Skill,
    Technician, User, Vehicle,
)
from scheduler.services import replays
from tests.conftest import make_app
from web.extensions import db

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2027, 3, 1).date()
PERIOD = {"from": "2027-03-01", "to": "2027-03-05"}
REDIS = "redis://127.0.0.1:6379/15"


def after_the_period(url: str, **extra):
    """The app on the Thursday after the replayed week: the replay of a period to come is refused."""
    return make_app(url, CLOCK=lambda: at(10, 9), **extra)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(MONDAY + timedelta(days=day), time(hour, minute), PARIS).astimezone(timezone.utc)


def build(url: str) -> None:
    app = make_app(url)
    with app.app_context():
        db.create_all()
        s = db.session
        s.add(Skill(code="diagnostics", label="Diagnostics"))
        s.add(JobType(code="fault_diagnosis", label="Fault diagnosis", skill_code="diagnostics",
                      duration_minutes=60, needs_lift=False))
        garage = Garage(id="g1", name="Garage One", address="1 rue", city="Lyon", lat=45.75, lon=4.85, lifts=2,
                        phone="+33 4", timezone="Europe/Paris")
        garage.opening_hours = [OpeningHours(weekday=d, opens=time(8), closes=time(18)) for d in range(5)]
        tech = Technician(id="g1-t1", garage=garage, name="Tech One")
        s.add_all([garage, tech])
        s.flush()
        tech.skills = [s.get(Skill, "diagnostics")]
        tech.shift_patterns = [ShiftPattern(weekday=d, starts=a, ends=b) for d in range(5)
                               for a, b in ((time(8), time(12)), (time(13), time(17)))]
        s.add(Policy(version=1, created_at=at(-60, 8), note="launch"))
        planner = User(username="planner", role="planner", display_name="Planner")
        planner.set_password("frontline-demo")
        s.add(planner)
        people = Customer(name="Caller", phone="+33 6")
        for n, (day, hour, urgency) in enumerate([(0, 9, "P1"), (0, 10, "P3"), (1, 9, "P1"), (2, 9, "P1")]):
            opened = at(day, hour)
            case = Case(urgency=urgency, job_type_code="fault_diagnosis", customer=people,
                        vehicle=Vehicle(plate=f"RP-{n}", model="Clio", customer=people), garage_id="g1",
                        lat=45.75, lon=4.85, status="done", opened_at=opened)
            # what people achieved: the garage took each car half an hour after the call, on the next day for the P3
            start = opened + (timedelta(minutes=30) if urgency == "P1" else timedelta(days=1, minutes=-30))
            s.add(Appointment(case=case, garage_id="g1", technician_id="g1-t1", start_at=start,
                              end_at=start + timedelta(hours=1), status="done", started_at=start,
                              finished_at=start + timedelta(hours=1), skill_code="diagnostics", lift=False,
                              created_at=opened + timedelta(minutes=3)))
            if n == 0:
                s.add(Override(case=case, kind="direct_line", reason="P1 beyond target", team="call centre",
                               urgency="P1", created_at=opened + timedelta(minutes=2), garage_id="g1",
                               rule_start=at(1, 9), rule_end=at(1, 10), actual_start=start))
        s.commit()
        db.engine.dispose()


@pytest.fixture
def history(backend, tmp_path, request):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'replay.sqlite'}"
    else:
        url = request.getfixturevalue("pg_databases").create("replay")
    build(url)
    return url


def run(url: str, changes: dict) -> dict:
    app = make_app(url)
    with app.app_context():
        replay = replays.create(db.session, None, {**PERIOD, "policy": changes}, at(10, 9))
        db.session.commit()
        replay_id = replay.id
    replays.run_job(app.config["SQLALCHEMY_DATABASE_URI"], replay_id)
    with app.app_context():
        done = db.session.get(Replay, replay_id)
        assert done.status == "done", done.error
        result = done.result
        db.engine.dispose()
    return result


def waits(block: dict) -> tuple:
    # API.md names them median and p90; median_minutes and p90_minutes say the unit: the same figures
    assert (block["median"], block["p90"]) == (block["median_minutes"], block["p90_minutes"])
    return block["placed"], block["median_minutes"], block["p90_minutes"], block["same_day_share"]


def test_no_notice_for_p1_starts_every_p1_at_once(history):
    result = run(history, {"rule": {"min_notice_minutes": {"P1": 0}}})
    assert result["cases"] == 4
    p1 = result["p1"]
    assert waits(p1["rules"]) == (3, 1440, 1440, 0.0)  # a day's notice: each P1 the next day, at 09:00
    assert waits(p1["humans"]) == (3, 30, 30, 1.0)
    assert waits(p1["changed"]) == (3, 0, 0, 1.0)  # no notice: each starts at the call
    assert waits(result["p3"]["rules"]) == waits(result["p3"]["changed"]) == (1, 1440, 1440, 0.0)
    assert result["overrides"] == {"total": 1, "unnecessary": 1, "already_by_rules": 0,
                                   "unnecessary_ids": result["overrides"]["unnecessary_ids"]}


def test_a_change_that_changes_nothing_gives_the_current_rules(history):
    result = run(history, {"rule": {"garages": 3}})  # there is one garage within reach
    for urgency in ("p1", "p2", "p3"):
        assert result[urgency]["changed"] == result[urgency]["rules"]
    assert waits(result["p1"]["changed"]) == (3, 1440, 1440, 0.0)
    assert result["overrides"]["unnecessary"] == 0


def test_an_override_the_rules_replayed_already_match_is_not_the_changes_credit(history):
    """The P3's people booked it after the replayed rules' own offer (the customer's choice): a change that
    changes nothing must not say it would have made that override unnecessary."""
    app = after_the_period(history)
    with app.app_context():
        p3 = db.session.scalar(select(Case).where(Case.urgency == "P3"))
        db.session.add(Override(case=p3, kind="rebook", reason="customer's choice", team="call centre", urgency="P3",
                                created_at=p3.opened_at + timedelta(minutes=2), garage_id="g1",
                                rule_start=at(1, 9), rule_end=at(1, 10), actual_start=at(1, 11)))
        db.session.commit()
        db.engine.dispose()
    result = run(history, {"rule": {"garages": 3}})
    assert result["overrides"]["total"] == 2
    assert (result["overrides"]["unnecessary"], result["overrides"]["already_by_rules"]) == (0, 1)


def test_a_customer_who_chose_a_later_day_keeps_it_and_the_next_caller_gets_what_the_rules_really_offered(history):
    """Routine work is often booked for a later day than offered, by the customer's choice. Played as if every
    customer took the first offer, that work filled Friday morning, and the next caller's rule offer came later
    than the one the same rules had really made: the `rules` column no longer told what the rules gave."""
    app = after_the_period(history)
    with app.app_context():
        s = db.session
        people = s.scalar(select(Customer))
        ids = []
        # Thursday 08:00: offered Friday 08:00, the customer chose Friday 15:00; 08:05: took the offer, 08:15
        for n, (opened, booked) in enumerate([(at(3, 8), at(4, 15)), (at(3, 8, 5), at(4, 8, 15))]):
            case = Case(urgency="P3", job_type_code="fault_diagnosis", customer=people,
                        vehicle=Vehicle(plate=f"RC-{n}", model="Clio", customer=people), garage_id="g1",
                        lat=45.75, lon=4.85, status="booked", opened_at=opened)
            s.add(Appointment(case=case, garage_id="g1", technician_id="g1-t1", start_at=booked,
                              end_at=booked + timedelta(hours=1), status="booked", skill_code="diagnostics",
                              lift=False, created_at=opened + timedelta(minutes=3)))
            s.flush()
            ids.append(str(case.id))
        s.commit()
        replay = replays.create(s, None, {**PERIOD, "policy": {"rule": {"garages": 3}}}, at(10, 9))
        s.commit()
        replay_id = replay.id
        db.engine.dispose()
    replays.run_job(history, replay_id)
    with app.app_context():
        parts = {p.name: p.starts for p in db.session.get(Replay, replay_id).parts}
        db.engine.dispose()
    for name in ("rules", "changed"):
        chose_later, took_the_offer = (datetime.fromisoformat(parts[name][i]) for i in ids)
        assert chose_later == at(4, 8), "the rule offer is still what the rules offered, not the customer's choice"
        assert took_the_offer == at(4, 8, 15), "Friday 08:00 stayed free: the customer took Friday 15:00"


def test_a_p1_reserve_keeps_time_back_for_p1_work_only(history):
    # 8 working hours a day: keeping 7.5 h back for P1 leaves no day where the P3's hour fits
    result = run(history, {"p1_reserve_minutes": 450, "rule": {"min_notice_minutes": {"P1": 0}}})
    assert waits(result["p1"]["changed"]) == (3, 0, 0, 1.0)
    assert (result["p3"]["changed"]["placed"], result["p3"]["changed"]["unplaced"]) == (0, 1)
    assert result["p3"]["rules"]["placed"] == 1


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_the_rq_path_gives_what_the_inline_path_gives(history):
    if not redis_answers():
        pytest.skip("Redis does not answer at 127.0.0.1:6379: the RQ path is not tested")
    from rq import SimpleWorker

    from web import jobs

    changes = {"rule": {"min_notice_minutes": {"P1": 0}}}
    inline = run(history, changes)
    app = after_the_period(history, REDIS_URL=REDIS)
    with app.app_context():
        queue = jobs.queue(REDIS)
        queue.empty()
        replay = replays.create(db.session, None, {**PERIOD, "policy": changes}, at(10, 9), runner=jobs.runner())
        db.session.commit()
        replay_id = replay.id
        jobs.start_replay(replay_id)
        assert queue.count == 2  # one job per pass: two workers play them at once
    # A worker as `flask --app web worker` runs it, here in this process until the queue is empty.
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    with app.app_context():
        done = db.session.get(Replay, replay_id)
        assert (done.status, done.runner, done.progress) == ("done", "rq", 1.0)
        assert done.result == inline
        db.engine.dispose()


def test_the_api_starts_a_replay_and_reports_its_progress_and_figures(history):
    from web import jobs

    app = after_the_period(history)
    client = app.test_client()
    csrf = client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"}).get_json()["csrf_token"]
    bad = client.post("/api/v1/replays", json={**PERIOD, "policy": {"rule": {"min_notice_minutes": {"P1": -5}}}},
                      headers={"X-CSRFToken": csrf})
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["field"] == "rule.min_notice_minutes.P1"
    noted = client.post("/api/v1/replays", json={**PERIOD, "policy": {"note": "<b>x</b>"}}, headers={"X-CSRFToken": csrf})
    assert noted.status_code == 400 and noted.get_json()["error"]["details"]["field"] == "note"  # a note is no rule
    started = client.post("/api/v1/replays", json={**PERIOD, "policy": {"rule.min_notice_minutes.P1": 0}},
                          headers={"X-CSRFToken": csrf})
    assert started.status_code == 202 and started.get_json()["status"] == "queued"
    replay_id = started.get_json()["id"]
    jobs.join(replay_id)
    body = client.get(f"/api/v1/replays/{replay_id}").get_json()
    assert (body["status"], body["progress"]) == ("done", 1.0)
    assert waits(body["result"]["p1"]["changed"]) == (3, 0, 0, 1.0)
    page = client.get(f"/planner/replays/{replay_id}").get_data(as_text=True)
    assert "1 of the 1 overrides" in page and "100 %" in page
    assert "2027-03-01 →" not in page and "1 Mar" in page and "5 Mar" in page, "the period as a reader says it"
    assert "“People” is when the work really started" in page, "what each column measures, so P2/P3 are not misread"
    inverted = client.post("/api/v1/replays", json={"from": "2027-03-05", "to": "2027-03-01"},
                           headers={"X-CSRFToken": csrf, "Accept-Language": "fr"})
    assert inverted.status_code == 400 and "ne doit pas finir avant de commencer" in inverted.get_json()["error"]["message"]
    form = client.get("/planner/replays").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    refused = client.post("/planner/replays", data={"csrf_token": token, "from": "2027-03-05", "to": "2027-03-01"})
    again = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'name="from" value="2027-03-05"' in again and 'name="to" value="2027-03-01"' in again, \
        "a refused replay keeps the period as typed"
    listed = client.get("/api/v1/replays?format=csv").get_data(as_text=True)
    assert "rule.min_notice_minutes.P1=0" in listed
    # nothing changed: the current rules replayed, said as the baseline it is, not as a change that did nothing
    baseline = client.post("/api/v1/replays", json={**PERIOD, "policy": {}}, headers={"X-CSRFToken": csrf})
    assert baseline.status_code == 202
    jobs.join(baseline.get_json()["id"])
    said = client.get(f"/planner/replays/{baseline.get_json()['id']}").get_data(as_text=True)
    assert "Nothing was changed: this replays the rules in force over the period" in said and "The change would have made" not in said
    with app.app_context():
        db.engine.dispose()


def test_the_cli_replays_with_a_progress_bar(history):
    app = after_the_period(history)
    out = app.test_cli_runner().invoke(args=["replay", "--from", PERIOD["from"], "--to", PERIOD["to"],
                                             "--set", "rule.min_notice_minutes.P1=0"])
    assert out.exit_code == 0, out.output
    assert "Replaying" in out.output and "100%" in out.output
    assert "P1 (3 cases)" in out.output and "median 24.0 h / 0.5 h / 0.0 h" in out.output
    assert "unnecessary by the change: 1 of 1" in out.output
    refused = app.test_cli_runner().invoke(args=["replay", "--from", "2027-03-01", "--to", "2027-03-05",
                                                 "--set", "rule.colour=3"])
    assert refused.exit_code != 0 and "rule.colour is not a policy field" in refused.output
    with app.app_context():
        db.engine.dispose()


def test_a_replay_whose_planning_fails_says_so_and_writes_no_figures(history, monkeypatch):
    """The replay's planning erroring half-way: the replay is failed with the reason, its other passes too,
    no figures are written, and the planner's page and the API say it failed."""
    from scheduler.models import ReplayPart
    from tests.conftest import Auth

    app = after_the_period(history)
    with app.app_context():
        replay = replays.create(db.session, None, {**PERIOD, "policy": {"p1_reserve_minutes": 60}}, at(10, 9))
        db.session.commit()
        replay_id = replay.id
    played = replays.play

    def broken(world, name, progress=lambda _: None):
        if name == replays.PASSES[-1]:
            raise RuntimeError("the planning crashed")
        return played(world, name, progress)

    monkeypatch.setattr(replays, "play", broken)
    with pytest.raises(RuntimeError):
        replays.run_job(app.config["SQLALCHEMY_DATABASE_URI"], replay_id)
    with app.app_context():
        failed = db.session.get(Replay, replay_id)
        assert (failed.status, failed.result) == ("failed", None) and "the planning crashed" in failed.error
        parts = db.session.scalars(select(ReplayPart).where(ReplayPart.replay_id == replay_id)).all()
        assert all(p.status in ("done", "failed") for p in parts) and any(p.status == "failed" for p in parts)
    planner = Auth(app.test_client())
    planner.login("planner")
    answer = planner.client.get(f"/api/v1/replays/{replay_id}").get_json()
    assert (answer["status"], answer["result"]) == ("failed", None)
    page = planner.client.get(f"/planner/replays/{replay_id}").get_data(as_text=True)
    assert "The replay failed:" in page and "the planning crashed" in page
    with app.app_context():
        db.engine.dispose()


def test_the_form_replays_todays_rules_over_a_period_played_under_older_ones(history):
    """The form shows today's rules; a value left as shown is no change, unless the period ran under another
    value: then it is what the planner wants to see (what today's rules would have done last month)."""
    app = after_the_period(history)
    app.config["CLOCK"] = lambda: at(10, 9)
    from scheduler.services import policies

    with app.app_context():  # after the period: P1 at once
        policies.change(db.session, db.session.scalar(select(User)), {"rule": {"min_notice_minutes": {"P1": 0}}},
                        at(8, 9))
        db.session.commit()
        assert policies.value_at(policies.in_force(db.session, at(0, 9)), "rule.min_notice_minutes.P1") != 0
    client = app.test_client()
    client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"})
    form = client.get("/planner/replays").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    sent = client.post("/planner/replays", data={
        "csrf_token": token, **PERIOD, "rule.min_notice_minutes.P1": "0", "rule.garages": "1",
        "other": "same_day_visible=faux"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:300]
    calendar_end = client.post("/planner/replays", data={"csrf_token": token, "from": "9999-12-30", "to": "9999-12-31"})
    assert calendar_end.status_code == 400 and "9999-12-31" in calendar_end.get_data(as_text=True)  # refused
    long_other = "\n".join(["max_moves=5"] * 30) + "\ntravel_speed_kmh=45"  # past any address's length
    refused = client.post("/planner/replays", data={"csrf_token": token, "from": "2027-03-05", "to": "2027-03-01",
                                                    "rule.min_notice_minutes.P1": "0", "other": long_other})
    assert refused.status_code == 400
    backwards = refused.get_data(as_text=True)
    assert "travel_speed_kmh=45</textarea>" in backwards, "the form comes back whole, not cut to fit an address"
    # refused, the form comes back as typed: the period and the changes
    assert "The period must not end before it starts" in backwards
    assert re.search(r'name="rule.min_notice_minutes.P1"[^>]*value="0"', backwards)
    assert 'value="2027-03-05"' in backwards

    wrong = client.post("/planner/replays", data={"csrf_token": token, **PERIOD, "search_radius_km": "abc"}
                        ).get_data(as_text=True)
    flashed = re.search(r'class="flash error[^"]*"[^>]*>(.*?)<', wrong, re.DOTALL).group(1)
    assert "Search radius (km)" in flashed and "search_radius_km" not in flashed  # as the form names it
    with app.app_context():
        replay = db.session.scalars(select(Replay).order_by(Replay.id.desc())).first()
        assert replay.params["policy"] == {"rule.min_notice_minutes.P1": 0, "same_day_visible": False}
        db.engine.dispose()
    # the planner typed "faux": the pages say it in their words, not Python's False
    for path in ("/planner/replays", f"/planner/replays/{replay.id}"):
        page = client.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True)
        assert "same_day_visible = non" in page or "same_day_visible=non" in page, path
        assert "False" not in page, path


def test_a_replays_changes_become_the_rules_in_one_step_from_its_page(history):
    """What-if, then change the rules: the done replay's page posts its changes as a new policy version."""
    from web import jobs

    app = after_the_period(history)
    client = app.test_client()
    csrf = client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"}).get_json()["csrf_token"]
    started = client.post("/api/v1/replays", json={**PERIOD, "policy": {"rule.min_notice_minutes.P1": 0,
                                                                       "same_day_visible": False}},
                          headers={"X-CSRFToken": csrf})
    replay_id = started.get_json()["id"]
    jobs.join(replay_id)
    page = client.get(f"/planner/replays/{replay_id}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/planner/policy" class="row-form apply-replay">(.*?)</form>', page,
                     re.S)
    assert form, "a done replay with changes offers to apply them"
    # every case in the history was booked by people: the page says how many were not, per urgency
    assert re.search(r"Cases people never booked[^:]*:\s*P1 0,\s*P2 0,\s*P3 0\.", page)
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[1])
    data: dict = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    before = client.get("/api/v1/policy").get_json()
    applied = client.post("/planner/policy", data=data)
    assert applied.status_code == 302, applied.get_data(as_text=True)[:300]
    now = client.get("/api/v1/policy").get_json()
    assert now["version"] == before["version"] + 1 and now["note"] == f"From replay #{replay_id}"
    assert now["rule"]["min_notice_minutes"]["P1"] == 0 and now["same_day_visible"] is False
    assert now["rule"]["garages"] == before["rule"]["garages"], "nothing else changes"
    again = client.get(f"/planner/replays/{replay_id}").get_data(as_text=True)
    assert "apply-replay" not in again and f"These changes are the rules in force (version {now['version']})" in again
    with app.app_context():
        db.engine.dispose()


def test_a_period_to_come_is_refused_and_a_period_without_cases_offers_nothing_to_apply(history):
    """A replay judges a change on recorded demand: a period not begun has none (its replay showed 0 cases and
    offered to make the change the rules in one click), and a past period without cases gives nothing to apply."""
    from web import jobs

    app = make_app(history)  # the suite's clock, months before the recorded week
    client = app.test_client()
    csrf = client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"}).get_json()["csrf_token"]
    early = client.post("/api/v1/replays", json={**PERIOD, "policy": {"rule.min_notice_minutes.P1": 0}},
                        headers={"X-CSRFToken": csrf})
    assert early.status_code == 422 and early.get_json()["error"]["details"]["field"] == "from"
    assert "not begun" in early.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Replay)) == 0
        db.engine.dispose()

    app = after_the_period(history)
    client = app.test_client()
    csrf = client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"}).get_json()["csrf_token"]
    quiet = client.post("/api/v1/replays", json={"from": "2027-02-01", "to": "2027-02-05",
                                                 "policy": {"rule.min_notice_minutes.P1": 0}},
                        headers={"X-CSRFToken": csrf})
    assert quiet.status_code == 202
    jobs.join(quiet.get_json()["id"])
    page = client.get(f"/planner/replays/{quiet.get_json()['id']}").get_data(as_text=True)
    assert "0 cases replayed" in page and "nothing to judge these changes on" in page
    assert "apply-replay" not in page
    with app.app_context():
        db.engine.dispose()


def test_a_replay_of_a_period_under_other_rules_says_so(history):
    """Its 'current rules' are the rules of the period: when today's differ beyond what the replay changes, the page
    names the versions and the fields, since applying the changes puts them on today's version."""
    from scheduler.services import policies
    from web import jobs

    app = after_the_period(history)
    app.config["CLOCK"] = lambda: at(10, 9)
    client = app.test_client()
    csrf = client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"}).get_json()["csrf_token"]

    def replay_page(changes: dict) -> str:
        started = client.post("/api/v1/replays", json={**PERIOD, "policy": changes}, headers={"X-CSRFToken": csrf})
        jobs.join(started.get_json()["id"])
        return client.get(f"/planner/replays/{started.get_json()['id']}").get_data(as_text=True)

    assert "rules-then" not in replay_page({"rule.garages": 3})  # the period ran under the rules in force now
    with app.app_context():
        policies.change(db.session, db.session.scalar(select(User)), {"rule": {"min_notice_minutes": {"P1": 0}}},
                        at(8, 9))
        db.session.commit()
    page = replay_page({"rule.garages": 3})
    banner = re.search(r'<p class="banner warn rules-then">(.*?)</p>', page, re.DOTALL)
    assert banner and "version 1" in banner[1] and "version 2" in banner[1]
    assert "Minimum notice for P1 (minutes)" in banner[1] and "Garages" not in banner[1]
    # a replay that tries today's value itself compares like with like for that field: nothing to say
    assert "rules-then" not in replay_page({"rule.min_notice_minutes.P1": 0})
    with app.app_context():
        db.engine.dispose()


def test_a_replay_of_a_period_not_over_names_only_the_versions_its_cases_met(history):
    """A replay made on Friday at noon played the week's cases opened until then: a version made that afternoon
    met none of them, and its page must not say the period ran under it."""
    from scheduler.services import policies
    from web import jobs

    app = after_the_period(history)
    app.config["CLOCK"] = lambda: at(4, 12)
    client = app.test_client()
    csrf = client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"}).get_json()["csrf_token"]
    started = client.post("/api/v1/replays", json={**PERIOD, "policy": {"rule.garages": 3}},
                          headers={"X-CSRFToken": csrf})
    jobs.join(started.get_json()["id"])
    with app.app_context():
        policies.change(db.session, db.session.scalar(select(User)), {"rule": {"min_notice_minutes": {"P1": 0}}},
                        at(4, 14))
        db.session.commit()
    app.config["CLOCK"] = lambda: at(4, 15)
    page = client.get(f"/planner/replays/{started.get_json()['id']}").get_data(as_text=True)
    banner = re.search(r'<p class="banner warn rules-then">(.*?)</p>', page, re.DOTALL)
    assert banner and "ran under rules version 1 and" in banner[1], "the rules then differ from today's: said once"
    assert "versions 1, 2" not in banner[1]
    with app.app_context():
        db.engine.dispose()


def test_a_change_no_rule_offer_reads_is_named_as_not_replayed(history):
    """max_moves is the squeeze's: a replay of it gave the rules' own figures under "changed", presented as a change
    tried. The result and the page now name what the replay does not play."""
    from web import jobs

    app = after_the_period(history)
    client = app.test_client()
    csrf = client.post("/api/v1/session", json={"username": "planner", "password": "frontline-demo"}).get_json()["csrf_token"]

    def replayed(changes: dict) -> tuple[dict, str]:
        started = client.post("/api/v1/replays", json={**PERIOD, "policy": changes}, headers={"X-CSRFToken": csrf})
        assert started.status_code == 202, started.get_json()
        jobs.join(started.get_json()["id"])
        return (client.get(f"/api/v1/replays/{started.get_json()['id']}").get_json()["result"],
                client.get(f"/planner/replays/{started.get_json()['id']}").get_data(as_text=True))

    result, page = replayed({"max_moves": 4, "rule.min_notice_minutes.P1": 0})
    assert result["not_replayed"] == ["max_moves"]
    banner = re.search(r'<p class="banner warn not-replayed">(.*?)</p>', page, re.DOTALL)
    assert banner and "and “Most appointments a squeeze-in may move” changes none of them" in banner[1]
    result, page = replayed({"rule.min_notice_minutes.P1": 0})
    assert result["not_replayed"] == [] and "not-replayed" not in page
    with app.app_context():
        db.engine.dispose()


def test_a_call_taken_between_a_replays_two_passes_is_played_by_neither(history):
    """Made on Friday at noon, a replay of the week plays the calls until then: one taken at 13:00, after its
    `rules` pass and before its `changed` one, was played by `changed` alone and counted as the change's gain."""
    app = after_the_period(history)
    with app.app_context():
        replay = replays.create(db.session, None, {**PERIOD, "policy": {"rule": {"garages": 3}}}, at(4, 12))
        db.session.commit()
        replay_id = replay.id
        db.engine.dispose()
    replays.run_job(history, replay_id, names=["rules"])
    with app.app_context():
        people = db.session.scalar(select(Customer))
        db.session.add(Case(urgency="P3", job_type_code="fault_diagnosis", customer=people,
                            vehicle=Vehicle(plate="RP-LATE", model="Clio", customer=people), garage_id="g1",
                            lat=45.75, lon=4.85, status="open", opened_at=at(4, 13)))
        db.session.commit()
        db.engine.dispose()
    replays.run_job(history, replay_id, names=["changed"])
    with app.app_context():
        done = db.session.get(Replay, replay_id)
        assert done.status == "done", done.error
        result = done.result
        db.engine.dispose()
    assert result["cases"] == 4, "the calls until the replay was made"
    assert result["p3"]["rules"] == result["p3"]["changed"], "a change that changes nothing gains nothing"
