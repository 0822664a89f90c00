"""Two admins deactivating each other at the same moment: one wins, the network keeps an active admin."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from scheduler.models import User
from scheduler.services import accounts
from tests.conftest import PASSWORD, Auth
from web.extensions import db


def test_two_admins_deactivating_each_other_at_once_leave_one_active(committing_app, monkeypatch):
    app = committing_app
    with app.app_context():
        second = User(username="admin2", display_name="Second admin", role="admin")
        second.set_password(PASSWORD)
        db.session.add(second)
        db.session.commit()
        ids = {u: db.session.scalar(select(User.id).where(User.username == u)) for u in ("admin", "admin2")}
    locked = accounts.lock_admins

    def slowly(session):  # both requests reach the check together, as two admins clicking at once would
        time.sleep(0.5)
        return locked(session)

    monkeypatch.setattr(accounts, "lock_admins", slowly)
    barrier, answers = threading.Barrier(2), {}

    def deactivate(actor: str, target: str) -> None:
        person = Auth(app.test_client())
        person.login(actor)
        barrier.wait()
        response = person.client.patch(f"/api/v1/users/{ids[target]}", json={"active": False},
                                       headers=person.headers())
        answers[actor] = (response.status_code, response.get_json())

    people = [threading.Thread(target=deactivate, args=pair) for pair in (("admin", "admin2"), ("admin2", "admin"))]
    for person in people:
        person.start()
    for person in people:
        person.join(timeout=60)

    # The loser is refused: as the last admin (PostgreSQL: both requests run, the lock orders the checks), or,
    # where writers run one at a time (SQLite), because its own session ended before its request began.
    (won, lost) = sorted(status for status, _ in answers.values())
    assert won == 200 and lost in (401, 409)
    (refused,) = [body for status, body in answers.values() if status != 200]
    assert refused["error"]["code"] == ("last_admin" if lost == 409 else "not_logged_in")
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.role == "admin", User.active.is_(True))) == 1
