"""The planner desk: did people beat the rules, which rule to change, what a changed policy would do."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from scheduler.errors import DomainError, Forbidden, Invalid
from scheduler.models import KINDS, URGENCIES, Appointment, DirectLineRequest, Feedback, Override
from scheduler.models.override import RULE_CODES, VERDICTS
from scheduler.services import cases, feedback, policies, replays, stats
from web import jobs
from web.auth import roles_required
from web.clock import now
from web.extensions import db
from web.filters import said_date
from web.planner import charts, labels, tables
from web.refusals import refusal_text

bp = Blueprint("planner", __name__, url_prefix="/planner")
DEFAULT_WEEKS = 12


def _today():
    return now().astimezone(ZoneInfo(current_app.config["NETWORK_TIMEZONE"])).date()


def _filters(endpoint: str):
    """The page's filters, or (None, the page without them) with the refusal flashed: a bad date in a typed
    address leaves the planner on their page with the reason, not on a bare 400."""
    try:
        return tables.filters_from_args(DEFAULT_WEEKS, _today(), said={"from": _("From"), "to": _("To")}), None
    except DomainError as exc:
        flash(refusal_text(exc), "error")
        # the other filters stand: only the refused one goes (it was read as the page's default)
        kept = {k: v for k, v in request.args.items() if k != exc.details.get("field")}
        if kept == request.args.to_dict():
            # the refused end was the default one (a start after today, no end typed): the period goes, or the page
            # sent the planner to itself until the browser gave up (ERR_TOO_MANY_REDIRECTS)
            kept = {k: v for k, v in kept.items() if k not in ("from", "to")}
        return None, redirect(url_for(endpoint, **kept))


@bp.get("/")
@roles_required("planner", "admin")
def overrides():
    """The dashboard of a period: totals, weeks, breakdowns, rule review and satisfaction."""
    f, refused = _filters("planner.overrides")
    if refused:
        return refused
    garages = labels.garage_names()
    rows = stats.list_overrides(db.session, f)
    total = tables.group_rows([stats.totals(rows)], "all", garages)[0]
    try:
        weeks = tables.group_rows(stats.summarize(rows, "week", f), "week", garages)
    except DomainError as exc:  # a period too long to draw week by week: the page's default period instead
        flash(refusal_text(exc), "error")
        return redirect(url_for("planner.overrides", **{k: v for k, v in request.args.items()
                                                        if k not in ("from", "to")}))
    for w in weeks:
        w["short"] = said_date(labels.date.fromisoformat(w["key"]), weekday="")
    query = f.query()

    def drill(group_by):
        return lambda r: url_for("planner.override_list", **f.narrowed(group_by, r["key"]))

    breakdowns = []
    for group_by in ("garage", "kind", "reason", "team", "urgency"):
        grouped = tables.group_rows(stats.summarize(rows, group_by, f), group_by, garages)
        title = _("Overrides by %(what)s", what=str(labels.GROUP_TITLES[group_by]).lower())
        breakdowns.append({"by": group_by, "title": title, "rows": grouped,
                           "chart": charts.bars(grouped, drill(group_by), title), "link": drill(group_by)})
    rules = [r for r in tables.rule_rows(stats.rule_review(rows)) if r["rule"] != "none"]  # late for no rule: none to change
    by_stage, by_garage = tables.satisfaction_rows(*stats.satisfaction(db.session, f), garages)
    return render_template(
        "planner/dashboard.html", f=f, query=query, total=total, weeks=weeks,
        week_chart=charts.weekly(weeks, drill("week"), _("Overrides per week")), breakdowns=breakdowns,
        rules=rules[:RULES_SHOWN], more_rules=max(0, len(rules) - RULES_SHOWN),
        by_stage=by_stage, by_garage=by_garage, garages=garages, kinds=KINDS, urgencies=URGENCIES, labels=labels,
        drill=drill, latest=rows[:10])


# The rules the dashboard shows, most costly first; the rule review has them all.
RULES_SHOWN = 5


@bp.get("/overrides")
@roles_required("planner", "admin")
def override_list():
    """The overrides behind a figure: every number of the dashboard links here with its filters."""
    f, refused = _filters("planner.override_list")
    if refused:
        return refused
    garages = labels.garage_names()
    found = stats.list_overrides(db.session, f)
    rows = [tables.override_row(o, garages) for o in found]
    return render_template("planner/overrides.html", f=f, query=f.query(), rows=rows, garages=garages,
                           total=tables.group_rows([stats.totals(found)], "all", {})[0],
                           labels=labels, verdicts=VERDICTS, rule_codes=RULE_CODES)


@bp.get("/rules")
@roles_required("planner", "admin")
def rules():
    f, refused = _filters("planner.rules")
    if refused:
        return refused
    found = tables.rule_rows(stats.rule_review(stats.list_overrides(db.session, f)))
    peak = max([r["gain_minutes_total"] for r in found] + [1])
    return render_template("planner/rules.html", f=f, query=f.query(), rules=found, peak=peak, labels=labels)


def _timeline(case) -> list[dict]:
    """The case from call to feedback, from stored facts: what the planner needs to judge an override."""
    from flask_babel import get_locale

    from web.timeline import Names, describe, kind_label

    events = [e for e in case.events if e.kind not in ("override", "direct_line_answer")]  # told below, from facts
    names, locale = Names(db.session, events), str(get_locale() or "en")
    entries = [{"at": e.at, "kind": e.kind, "label": kind_label(e.kind), "text": describe(e, names, locale),
                "actor": e.actor.team if e.actor else None} for e in events]
    garages = labels.garage_names()
    for o in db.session.scalars(select(Override).where(Override.case_id == case.id)):
        entries.append({"at": o.created_at, "kind": "override", "override": o,
                        "row": tables.override_row(o, garages), "actor": o.team})
    for r in db.session.scalars(select(DirectLineRequest).where(DirectLineRequest.case_id == case.id)):
        if r.answered_at:
            entries.append({"at": r.answered_at, "kind": "direct_line_response", "request": r,
                            "garage": garages.get(r.garage_id, r.garage_id)})
    logged = {e.kind for e in events}  # the job flow logs its steps; older cases have only the times
    for a in db.session.scalars(select(Appointment).where(Appointment.case_id == case.id)):
        if a.checked_in_at and "check_in" not in logged:
            entries.append({"at": a.checked_in_at, "kind": "checked_in", "appointment": a})
        if a.started_at and "start" not in logged:
            entries.append({"at": a.started_at, "kind": "work_started", "appointment": a})
        if a.finished_at and "finish" not in logged:
            entries.append({"at": a.finished_at, "kind": "work_finished", "appointment": a})
        # work that never happened ends the story: without it an override's "pending" verdict reads as unexplained
        told = {"no_show": {"no_show"}, "cancelled": {"cancel", "cancelled"}}.get(a.status)
        if told is not None and not told & logged:  # older cases: the booked time is when it did not happen
            entries.append({"at": a.start_at, "kind": f"work_{a.status}", "appointment": a})
    for fb in db.session.scalars(select(Feedback).where(Feedback.case_id == case.id)):
        entries.append({"at": fb.created_at, "kind": "feedback", "feedback": fb})
    return sorted(entries, key=lambda e: e["at"])


@bp.get("/cases/<int:case_id>")
@roles_required("planner", "admin")
def case(case_id: int):
    found = cases.get_case(db.session, current_user, case_id)
    link = url_for("feedback_page.rate", token=feedback.token_for(found.id, current_app.config["SECRET_KEY"]),
                   _external=True)
    return render_template("planner/case.html", case=found, timeline=_timeline(found), labels=labels,
                           garages=labels.garage_names(), feedback_link=link, back=request.args.get("back"))


# -- the policy -------------------------------------------------------------------------------

def _field_rows(policy) -> list[tuple[str, object]]:
    return [(path, policies.value_at(policy, path)) for path in policies.PATHS]


@bp.get("/policy")
@roles_required("planner", "admin")
def policy():
    return _policy_page(error_field=request.args.get("field"))


def _policy_page(error_field: str | None = None, typed: dict | None = None, status: int = 200):
    current = policies.in_force(db.session, now())
    versions = policies.versions(db.session)
    history = [(v, policies.differences(versions[i + 1], v) if i + 1 < len(versions) else [])
               for i, v in enumerate(versions)]
    return render_template("planner/policy.html", labels=labels, current=current, fields=_field_rows(current),
                           history=history, names=policies.creators(db.session, versions, named=True), error_field=error_field,
                           typed=typed or {}), status


@bp.post("/policy")
@roles_required("planner", "admin")
def policy_change():
    current = policies.in_force(db.session, now())
    changes: dict = {}
    rows = _field_rows(current)
    for path, value in rows:
        given = request.form.get(path)
        if isinstance(value, bool):
            # a ticked box sends "off" (the hidden field before it) and "on"; a form without the field changes nothing
            sent = request.form.getlist(path)
            if sent and ("on" in sent) != value:
                changes[path] = "on" in sent
        elif given is not None and given.strip() != "" and given.strip() != f"{value:g}":
            changes[path] = policies.typed(path, given)
    if request.form.get("note", "").strip():
        changes["note"] = request.form["note"]
    read = request.form.get("version", "").strip()
    try:
        # the fields are compared with the version the page showed: a colleague's save since then would be undone
        policies.not_stale({"version": int(read) if read.isdigit() else read or None}, current)
        if not [c for c in changes if c != "note"]:
            raise Invalid(_("Nothing changed: edit a field first."), field="policy")
        version = policies.change(db.session, current_user, changes, now())
    except DomainError as exc:
        db.session.rollback()
        _by_label(exc)
        flash(_("Not saved: %(message)s", message=refusal_text(exc)), "error")
        if exc.status == 409:  # saved by a colleague meanwhile: their values, not the ones typed over the old ones
            return redirect(url_for("planner.policy"))
        # the page again, as typed: a redirect would show the saved values and lose every field but the bad one
        typed = {path: "on" in request.form.getlist(path) if isinstance(value, bool) else request.form[path]
                 for path, value in rows if isinstance(value, bool) or path in request.form}
        typed["note"] = request.form.get("note", "")
        return _policy_page(exc.details.get("field"), typed, exc.status)
    flash(_("Policy version %(n)s is in force from now on.", n=version.version), "success")
    return redirect(url_for("planner.policy"))


# -- what-if replays --------------------------------------------------------------------------

REPLAY_FIELDS = ["rule.garages", "rule.min_notice_minutes.P1", "rule.min_notice_minutes.P2",
                 "rule.min_notice_minutes.P3", "p1_reserve_minutes", "search_radius_km", "travel_speed_kmh"]


def _by_label(exc: DomainError) -> DomainError:
    """A refusal naming a policy field names it by its label, as the page shows it (not search_radius_km)."""
    if exc.words.get("path") in labels.FIELDS:
        exc.words["path"] = labels.FIELDS[exc.words["path"]]
    return exc


@bp.get("/replays")
@roles_required("planner", "admin")
def replay_list():
    return _replay_page(request.args)


def _replay_page(typed, status: int = 200):
    """The replay form; `typed`: a refused replay's fields as sent, shown again whole (a redirect carried them in the
    address, cut to fit, and a cut value was still a valid one: 45 came back as 4)."""
    today = _today()
    current = policies.in_force(db.session, now())
    return render_template("planner/replays.html", labels=labels, replays=replays.recent(db.session, 15),
                           current={p: policies.value_at(current, p) for p in REPLAY_FIELDS}, fields=REPLAY_FIELDS,
                           default_from=typed.get("from") or (today - timedelta(days=30)).isoformat(),
                           default_to=typed.get("to") or (today - timedelta(days=1)).isoformat(),
                           typed=typed, runner=jobs.runner()), status


@bp.post("/replays")
@roles_required("planner", "admin")
def replay_start():
    try:
        return _replay_start()
    except Forbidden:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(refusal_text(_by_label(exc)), "error")
        return _replay_page(request.form, 400)


def _replay_start():
    changes = {p: policies.typed(p, request.form[p]) for p in REPLAY_FIELDS if request.form.get(p, "").strip()}
    for line in request.form.get("other", "").splitlines():
        if line.strip():
            path, sep, value = line.partition("=")
            if not sep:
                raise Invalid(_("Write other changes as path=value, one per line."), field="other")
            changes[path.strip()] = policies.typed(path.strip(), value)
    # The form shows the rules in force today: a value left as shown is no change, unless the period was
    # played under other values (a rule changed since), in which case it is what the planner wants to try.
    then = _period_versions(request.form.get("from"), request.form.get("to"))
    changes = {p: v for p, v in changes.items() if p not in policies.PATHS or
               not all(_same(policies.value_at(version, p), v) for version in then)}
    replay = replays.create(db.session, current_user, {"from": request.form.get("from"), "to": request.form.get("to"),
                                                       "policy": changes}, now(), runner=jobs.runner())
    jobs.start_replay(replay.id)
    return redirect(url_for("planner.replay", replay_id=replay.id))


def _period_versions(first: str | None, last: str | None) -> list:
    """The policy versions in force over the period typed, and today's (a period that cannot be read
    is refused by the replay itself)."""
    versions = [policies.in_force(db.session, now())]
    try:
        start, end = replays.period({"from": (first or "")[:10], "to": (last or "")[:10]})
    except (ValueError, OverflowError):  # 9999-12-31's next day: the replay refuses it with a 400
        return versions
    return versions + policies.in_force_over(db.session, start, end)


def _same(value, given: str | bool | float) -> bool:
    """Whether a value typed (as `policies.typed` reads it) is the one a version has."""
    if isinstance(given, bool) or isinstance(value, bool):
        return value is given
    return isinstance(given, (int, float)) and given == float(value)


@bp.get("/replays/<int:replay_id>")
@roles_required("planner", "admin")
def replay(replay_id: int):
    found = replays.get(db.session, replay_id)
    current = policies.in_force(db.session, now())
    return render_template("planner/replay.html", replay=found, urgencies=URGENCIES, labels=labels,
                           in_force=_in_force_already(found, current), then=_rules_then(found, current),
                           unplayed=[labels.FIELDS.get(p, p) for p in replays.not_replayed(found.params)])


def _rules_then(replay, current) -> dict | None:
    """When the period ran under other rules than those in force now, beyond what the replay changes: which
    versions, which fields. Its figures compare the rules then with them changed, while applying the changes puts
    them on the version in force now; the page says so rather than let "rules" read as today's."""
    then = replays.versions_over(db.session, replay)
    tried = set(replay.params.get("policy") or {})
    fields = sorted({p for version in then for p, _was, _now in policies.differences(version, current)
                     if p not in tried})
    if not fields:
        return None
    return {"versions": sorted({v.version for v in then}), "now": current.version,
            "fields": [labels.FIELDS.get(p, p) for p in fields]}


@bp.get("/replays/<int:replay_id>/progress")
@roles_required("planner", "admin")
def replay_progress(replay_id: int):
    found = replays.get(db.session, replay_id)
    return render_template("planner/_replay_progress.html", replay=found, urgencies=URGENCIES,
                           in_force=_in_force_already(found))


def _in_force_already(replay, current=None) -> int | None:
    """The version in force when it already has every value the replay tried (applied, or changed since to the
    same): its page then says so instead of offering to apply them again."""
    if replay.status != "done":  # the page offers to apply them once it is done; its polls ask nothing
        return None
    tried = {p: v for p, v in (replay.params.get("policy") or {}).items() if p in policies.PATHS}
    current = current or policies.in_force(db.session, now())
    if tried and all(_same(policies.value_at(current, p), v) for p, v in tried.items()):
        return current.version
    return None


# -- the customer's feedback page (no login: the link token is the key) -------------------------

feedback_bp = Blueprint("feedback_page", __name__, url_prefix="/feedback")


@feedback_bp.get("/<token>")
def rate(token: str):
    try:
        found = feedback.case_for_token(db.session, token, current_app.config["SECRET_KEY"])
    except DomainError as exc:
        abort(exc.status, description=refusal_text(exc))
    reached = feedback.stages_reached(found)
    return render_template("planner/feedback.html", case=found, token=token, given=feedback.given(db.session, found),
                           stages={k: v for k, v in labels.STAGES.items() if k in reached},
                           later=len(reached) < len(labels.STAGES))


@feedback_bp.post("/<token>")
def rate_post(token: str):
    try:
        found = feedback.case_for_token(db.session, token, current_app.config["SECRET_KEY"])
        earlier = feedback.given(db.session, found)
        comment = request.form.get("comment", "").strip() or None  # none typed: each stage keeps the one it has
        for stage in feedback.stages_reached(found):  # the page asks about what happened, and reads only that
            score = request.form.get(stage, "").strip()
            if score:
                if not score.isdecimal():
                    raise Invalid(_("Scores are whole numbers from 0 to 10."), field=stage)
                before = earlier.get(stage)
                # a score the page showed ticked again is not rated again: coming back to rate the repair must
                # not touch the booking's score, nor its comment
                if before is None or before.score != int(score) or before.recorded_by_id is not None or comment:
                    feedback.give(db.session, found, stage, int(score), comment, now())
    except DomainError as exc:
        db.session.rollback()
        flash(refusal_text(exc), "error")
        return redirect(url_for("feedback_page.rate", token=token))
    flash(_("Thank you: your answers go to the whole team that handled your car."), "success")
    return redirect(url_for("feedback_page.rate", token=token))


@bp.app_template_filter("without")
def without(query: dict, names: list[str]) -> dict:
    return {k: v for k, v in query.items() if k not in names}


@bp.app_template_filter("share")
def share(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


@bp.app_template_filter("fromiso")
def fromiso(value: str | None):
    from datetime import datetime

    return datetime.fromisoformat(value) if value else None
