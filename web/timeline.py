"""The case timeline in the reader's language: the database keeps facts, this module words them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import CaseEvent, Garage, Symptom, Technician
from web.filters import local_datetime, reason_text, seconds_label, wait_label


class Names:
    """Garages, technicians and symptoms the timeline mentions, each loaded once for the request."""

    def __init__(self, session: Session, events: Iterable[CaseEvent]):
        events = list(events)
        garages = {d.get("garage") for d in (e.data or {} for e in events)} | {
            o.get("garage") for e in events for o in (e.data or {}).get("offers", [])}
        technicians = {(e.data or {}).get(key) for e in events for key in ("technician", "technician_before")}
        symptoms = {(e.data or {}).get("symptom") for e in events}
        self.garages = {g.id: g for g in session.scalars(select(Garage).where(Garage.id.in_(garages - {None})))}
        self.technicians = dict(session.execute(select(Technician.id, Technician.name)
                                                .where(Technician.id.in_(technicians - {None}))).all())
        self.symptoms = {s.code: s for s in session.scalars(select(Symptom).where(Symptom.code.in_(symptoms - {None})))}

    def garage(self, garage_id: str | None) -> str:
        garage = self.garages.get(garage_id)
        return garage.name if garage else (garage_id or "?")

    def when(self, iso: str | None, garage_id: str | None = None) -> str:
        return local_datetime(datetime.fromisoformat(iso), self.garages.get(garage_id)) if iso else ""

    def symptom(self, code: str | None, locale: str) -> str:
        symptom = self.symptoms.get(code)
        if symptom is None:
            return code or ""
        return symptom.label_fr if locale == "fr" else symptom.label


KIND_LABELS = {
    "call": lambda: _("call"), "walk_in": lambda: _("walk-in"), "rule_offer": lambda: _("standard rules"),
    "offers": lambda: _("offers shown"), "override": lambda: _("override"), "urgency": lambda: _("urgency"),
    "direct_line": lambda: _("direct line"), "direct_line_answer": lambda: _("garage's answer"),
    "direct_line_expired": lambda: _("no answer"), "booking": lambda: _("booking"),
    "cancelled": lambda: _("cancelled"), "drive_in": lambda: _("drive-in"),
    "drive_in_redirected": lambda: _("drive-in sent elsewhere"),
    "check_in": lambda: _("check-in"), "start": lambda: _("work started"), "finish": lambda: _("work finished"),
    "no_show": lambda: _("no-show"), "cancel": lambda: _("cancelled"), "moved": lambda: _("moved"),
    "more_time": lambda: _("more time"), "arrived": lambda: _("arrived"), "handed_over": lambda: _("handed over"),
    "told_by_phone": lambda: _("customer phoned"),
    "stranded": lambda: _("no one on shift"),
    "withdrawn": lambda: _("closed"),
}


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return label() if label else kind.replace("_", " ")


def override_kind_label(kind: str) -> str:
    return {
        "urgency_raise": _("urgency raised"), "urgency_lower": _("urgency lowered"), "direct_line": _("direct line"),
        "squeeze_in": _("squeeze-in"), "walk_in": _("walk-in"), "drive_in": _("drive-in"),
        "manual_slot": _("manual slot"), "overbook": _("overbooking"), "rebook": _("booking moved"),
    }.get(kind, kind.replace("_", " "))


def describe(event: CaseEvent, names: Names, locale: str) -> str:
    d = event.data or {}
    kind = event.kind
    if "text" in d and len(d) == 1:
        return d["text"]  # written before the timeline kept facts
    if kind in ("call", "walk_in"):
        told = f"{names.symptom(d.get('symptom'), locale)} — {d.get('model', '')} {d.get('plate', '')}"
        return told + (" " + _("(on record: %(model)s)", model=d["model_before"]) if d.get("model_before") else "")
    if kind == "rule_offer":
        under = f"{d['urgency']} · " if d.get("urgency") else ""  # the urgency whose rules gave it
        if d.get("none"):
            return under + _("Standard rules: nothing within the horizon")
        return under + _("Standard rules: %(when)s at %(garage)s (%(wait)s)", when=names.when(d["start"], d["garage"]),
                         garage=names.garage(d["garage"]), wait=wait_label(d.get("wait_minutes", 0)))
    if kind == "offers":
        separator = "\u202f; " if locale == "fr" else "; "  # French sets a narrow no-break space before ;
        shown = separator.join(_("%(when)s at %(garage)s (%(wait)s)", when=names.when(o["start"], o["garage"]),
                            garage=names.garage(o["garage"]), wait=wait_label(o.get("wait_minutes", 0)))
                          for o in d.get("offers", []))
        return _("Offers shown: %(offers)s", offers=shown or _("none"))
    if kind == "override":
        return _("%(label)s: %(text)s", label=override_kind_label(d.get("kind", "")), text=reason_text(d.get("reason")))
    if kind == "urgency":
        return _("Urgency %(before)s → %(after)s", before=d.get("before"), after=d.get("after"))
    if kind == "direct_line":
        return _("Put to %(garage)s on the direct line: %(message)s", garage=names.garage(d.get("garage")),
                 message=d.get("message", ""))
    if kind == "direct_line_expired":
        return _("No answer from %(garage)s within %(minutes)s min", garage=names.garage(d.get("garage")),
                 minutes=d.get("minutes"))
    if kind == "direct_line_answer":
        after = seconds_label(d.get("seconds"))
        if d.get("accepted"):
            text = _("%(garage)s accepted after %(after)s: %(when)s", garage=names.garage(d.get("garage")),
                     after=after, when=names.when(d.get("start"), d.get("garage")))
            if d.get("misses_target"):
                text += " — " + _("misses the %(urgency)s target", urgency=d["misses_target"])
            return text
        return _("%(garage)s declined after %(after)s: %(reason)s", garage=names.garage(d.get("garage")),
                 after=after, reason=d.get("reason", ""))
    if kind == "booking":
        text = _("Booked %(when)s at %(garage)s with %(technician)s", when=names.when(d.get("start"), d.get("garage")),
                 garage=names.garage(d.get("garage")),
                 technician=names.technicians.get(d.get("technician"), d.get("technician") or ""))
        return text + (" — " + _("overbooked") if d.get("overbooked") else "")
    if kind == "cancelled":
        return _("Earlier booking %(when)s at %(garage)s cancelled", when=names.when(d.get("start"), d.get("garage")),
                 garage=names.garage(d.get("garage")))
    if kind == "drive_in":
        return _("Drive-in announced at %(garage)s, expected %(when)s", garage=names.garage(d.get("garage")),
                 when=names.when(d.get("expected_at"), d.get("garage")))
    if kind == "drive_in_redirected":
        return _("%(garage)s no longer expects the customer: sent to %(other)s", garage=names.garage(d.get("garage")),
                 other=names.garage(d.get("to")))
    return _job_step(kind, d, names) or ", ".join(f"{k}: {v}" for k, v in d.items())


def _job_step(kind: str, d: dict, names: Names) -> str | None:
    """The job flow's facts (check-in, start, finish, no-show, cancel, moves, more time, arrival)."""
    garage = names.garage(d.get("garage"))
    if kind == "check_in":
        return _("Checked in at %(garage)s ahead of its booking %(when)s", garage=garage,
                 when=names.when(d["booked_for"], d.get("garage"))) if d.get("booked_for") \
            else _("Checked in at %(garage)s", garage=garage)
    if kind == "start":
        return _("Work started at %(garage)s, ahead of its booking %(when)s", garage=garage,
                 when=names.when(d["booked_for"], d.get("garage"))) if d.get("booked_for") \
            else _("Work started at %(garage)s", garage=garage)
    if kind == "finish":
        return _("Work finished at %(garage)s: %(note)s", garage=garage, note=d["note"]) if d.get("note") \
            else _("Work finished at %(garage)s", garage=garage)
    if kind in ("no_show", "cancel"):
        text = _("No-show at %(garage)s", garage=garage) if kind == "no_show" \
            else _("Appointment at %(garage)s cancelled", garage=garage)
        return _("%(label)s: %(text)s", label=text, text=d["reason"]) if d.get("reason") else text
    if kind == "moved":
        before, when = names.when(d.get("before"), d.get("garage")), names.when(d.get("start"), d.get("garage"))
        if d.get("technician_before") and d.get("technician") and d["technician"] != d["technician_before"]:
            text = _("Moved from %(before)s to %(when)s at %(garage)s, now with %(technician)s", before=before,
                     when=when, garage=garage, technician=names.technicians.get(d["technician"], d["technician"]))
        else:
            text = _("Moved from %(before)s to %(when)s at %(garage)s", before=before, when=when, garage=garage)
        # a squeeze-in names the case it made room for; a re-plan (an absence, a job that overran) names none
        why = _("to make room for a squeeze-in") if d.get("cause") else _("re-plan")
        return _("%(text)s (%(why)s)", text=text, why=why)
    if kind == "more_time":
        when = names.when(d.get("end"), d.get("garage"))
        if d.get("asked") is not None and d["asked"] != d.get("minutes"):
            # begun late, its end moved by the late start too: "107 more minutes" was said of 30 asked
            return _("%(asked)s more minutes, after its late start: it ends %(minutes)s minutes after its booked end, "
                     "at %(end)s", asked=d["asked"], minutes=d.get("minutes"), end=when)
        return _("%(minutes)s more minutes: now ends %(when)s", minutes=d.get("minutes"), when=when)
    if kind == "arrived":
        return _("Arrived at %(garage)s", garage=garage)
    if kind == "handed_over":
        return _("Taken over by %(technician)s from %(before)s at %(garage)s",
                 before=names.technicians.get(d.get("technician_before"), d.get("technician_before")),
                 technician=names.technicians.get(d.get("technician"), d.get("technician")), garage=garage)
    if kind == "told_by_phone":
        return _("The customer was told by phone (no e-mail address)")
    if kind == "withdrawn":
        text = _("Closed without a booking")
        return _("%(label)s: %(text)s", label=text, text=d["reason"]) if d.get("reason") else text
    if kind == "stranded":
        return _("No one is on shift any more for the booking of %(when)s at %(garage)s (an absence, a closed day "
                 "or shorter hours)", when=names.when(d.get("start"), d.get("garage")), garage=garage)
    return None
