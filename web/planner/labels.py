"""Readable names of the planner desk's keys, in the reader's language: one place for page, API and CSV."""

from __future__ import annotations

from datetime import date, timedelta  # noqa: F401  (templates use labels.date)

from flask_babel import lazy_gettext as _l

KINDS = {
    "urgency_raise": _l("Urgency raised"), "urgency_lower": _l("Urgency lowered"),
    "direct_line": _l("Direct line"), "squeeze_in": _l("Squeeze-in"), "walk_in": _l("Walk-in"),
    "drive_in": _l("Drive-in (call centre)"), "manual_slot": _l("Slot chosen by hand"), "overbook": _l("Overbooking"),
    "rebook": _l("Booking moved"),
}
RULES = {
    "min_notice": _l("Minimum notice"), "rule_garages": _l("Only the nearest garages"),
    "lifts_full": _l("Lifts full"), "no_technician": _l("No qualified technician free"),
    "travel": _l("Travel time to the garage"), "outside_hours": _l("Outside opening hours"),
    "same_day": _l("Today kept from the call centre"), "p1_reserve": _l("P1 reserve"),
    "none": _l("Not late / unknown"),
}
VERDICTS = {"beat": _l("beat the rules"), "tie": _l("tie"), "lost": _l("lost"), "pending": _l("pending")}
STAGES = {"booking": _l("Booking"), "wait": _l("Wait"), "reception": _l("Reception"), "repair": _l("Repair")}
ROLES = {"reception": _l("reception"), "workshop": _l("workshop")}
TEAMS = {"call centre": _l("Call centre"), "planning": _l("Planning"), "administration": _l("Administration")}
# How every override is judged (API.md, DESIGN.md): one definition, whatever its kind.
JUDGED = _l("Beat = the work started earlier than the rule offer, net of the delay imposed on moved work; exactly "
            "level is a tie.")
LOWERED = _l("A lowered urgency is judged the same way, against the rule offer of the lowered urgency. Its car "
             "coming back worse within 30 days (a more urgent case for the same vehicle, or the case raised again) "
             "is flagged beside it.")
CAME_BACK_WORSE = _l("came back worse")
GROUP_TITLES = {"garage": _l("Garage"), "kind": _l("Kind"), "reason": _l("Reason"), "team": _l("Team"),
                "urgency": _l("Urgency"), "week": _l("Week")}


def garage_names() -> dict[str, str]:
    """Every garage's name by id, in the order a reader looks for them: "Écully" among the E, not after "Villeurbanne"."""
    from web.i18n import garage_name_by_id

    return garage_name_by_id()


def week_label(key: str) -> str:
    monday = date.fromisoformat(key)
    from web.filters import said_date

    return str(_l("Week of %(day)s", day=said_date(monday, weekday="")))


def team_label(team: str, garages: dict[str, str]) -> str:
    if team in TEAMS:
        return str(TEAMS[team])
    garage, _, role = team.rpartition(" ")
    if garage in garages:
        return f"{garages[garage]} — {ROLES.get(role, role)}"
    return team


def label(group_by: str, key: str, garages: dict[str, str]) -> str:
    if key == "(none)":
        return str(_l("(none)"))
    if group_by == "garage":
        return garages.get(key, key)
    if group_by == "kind":
        return str(KINDS.get(key, key))
    if group_by == "team":
        return team_label(key, garages)
    if group_by == "week":
        return week_label(key)
    if group_by == "rule":
        return str(RULES.get(key, key))
    if group_by == "stage":
        return str(STAGES.get(key, key))
    if group_by == "verdict":
        return str(VERDICTS.get(key, key))
    if group_by == "reason":
        from web.filters import reason_text

        return reason_text(key)
    if group_by == "all":
        return str(_l("All overrides"))
    return key


def week_range(key: str) -> tuple[date, date]:
    monday = date.fromisoformat(key)
    return monday, monday + timedelta(days=6)

FIELDS = {
    "rule.garages": _l("Garages the rules look at, nearest first"),
    "rule.min_notice_minutes.P1": _l("Minimum notice for P1 (minutes)"),
    "rule.min_notice_minutes.P2": _l("Minimum notice for P2 (minutes)"),
    "rule.min_notice_minutes.P3": _l("Minimum notice for P3 (minutes)"),
    "search_radius_km": _l("Search radius (km)"),
    "horizon_days": _l("Booking horizon (days)"),
    "p1_reserve_minutes": _l("Kept free for P1, per garage-day (technician minutes)"),
    "same_day_visible": _l("Same-day slots visible to the call centre"),
    "max_moves": _l("Most appointments a squeeze-in may move"),
    "offers": _l("Offers shown per case"),
    "allow_overbook": _l("The call centre may overbook, with a reason (reception decides for its garage)"),
    "direct_line_expiry_minutes": _l("Direct line: minutes to answer"),
    "travel_speed_kmh": _l("Customers’ travel speed (km/h)"),
    "time_limit_seconds": _l("Optimizer time limit (seconds)"),
    "weights.wait.P1": _l("Weight of a P1 minute of wait"),
    "weights.wait.P2": _l("Weight of a P2 minute of wait"),
    "weights.wait.P3": _l("Weight of a P3 minute of wait"),
    "weights.travel_km": _l("Weight of a km of travel"),
    "weights.move": _l("Weight of moving an appointment"),
    "weights.shift_minute": _l("Weight of a minute an appointment moves"),
    "weights.unplaced": _l("Weight of a case left unplaced"),
}
REQUEST_STATUSES = {"accepted": _l("accepted"), "declined": _l("declined"), "expired": _l("expired"),
                    "open": _l("open")}
TIMELINE = {"override": _l("override"), "direct_line_response": _l("garage's answer"),
            "checked_in": _l("check-in"), "work_started": _l("work started"), "work_finished": _l("work finished"),
            "work_cancelled": _l("booking cancelled"), "work_no_show": _l("no-show"), "feedback": _l("feedback")}
