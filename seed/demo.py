"""Seed the demo network: deterministic for a given seed and day, idempotent.

Everything is placed relative to `now` (today by default): four weeks of booked demand
ahead, with some garages saturated (the standard rules offer a P1 case nearly two weeks
out) and others with same-day room, and a few months of history behind: past cases,
overrides of every kind with their rule offer and outcome, direct-line requests and
feedback, so the planner pages have real data on first start.
"""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.models import (
    Absence,
    Appointment,
    Case,
    CaseEvent,
    Customer,
    DirectLineRequest,
    Feedback,
    Garage,
    JobType,
    OpeningHours,
    Override,
    Policy,
    ShiftPattern,
    Skill,
    Symptom,
    Technician,
    User,
    Vehicle,
)
from scheduler.services import capacity
from seed import catalog

DEMO_PASSWORD = "frontline-demo"
ZONE = ZoneInfo("Europe/Paris")
# The overrides made for an immobilised car: their cases are P1s, every other kind's routine work.
URGENT_KINDS = ("direct_line", "walk_in", "drive_in", "urgency_raise", "squeeze_in")
Progress = Callable[[str, int, int], None]


def _quiet(step: str, done: int, total: int) -> None:
    pass


def is_seeded(session: Session) -> bool:
    return (session.scalar(select(func.count(Garage.id))) or 0) > 0


def seed(session: Session, seed: int = 7, now: datetime | None = None, days_ahead: int = 28,
         history_days: int = 90, dense_history_days: int = 14, progress: Progress = _quiet,
         recent_overrides: bool = True) -> bool:
    """Seed an empty database; return False (and change nothing) when it already holds data. `recent_overrides`:
    overrides (and the urgent calls behind most of them) on the days of dense demand too, up to yesterday."""
    if is_seeded(session):
        return False
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(second=0, microsecond=0)
    builder = _Builder(session, random.Random(seed), now, progress)
    # The planner's facts (why rules were late, ties, cars that came back) draw from their own sequence:
    # the demand and history stay as the seed has always made them.
    builder.extra = random.Random(seed * 1_000_003 + 11)
    builder.calls = random.Random(seed * 1_000_003 + 13)  # its own: the draws of `extra` stay as they were
    builder.network()
    builder.users()
    builder.demand(days_ahead, dense_history_days)
    builder.history(history_days, dense_history_days)
    if recent_overrides:
        builder.recent(dense_history_days)
    session.flush()
    progress("done", 1, 1)
    return True


def demo_logins(session: Session) -> list[tuple[str, str, str | None]]:
    users = session.scalars(select(User).order_by(User.role, User.username))
    return [(u.username, u.role, u.garage_id) for u in users]


class _Builder:
    def __init__(self, session: Session, rnd: random.Random, now: datetime, progress: Progress):
        self.s, self.rnd, self.now, self.progress = session, rnd, now, progress
        self.today = now.astimezone(ZONE).date()
        self.busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        self.lift_use: dict[tuple[str, datetime], int] = defaultdict(int)
        self.plates = 0
        self.case_count = 0

    # -- the network ---------------------------------------------------------------------
    def network(self) -> None:
        s, rnd = self.s, self.rnd
        self.skills = {code: Skill(code=code, label=label) for code, label in catalog.SKILLS}
        s.add_all(self.skills.values())
        self.job_types = {
            code: JobType(code=code, label=label, skill_code=skill, duration_minutes=minutes, needs_lift=lift)
            for code, label, skill, minutes, lift in catalog.JOB_TYPES
        }
        s.add_all(self.job_types.values())
        self.symptoms = {
            code: Symptom(code=code, label=label, label_fr=label_fr, urgency=urgency, job_type_code=job)
            for code, label, label_fr, urgency, job in catalog.SYMPTOMS
        }
        s.add_all(self.symptoms.values())
        # Today's free slots are offered to the call centre at launch; a planner can keep them for the garages.
        self.policy = Policy(version=1, active=True, note="Règles standard au lancement", same_day_visible=True,
                             created_at=self.now - timedelta(days=120))
        s.add(self.policy)
        self.garages: list[Garage] = []
        self.load: dict[str, float] = {}
        names = iter(self._people(200))
        for n, (gid, name, address, city, lat, lon, lifts, techs, load) in enumerate(catalog.GARAGES):
            garage = Garage(id=gid, name=name, address=address, city=city, lat=lat, lon=lon, lifts=lifts,
                            timezone="Europe/Paris", phone=f"+33 4 7{n % 10} {10 + n:02d} {20 + 3 * n:02d} {40 + n:02d}")
            for weekday in range(5):
                garage.opening_hours.append(OpeningHours(weekday=weekday, opens=time(7, 45), closes=time(18, 30)))
            if n % 3 == 0:
                garage.opening_hours.append(OpeningHours(weekday=5, opens=time(8, 0), closes=time(12, 30)))
            s.add(garage)
            self.garages.append(garage)
            self.load[gid] = load
            for t in range(techs):
                tech = Technician(id=f"{gid}-t{t + 1:02d}", garage=garage, name=next(names))
                tech.skills = [self.skills["maintenance"]] + [
                    self.skills[c] for c in rnd.sample(["diagnostics", "electrical", "engine", "tyres",
                                                         "bodywork", "high_voltage"], rnd.choice([1, 2, 2, 3]))]
                if t == 0 and self.skills["diagnostics"] not in tech.skills:
                    tech.skills.append(self.skills["diagnostics"])  # the P1 engine-fault story needs one per garage
                early = rnd.random() < 0.6
                for weekday in range(5):
                    if early:
                        tech.shift_patterns += [ShiftPattern(weekday=weekday, starts=time(8), ends=time(12)),
                                                ShiftPattern(weekday=weekday, starts=time(13, 30), ends=time(17, 30))]
                    else:
                        tech.shift_patterns += [ShiftPattern(weekday=weekday, starts=time(9), ends=time(12, 30)),
                                                ShiftPattern(weekday=weekday, starts=time(14), ends=time(18))]
                if n % 3 == 0 and t % 2 == 0:
                    tech.shift_patterns.append(ShiftPattern(weekday=5, starts=time(8, 15), ends=time(12, 15)))
                if rnd.random() < 0.12:
                    first = self.today + timedelta(days=rnd.randrange(1, 20))
                    tech.absences.append(Absence(first_day=first, last_day=first + timedelta(days=rnd.choice([0, 2, 4])),
                                                 reason=rnd.choice(["congés", "formation", "arrêt maladie"])))
                s.add(tech)
        s.flush()
        self.progress("network", 1, 4)

    def _people(self, count: int) -> list[str]:
        rnd = random.Random(self.rnd.random())
        return [f"{rnd.choice(catalog.FIRST_NAMES)} {rnd.choice(catalog.LAST_NAMES)}" for _ in range(count)]

    def users(self) -> None:
        def add(username: str, role: str, display: str, garage: str | None = None) -> User:
            user = User(username=username, role=role, display_name=display, garage_id=garage,
                        created_at=self.now - timedelta(days=120))
            user.set_password(DEMO_PASSWORD)
            self.s.add(user)
            return user

        self.operators = [add("operator", "operator", "Amélie (centre d’appels)"),
                          add("operator2", "operator", "Karim (centre d’appels)")]
        add("planner", "planner", "Hélène (planification)")
        add("admin", "admin", "Admin")
        self.garage_users: dict[str, list[User]] = {}
        for g in self.garages:
            self.garage_users[g.id] = [add(f"reception-{g.id}", "reception", f"Accueil {g.name}", g.id),
                                       add(f"workshop-{g.id}", "workshop", f"Atelier {g.name}", g.id)]
        self.s.flush()

    # -- cases and appointments ------------------------------------------------------------
    def _case(self, symptom: Symptom, garage: Garage, opened_at: datetime, channel: str = "call_centre",
              status: str = "booked", actor: User | None = None) -> Case:
        rnd = self.rnd
        self.plates += 1
        n = self.plates
        plate = f"{chr(65 + n % 26)}{chr(65 + (n // 26) % 26)}-{n % 1000:03d}-{chr(65 + (n // 1000) % 26)}{chr(66 + (n // 7) % 24)}"
        first, last = rnd.choice(catalog.FIRST_NAMES), rnd.choice(catalog.LAST_NAMES)
        customer = Customer(name=f"{first} {last}",
                            phone=f"+33 6 {rnd.randrange(10, 99)} {rnd.randrange(10, 99)} {rnd.randrange(10, 99)} {rnd.randrange(10, 99)}",
                            email=f"{_ascii(first)}.{_ascii(last)}{n}@example.fr" if n % 5 else None)  # no draw: the demand stays as it was
        vehicle = Vehicle(plate=plate, model=rnd.choice(catalog.CAR_MODELS), customer=customer)
        case = Case(urgency=symptom.urgency, job_type_code=symptom.job_type_code, symptom=symptom,
                    customer=customer, vehicle=vehicle, garage=garage,
                    lat=round(garage.lat + rnd.uniform(-0.03, 0.03), 5), lon=round(garage.lon + rnd.uniform(-0.03, 0.03), 5),
                    channel=channel, status=status, opened_at=opened_at, opened_by_id=actor.id if actor else None)
        case.events.append(CaseEvent(at=opened_at, kind="call" if channel == "call_centre" else channel,
                                     data={"symptom": symptom.code, "plate": plate, "model": vehicle.model},
                                     actor=actor))
        self.s.add(case)
        self.case_count += 1
        return case

    def _free(self, tech: Technician, start: datetime, end: datetime, lift: bool) -> bool:
        if any(s < end and start < e for s, e in self.busy[tech.id]):
            return False
        if lift:
            t = start
            while t < end:
                if self.lift_use[(tech.garage_id, t)] >= tech.garage.lifts:
                    return False
                t += timedelta(minutes=15)
        return True

    def _occupy(self, tech: Technician, start: datetime, end: datetime, lift: bool) -> None:
        self.busy[tech.id].append((start, end))
        if lift:
            t = start
            while t < end:
                self.lift_use[(tech.garage_id, t)] += 1
                t += timedelta(minutes=15)

    def _appointment(self, case: Case, tech: Technician, start: datetime, job: JobType, channel: str = "call_centre",
                     pinned: bool = False) -> Appointment:
        end = start + timedelta(minutes=job.duration_minutes)
        self._occupy(tech, start, end, job.needs_lift)
        status = "booked"
        started_at = finished_at = None
        if end <= self.now:
            roll = self.rnd.random()
            status = "no_show" if roll < 0.02 else "cancelled" if roll < 0.05 else "done"
            if status == "done":  # never after now: a job of the last minutes was not finished in the future
                started_at = min(start + timedelta(minutes=self.rnd.choice([0, 0, 5, 10, 20])), self.now)
                finished_at = min(end + timedelta(minutes=self.rnd.choice([-10, 0, 0, 15, 30])), self.now)
        elif start <= self.now:
            status, started_at = "in_progress", min(start + timedelta(minutes=5), self.now)
        elif start - self.now < timedelta(minutes=30) and self.rnd.random() < 0.5:
            status = "checked_in"
        appt = Appointment(case=case, garage_id=tech.garage_id, technician=tech, start_at=start, end_at=end,
                           status=status, channel=channel, pinned=pinned, lift=job.needs_lift,
                           skill_code=job.skill_code, flex_minutes=self.rnd.choice([0, 30, 60, 60, 120]),
                           started_at=started_at, finished_at=finished_at, created_at=case.opened_at,
                           created_by_id=case.opened_by_id)
        case.status = {"done": "done", "cancelled": "cancelled", "no_show": "cancelled",
                       "in_progress": "in_progress"}.get(status, "booked")
        case.events.append(CaseEvent(at=case.opened_at + timedelta(minutes=3), kind="booking",
                                     data={"garage": tech.garage_id, "technician": tech.id,
                                           "start": start.isoformat()}))
        self.s.add(appt)
        return appt

    def demand(self, days_ahead: int, dense_history_days: int) -> None:
        """Booked work from `dense_history_days` ago to `days_ahead` ahead, at each garage's load."""
        rnd = self.rnd
        routine = [s for s in self.symptoms.values() if s.urgency != "P1"]
        total = len(self.garages)
        for gi, garage in enumerate(self.garages):
            for offset in range(-dense_history_days, days_ahead + 1):
                day = self.today + timedelta(days=offset)
                # saturated garages stay full for two weeks, then thin out like everywhere else
                load = self.load[garage.id] if offset <= 13 else min(self.load[garage.id], 0.7) * 0.8
                if offset < 0:
                    load = min(0.9, self.load[garage.id])
                for tech in garage.technicians:
                    doable = [s for s in routine if self.job_types[s.job_type_code].skill_code in tech.skill_codes]
                    floor_jobs = [s for s in doable if not self.job_types[s.job_type_code].needs_lift]
                    for s0, e0 in capacity.shifts(tech, day):
                        cursor, end = s0.astimezone(timezone.utc), e0.astimezone(timezone.utc)
                        while cursor < end:
                            booked = False
                            if rnd.random() < load:
                                # when every lift is taken, a floor job keeps the technician busy
                                for symptom in (rnd.choice(doable), *rnd.sample(floor_jobs, len(floor_jobs))):
                                    job = self.job_types[symptom.job_type_code]
                                    stop = cursor + timedelta(minutes=job.duration_minutes)
                                    if stop <= end and self._free(tech, cursor, stop, job.needs_lift):
                                        # called 1 to 7 days before the job (routine work is booked ahead)
                                        # (drawn as 1 to 19 and folded, so the rest of the seeded network stays as it was)
                                        days, minutes = 1 + (rnd.randrange(1, 20) - 1) % 7, rnd.randrange(0, 600)
                                        opened = cursor - timedelta(days=days, minutes=minutes)
                                        if opened > self.now:
                                            opened = self._called_ahead(cursor)
                                        case = self._case(symptom, garage, opened, actor=rnd.choice(self.operators))
                                        self._appointment(case, tech, cursor, job)
                                        cursor, booked = stop, True
                                        break
                            if not booked:
                                cursor += timedelta(minutes=15 if rnd.random() < load else rnd.choice([30, 45]))
            self.s.flush()
            self.progress(f"demand at {garage.name}", gi + 1, total)

    # The rules' horizon: no call waits longer than this for its booking.
    HORIZON = timedelta(days=28)
    # How far back the calls for work weeks ahead are spread.
    CALLS_BACK = timedelta(days=14)

    def _called_ahead(self, start: datetime) -> datetime:
        """When the customer of work booked further ahead than a week called: some day of the last two weeks, never
        longer before the work than the rules' horizon. Every such call fell in the ten hours before `now`: 6,800
        routine calls on the demo's last morning, and a replay of that day played them all."""
        latest = self.now - timedelta(minutes=5)  # its booking, three minutes after the call, is in the past too
        earliest = max(self.now - self.CALLS_BACK, start - self.HORIZON)
        span = max(0, int((latest - earliest).total_seconds() // 60))
        for _ in range(20):  # while the call centre answers (Monday to Saturday, 08:00-19:00), where the span has it
            called = (latest - timedelta(minutes=self.calls.randint(0, span))).replace(second=0, microsecond=0)
            local = called.astimezone(ZONE)
            if local.weekday() < 6 and 8 <= local.hour < 19:
                break
        return called

    # -- history: overrides, direct line, feedback ------------------------------------------------
    def history(self, history_days: int, dense_history_days: int) -> None:
        rnd = self.rnd
        kinds = list(catalog.OVERRIDE_REASONS)
        first = self.today - timedelta(days=history_days)
        days = [first + timedelta(days=i) for i in range(history_days - dense_history_days)]
        weekdays = [d for d in days if d.weekday() < 5]
        p1 = [s for s in self.symptoms.values() if s.urgency == "P1"]
        others = [s for s in self.symptoms.values() if s.urgency != "P1"]
        count = 0
        for di, day in enumerate(weekdays):
            for garage in self.garages:
                if rnd.random() > 0.35:
                    continue
                kind = kinds[(di + count) % len(kinds)] if rnd.random() < 0.5 else rnd.choice(kinds)
                symptom = rnd.choice(p1 if kind in URGENT_KINDS else others)
                self._override(kind, symptom, garage, day)
                count += 1
            self.s.flush()
            self.progress("history", di + 1, len(weekdays))

    def recent(self, dense_history_days: int) -> None:
        """Overrides on the working days of dense demand before today, drawn after everything else (so the rest of
        the network is as the seed has always made it). Without them the last two weeks held routine calls only:
        no P1, no override, and a planner's replay of last week had nothing urgent to play."""
        rnd = self.rnd
        kinds = list(catalog.OVERRIDE_REASONS)
        days = [self.today - timedelta(days=i) for i in range(dense_history_days, 0, -1)]
        for di, day in enumerate(d for d in days if d.weekday() < 5):
            for garage in self.garages:
                if rnd.random() > 0.35:
                    continue
                kind = kinds[di % len(kinds)] if rnd.random() < 0.5 else rnd.choice(kinds)
                symptom = rnd.choice([s for s in self.symptoms.values() if (s.urgency == "P1") == (kind in URGENT_KINDS)])
                self._override(kind, symptom, garage, day, give_up=True)
            self.s.flush()

    def _rule_reasons(self, garage: Garage, saturated: bool, call_at: datetime, rule_start: datetime,
                      job: JobType, urgency: str) -> list[dict]:
        """Why the rules' offer was late, the way the optimizer says it: a full garage is mostly the home-garage
        rule (a neighbour had room) with full lifts or no free technician; elsewhere the day's notice."""
        rnd = self.extra
        # each rule's own figure, as the optimizer gives it (LateReason.minutes): not how late it made the offer
        figures = {"min_notice": self.policy.notice(urgency), "rule_garages": self.policy.rule_garages, "travel": 25}

        def reason(code: str, hours: float | None, other: Garage | None = None) -> dict:
            free_at = None if hours is None else (call_at + timedelta(hours=hours)).replace(second=0, microsecond=0)
            return {"code": code, "free_at": free_at.isoformat() if free_at else None,
                    "garage": other.id if other else None, "minutes": figures.get(code)}

        if saturated:
            neighbour = min((g for g in self.garages if g.id != garage.id),
                            key=lambda g: (g.lat - garage.lat) ** 2 + (g.lon - garage.lon) ** 2)
            out = [reason("rule_garages", rnd.choice([1, 2, 3, 24]), neighbour)]
            roll = rnd.random()
            if roll < 0.45 and job.needs_lift:
                out.append(reason("lifts_full", rnd.choice([26, 48, 50])))
            elif roll < 0.8:
                out.append(reason("no_technician", None))
            return out
        roll = rnd.random()
        if roll < 0.7:
            return [reason("min_notice", rnd.choice([0.5, 1, 2, 3]))]
        if roll < 0.85:
            return [reason("outside_hours", rnd.choice([14, 16]))]
        return [reason("travel", 1, garage)] if roll < 0.92 else [reason("none", None)]

    @staticmethod
    def _withdrawn(case: Case, at: datetime, actor: User | None) -> None:
        """A case the record closes unbooked, as the desk closes one (cases.withdraw: the call centre, or reception
        for its walk-ins): it was seeded "booked" or "done" with no booking behind it, and replays and the planner's
        figures read it as placed."""
        case.status = "cancelled"
        case.events.append(CaseEvent(at=at, kind="withdrawn", actor=actor,
                                     data={"reason": "Le client est allé ailleurs"}))

    def _override(self, kind: str, symptom: Symptom, garage: Garage, day: date, give_up: bool = False) -> None:
        """An override of `kind` on `day`, with its case, rule offer and outcome. `give_up`: where no room is found,
        no case at all (else the customer went elsewhere: the case is withdrawn)."""
        rnd = self.rnd
        job = self.job_types[symptom.job_type_code]
        techs = [t for t in garage.technicians if job.skill_code in t.skill_codes and capacity.shifts(t, day)]
        if not techs:
            return
        call_at = datetime.combine(day, time(8, 30), ZONE).astimezone(timezone.utc) + timedelta(minutes=rnd.randrange(0, 300))
        garage_user, workshop_user = self.garage_users[garage.id]
        by_garage = kind in ("walk_in", "squeeze_in")  # a drive-in is announced by the call centre
        actor = garage_user if by_garage else rnd.choice(self.operators)
        case = self._case(symptom, garage, call_at, channel="walk_in" if kind == "walk_in" else "call_centre", actor=actor)
        # What the rules offered then: saturated garages push it out by up to two weeks.
        saturated = self.load[garage.id] >= 0.9
        rule_days = rnd.randint(8, 16) if saturated else rnd.randint(1, 5)
        rule_day = day + timedelta(days=rule_days)
        while rule_day.weekday() >= 5:  # the rules offer working days only
            rule_day += timedelta(days=1)
        rule_start = datetime.combine(rule_day, time(rnd.choice([8, 9, 10, 14, 15])), ZONE)
        rule_start = rule_start.astimezone(timezone.utc)
        rule_event = CaseEvent(at=call_at + timedelta(minutes=1), kind="rule_offer",
                               data={"garage": garage.id, "start": rule_start.isoformat(),
                                     "wait_minutes": round((rule_start - call_at).total_seconds() / 60)})
        case.events.append(rule_event)
        # What people achieved: mostly the same day; sometimes worse than the rules.
        lost = rnd.random() < 0.12
        delay_days = rule_days + rnd.randint(1, 3) if lost else (0 if symptom.urgency == "P1" else rnd.randint(0, 2))
        target_day = day + timedelta(days=delay_days)
        appt = None
        for tech in rnd.sample(techs, len(techs)):
            for s0, e0 in capacity.shifts(tech, target_day):
                start = max(s0.astimezone(timezone.utc), call_at + timedelta(minutes=30) if delay_days == 0 else s0)
                start = start.replace(minute=start.minute - start.minute % 15, second=0, microsecond=0) + timedelta(minutes=15)
                while start + timedelta(minutes=job.duration_minutes) <= e0:
                    if self._free(tech, start, start + timedelta(minutes=job.duration_minutes), job.needs_lift):
                        channel = {"direct_line": "direct_line", "walk_in": "walk_in"}.get(kind, "call_centre")
                        appt = self._appointment(case, tech, start, job, channel=channel,
                                                 pinned=kind in ("direct_line", "squeeze_in", "walk_in", "drive_in",
                                                                 "manual_slot"))
                        break
                    start += timedelta(minutes=15)
                if appt:
                    break
            if appt:
                break
        if appt is None and give_up:  # a day of dense demand left no room: this override did not happen
            for made in (case, case.vehicle, case.customer):
                self.s.expunge(made)
            self.case_count -= 1
            return
        if appt is None:  # no room found: the customer went elsewhere (a case "booked" with no booking misled)
            self._withdrawn(case, call_at + timedelta(minutes=5), actor if case.channel == "walk_in" else self.operators[0])
            return
        # Sometimes the rules offered the very slot people booked: a tie (the override gained nothing).
        tie = not lost and kind not in ("urgency_lower", "squeeze_in") and self.extra.random() < 0.08
        if tie:
            rule_start = appt.start_at
            rule_event.data = {**rule_event.data, "start": rule_start.isoformat(),
                               "wait_minutes": round((rule_start - call_at).total_seconds() / 60)}
        moved, knock_on = [], 0
        if kind == "squeeze_in":
            for _ in range(rnd.randint(1, 3)):
                delay = rnd.choice([15, 30, 45, 60])
                moved.append({"appointment": None, "delay_minutes": delay})
                knock_on += delay
        started = appt.started_at if appt.status == "done" else None
        reason = rnd.choice(catalog.OVERRIDE_REASONS[kind])
        override = Override(
            case=case, kind=kind, reason=reason, actor_id=actor.id, team=actor.team, urgency=symptom.urgency,
            created_at=call_at + timedelta(minutes=4), policy_id=self.policy.id, garage_id=garage.id,
            rule_reasons=[{"code": "none", "free_at": None, "garage": None, "minutes": None}] if tie else
            self._rule_reasons(garage, saturated, call_at, rule_start, job, symptom.urgency),
            rule_garage_id=garage.id, rule_technician_id=techs[0].id, rule_start=rule_start,
            rule_end=rule_start + timedelta(minutes=job.duration_minutes),
            result_garage_id=garage.id, result_technician_id=appt.technician.id, result_start=appt.start_at,
            result_end=appt.end_at, moved=moved, knock_on_minutes=knock_on,
            actual_start=started, actual_end=appt.finished_at if started else None,
        )
        self.s.add(override)
        case.events.append(CaseEvent(at=override.created_at, kind="override", data={"kind": kind, "reason": reason},
                                     actor=actor))
        if kind == "drive_in":
            case.events.append(CaseEvent(at=override.created_at, kind="drive_in", actor=actor,
                                         data={"garage": garage.id, "expected_at": appt.start_at.isoformat()}))
        if kind == "urgency_lower" and self.extra.random() < 0.25:  # the car came back worse
            worse = self.extra.choice([s for s in self.symptoms.values() if s.urgency == "P1"])
            opened = min(call_at + timedelta(days=self.extra.randint(2, 12)), self.now - timedelta(hours=1))
            later = Case(urgency="P1", job_type_code=worse.job_type_code, symptom=worse, customer=case.customer,
                         vehicle=case.vehicle, garage=garage, lat=case.lat, lon=case.lon, status="cancelled",
                         opened_at=opened, opened_by_id=actor.id if not by_garage else None)
            later.events.append(CaseEvent(at=opened, kind="call", actor=None if by_garage else actor,
                                          data={"symptom": worse.code, "plate": case.vehicle.plate,
                                                "model": case.vehicle.model}))
            self._withdrawn(later, opened + timedelta(minutes=5), self.operators[0] if by_garage else actor)
            self.s.add(later)
        if kind == "direct_line":
            answered = override.created_at + timedelta(minutes=rnd.randint(2, 14))
            self.s.add(DirectLineRequest(case=case, garage=garage,
                                         message=f"{symptom.label_fr}. Pouvez-vous le prendre aujourd’hui\u202f?",
                                         status="accepted", created_at=override.created_at,
                                         created_by_id=actor.id, expires_at=override.created_at + timedelta(minutes=15),
                                         answered_at=answered, answered_by_id=workshop_user.id, appointment=appt,
                                         answer=f"Oui, {appt.start_at.astimezone(ZONE):%H:%M}"))
            case.events.append(CaseEvent(at=answered, kind="direct_line_answer",
                                         data={"garage": garage.id, "accepted": True,
                                               "seconds": round((answered - override.created_at).total_seconds()),
                                               "start": appt.start_at.isoformat()}))
            if rnd.random() < 0.3:  # an earlier attempt at a neighbour that said no, or never answered
                said_no = rnd.choice([True, False])
                self.s.add(DirectLineRequest(case=case, garage=rnd.choice(self.garages), message="Client immobilisé",
                                             status="declined" if said_no else "expired", created_by_id=actor.id,
                                             created_at=call_at + timedelta(minutes=1),
                                             expires_at=call_at + timedelta(minutes=16),
                                             answered_at=call_at + timedelta(minutes=3) if said_no else None,
                                             answer="Aucun technicien libre aujourd’hui" if said_no else None))
        if started and rnd.random() < 0.6:
            for stage in ("booking", "wait", "reception", "repair"):
                self.s.add(Feedback(case=case, stage=stage, score=rnd.choice([6, 7, 8, 9, 9, 10, 10]),
                                    created_at=appt.end_at + timedelta(days=1)))


def _ascii(name: str) -> str:
    """An e-mail's local part from a name: 'Émilie' → 'emilie'."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
