"""The network as planning sees it, kept between requests while its stamp says it has not changed.

Every request used to reload every technician's skills, shift patterns and absences and rebuild their
shifts over the horizon: most of an offers call. They change a few times a week; bookings change all
the time. So the first is loaded once per stamp (scheduler/models/network.py) and the second per question.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from optimizer.clock import ceil_minute, floor_minute
from scheduler.models import Garage, NetworkStamp, Technician
from scheduler.services import capacity


class Network:
    """Garages and active technicians, fully loaded and detached, with each technician's shifts by day."""

    def __init__(self, garages: dict[str, Garage], technicians: dict[str, list[Technician]]):
        self.garages = garages
        self.technicians = technicians
        self._shifts: dict[tuple[str, date], tuple[tuple[int, int], ...]] = {}
        self._spans: dict[tuple[str, date, date], tuple[tuple[int, int], ...]] = {}
        self._edges: dict[tuple[str, date, date], tuple[list[int], list[int]]] = {}
        # each technician's skills, as the optimizer takes them: read once per stamp, not per question
        self.skills: dict[str, frozenset[str]] = {t.id: frozenset(t.skill_codes) for ts in technicians.values()
                                                  for t in ts}

    def shifts(self, technician: Technician, day: date) -> tuple[tuple[int, int], ...]:
        """The technician's shifts that day, in minutes since the epoch (the format's rounding)."""
        key = (technician.id, day)
        found = self._shifts.get(key)
        if found is None:
            spans = ((ceil_minute(s), floor_minute(e)) for s, e in capacity.shifts(technician, day))
            found = self._shifts[key] = tuple(sorted(span for span in spans if span[1] > span[0]))
        return found

    def shifts_between(self, technician: Technician, first: date, last: date) -> tuple[tuple[int, int], ...]:
        """The technician's shifts from the local day `first` to `last` included, in time order."""
        key = (technician.id, first, last)
        found = self._spans.get(key)
        if found is None:
            days = (first + timedelta(days=i) for i in range((last - first).days + 1))
            found = self._spans[key] = tuple(span for day in days for span in self.shifts(technician, day))
        return found

    def shift_edges(self, technician: Technician, first: date, last: date) -> tuple[list[int], list[int]]:
        """The starts and the ends of `shifts_between`, as lists to bisect (ends are sorted as starts are:
        a technician's shifts never overlap)."""
        key = (technician.id, first, last)
        found = self._edges.get(key)
        if found is None:
            spans = self.shifts_between(technician, first, last)
            found = self._edges[key] = ([s for s, _ in spans], [e for _, e in spans])
        return found


_cache: OrderedDict[tuple, Network] = OrderedDict()
_lock = threading.Lock()
KEEP = 8  # a few databases (tests, a bench) or stamps at once


def stamp(session: Session) -> str:
    return session.scalar(select(NetworkStamp.stamp).where(NetworkStamp.id == 1)) or "unstamped"


def network(session: Session) -> Network:
    """The network of the session's database as of its stamp: loaded once, shared by requests."""
    key = (str(session.get_bind().engine.url), stamp(session))
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    found = _load(session)
    with _lock:
        _cache[key] = found
        while len(_cache) > KEEP:
            _cache.popitem(last=False)
    return found


def _load(session: Session) -> Network:
    # A session of its own on the same connection: it sees this transaction's data, and what it loads
    # is detached at once, so no commit elsewhere ever expires it. It only reads, so it joins the transaction
    # without a SAVEPOINT of its own (rollback_only): by default, inside the caller's SAVEPOINT (the tests'
    # PostgreSQL fixture), it opened another one that could outlive its parent, and the transaction aborted
    # ("current transaction is aborted", "nested transaction already deassociated"; a rare flaky test).
    with Session(bind=session.connection(), expire_on_commit=False, join_transaction_mode="rollback_only") as loader:
        garages = {g.id: g for g in loader.scalars(select(Garage).options(selectinload(Garage.opening_hours),
                                                                   selectinload(Garage.closed_days)))}
        technicians: dict[str, list[Technician]] = {g: [] for g in garages}
        rows = loader.scalars(select(Technician).where(Technician.active.is_(True)).order_by(Technician.id)
                              .options(selectinload(Technician.skills), selectinload(Technician.shift_patterns),
                                       selectinload(Technician.absences)))
        for t in rows:
            set_committed_value(t, "garage", garages[t.garage_id])  # no change to track: it is its garage
            technicians[t.garage_id].append(t)
        loader.expunge_all()
    return Network(garages, technicians)
