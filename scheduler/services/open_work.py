"""The desk's queue of open work: cases someone still has to act on, most urgent and oldest first.

A case is in the queue while it waits for a garage's answer, after a garage declined or let a request
expire, while a P1 or P2 case is not booked (at a garage's counter too), and while an announced drive-in has not
arrived. Each case
appears once, under the most pressing of these. A read: expiry is judged by the clock, nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import Case, DirectLineRequest, DriveIn, User

# The order in which a case's reasons to act are told: a live request first, a customer on the road next.
KINDS = ("waiting", "drive_in", "declined", "expired", "unbooked")


@dataclass(frozen=True)
class OpenWork:
    case: Case
    kind: str  # one of KINDS
    since: datetime  # when this started waiting on someone
    garage_id: str | None = None  # the garage it waits on, if any
    due: datetime | None = None  # a request's expiry, a drive-in's expected arrival
    answer: str | None = None  # what a garage said when it declined

    def concerns(self, garage_id: str | None) -> bool:
        """Whether it is in that garage's queue: the garage it waits on, or the case's own garage."""
        return garage_id is not None and garage_id in (self.garage_id, self.case.garage_id)

    def seconds_left(self, now: datetime) -> int | None:
        return None if self.due is None else int((self.due - now).total_seconds())

    def to_dict(self, now: datetime) -> dict:
        return {"kind": self.kind, "since": self.since.isoformat(), "garage": self.garage_id,
                "due": self.due.isoformat() if self.due else None, "seconds_left": self.seconds_left(now),
                "answer": self.answer}


def _item(case: Case, requests: list[DirectLineRequest], drive_ins: list[DriveIn], now: datetime) -> OpenWork | None:
    here = [d for d in drive_ins if d.status == "arrived"]
    if here and case.status == "open":
        # at a garage's counter, not booked yet: that garage's to book (its board lists it); a P1 or P2 is still
        # open work (API.md's queue), shown as waiting on that garage
        return OpenWork(case, "unbooked", case.opened_at, here[-1].garage_id) if case.urgency in ("P1", "P2") \
            else None
    drive_ins = [d for d in drive_ins if d.status == "expected"]
    waiting = [r for r in requests if r.status_at(now) == "open"]
    if waiting:
        first = min(waiting, key=lambda r: r.expires_at or r.created_at)
        return OpenWork(case, "waiting", first.created_at, first.garage_id, first.expires_at)
    if drive_ins:
        first = min(drive_ins, key=lambda d: d.expected_at)
        return OpenWork(case, "drive_in", first.announced_at, first.garage_id, first.expected_at)
    if case.status != "open":
        return None
    refused = [r for r in requests if r.status_at(now) in ("declined", "expired") and not r.withdrawn]
    if refused:
        last = max(refused, key=lambda r: r.answered_at or r.expires_at or r.created_at)
        status = last.status_at(now)
        return OpenWork(case, status, last.answered_at or last.expires_at or last.created_at, last.garage_id,
                        answer=last.answer if status == "declined" else None)
    if case.urgency in ("P1", "P2"):
        return OpenWork(case, "unbooked", case.opened_at)
    return None


def _pending(case: Case, drive_ins: list[DriveIn]) -> bool:
    """Whether a case can be open work at all (the queue's query, for one case)."""
    return case.status not in ("done", "cancelled") and (case.status == "open" or bool(drive_ins))


def item_of(session: Session, case: Case, now: datetime) -> OpenWork | None:
    """The case's open work now, if it is open work (the queue's reading, for one case)."""
    drive_ins = list(session.scalars(select(DriveIn).where(DriveIn.case_id == case.id,
                                                           DriveIn.status.in_(("expected", "arrived")))))
    if not _pending(case, [d for d in drive_ins if d.status == "expected"]):
        return None
    requests = list(session.scalars(select(DirectLineRequest).where(DirectLineRequest.case_id == case.id)))
    return _item(case, requests, drive_ins, now)


def waits_on(session: Session, case: Case, garage_id: str | None, now: datetime) -> bool:
    """Whether the case is in that garage's queue now: the garage may read what its queue shows it."""
    item = item_of(session, case, now) if garage_id is not None else None
    return item is not None and item.concerns(garage_id)


def waits_on_a_garage(session: Session, case: Case, now: datetime) -> bool:
    """Whether a garage is asked about the case (a direct-line request still open) or expects its customer
    (a drive-in announced): the first two of KINDS."""
    item = item_of(session, case, now)
    return item is not None and item.kind in ("waiting", "drive_in")


def queue(session: Session, actor: User, now: datetime, limit: int = 100) -> list[OpenWork]:
    """The open work the actor can act on: the network's for the call centre, a garage's own for its staff."""
    expected = select(DriveIn.case_id).where(DriveIn.status == "expected")
    query = (select(Case).where(or_(Case.status == "open", Case.id.in_(expected)),
                                Case.status.not_in(("done", "cancelled")))
             .options(selectinload(Case.customer), selectinload(Case.vehicle), selectinload(Case.symptom))
             .order_by(Case.opened_at.desc()).limit(1000))
    cases = list(session.scalars(query))
    ids = [c.id for c in cases]
    requests: dict[int, list[DirectLineRequest]] = {}
    for r in session.scalars(select(DirectLineRequest).where(DirectLineRequest.case_id.in_(ids))):
        requests.setdefault(r.case_id, []).append(r)
    drive_ins: dict[int, list[DriveIn]] = {}
    for d in session.scalars(select(DriveIn).where(DriveIn.case_id.in_(ids), DriveIn.status.in_(("expected",
                                                                                                   "arrived")))):
        drive_ins.setdefault(d.case_id, []).append(d)
    items = [item for c in cases if (item := _item(c, requests.get(c.id, []), drive_ins.get(c.id, []), now))]
    if actor.role in ("reception", "workshop"):
        items = [i for i in items if i.concerns(actor.garage_id)]
    # oldest case first: a P1 called at 15:26 whose request expired at 15:47 has waited longer than one called at
    # 15:30 (sorted by when its latest state began, it went below it)
    items.sort(key=lambda i: (i.case.urgency, i.case.opened_at, i.case.id))
    return items[:limit]
