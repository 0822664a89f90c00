"""The planner's API: overrides, their statistics, the rule review, the versioned policy, what-if
replays and the customers' feedback. Every list also answers text/csv (Accept or ?format=csv)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, jsonify, request
from flask_login import current_user

from scheduler.errors import Invalid, NotFound
from scheduler.services import cases, feedback, policies, replays, stats
from scheduler.texts import N_
from web import jobs
from web.api import bp, json_body, require
from web.api.openapi import _json, _op, _ref, _write, add_paths, add_schemas
from web.clock import now
from web.extensions import db
from web.inputs import moment_arg
from web.planner import tables
from web.planner.labels import garage_names

PLANNERS = ("planner", "admin")


@bp.get("/v1/overrides")
def overrides_list():
    require(*PLANNERS)
    garages = garage_names()
    rows = [tables.override_row(o, garages) for o in stats.list_overrides(db.session, tables.filters_from_args())]
    if tables.wants_csv():
        return tables.csv_response([tables.override_csv_row(r) for r in rows], tables.OVERRIDE_COLUMNS, "overrides")
    return jsonify(rows)


@bp.get("/v1/stats/overrides")
def stats_overrides():
    require(*PLANNERS)
    group_by = request.args.get("group_by", "kind")
    f = tables.filters_from_args()
    if group_by == "week" and f.start and not f.end:  # a period from a day on runs to now: its empty weeks too
        f.end = max(now(), f.start + timedelta(minutes=1))
    groups = stats.summarize(stats.list_overrides(db.session, f), group_by, f)
    rows = tables.group_rows(groups, group_by, garage_names())
    if tables.wants_csv():
        return tables.csv_response(rows, tables.GROUP_COLUMNS, f"overrides-by-{group_by}")
    return jsonify(rows)


@bp.get("/v1/stats/summary")
def stats_summary():
    require(*PLANNERS)
    total = stats.totals(stats.list_overrides(db.session, tables.filters_from_args()))
    rows = tables.group_rows([total], "all", {})
    if tables.wants_csv():
        return tables.csv_response(rows, tables.GROUP_COLUMNS, "overrides-summary")
    return jsonify(rows[0])


@bp.get("/v1/stats/rules")
def stats_rules():
    require(*PLANNERS)
    rows = tables.rule_rows(stats.rule_review(stats.list_overrides(db.session, tables.filters_from_args())))
    if tables.wants_csv():
        return tables.csv_response(rows, tables.RULE_COLUMNS, "rule-review")
    return jsonify(rows)


@bp.get("/v1/stats/feedback")
def stats_feedback():
    require(*PLANNERS)
    f = tables.filters_from_args()
    by_stage, by_garage = tables.satisfaction_rows(*stats.satisfaction(db.session, f), garage_names())
    per = request.args.get("per", "stage")
    if per not in ("stage", "garage"):
        raise Invalid(N_("%(name)s must be one of %(allowed)s."), words={"name": "per", "allowed": "stage, garage"},
                      field="per")
    rows = by_stage if per == "stage" else by_garage
    if tables.wants_csv():
        columns = ["stage", "label", "answers", "average"] if per == "stage" else \
            ["garage", "label", "answers", "average", "booking", "wait", "reception", "repair"]
        return tables.csv_response(rows, columns, f"satisfaction-by-{per}")
    return jsonify(rows)


@bp.get("/v1/policy")
def policy_read():
    require()
    if request.args.get("at"):
        at = moment_arg("at", request.args["at"], end=False)
        version = policies.in_force_then(db.session, at)
        if version is None:  # before the first version nothing was in force: not the first version's word for it
            raise NotFound(N_("No policy version was in force at %(at)s: the first one dates from later."),
                           words={"at": at.isoformat()})
    else:
        version = policies.in_force(db.session, now())
    return jsonify(policies.as_dict(version, policies.creators(db.session, [version])))


@bp.get("/v1/policy/versions")
def policy_versions():
    require(*PLANNERS)
    found = policies.versions(db.session)
    names = policies.creators(db.session, found)
    rows = [policies.as_dict(p, names) for p in found]
    if tables.wants_csv():
        flat = [{**{k: r[k] for k in ("version", "created_at", "created_by", "note")},
                 **{path: policies.value_at(p, path) for path in policies.PATHS}} for r, p in zip(rows, found)]
        return tables.csv_response(flat, ["version", "created_at", "created_by", "note", *policies.PATHS],
                                   "policy-versions")
    return jsonify(rows)


@bp.post("/v1/policy")
def policy_change():
    require(*PLANNERS)
    version = policies.change(db.session, current_user, json_body(), now(), restated=True)
    body = policies.as_dict(version, {current_user.id: current_user.username})
    return jsonify(body), 201


@bp.post("/v1/replays")
def replay_start():
    require(*PLANNERS)
    replay = replays.create(db.session, current_user, json_body(), now(), runner=jobs.runner())
    body = {"id": replay.id, "status": replay.status, "progress": 0.0, "params": replay.params}
    jobs.start_replay(replay.id)
    return jsonify(body), 202, {"Location": f"/api/v1/replays/{replay.id}"}


@bp.get("/v1/replays")
def replay_list():
    require(*PLANNERS)
    rows = [r.to_dict() for r in replays.recent(db.session, 50)]
    if tables.wants_csv():
        flat = [{**{k: r[k] for k in ("id", "status", "progress", "created_by", "created_at", "finished_at")},
                 "from": r["params"]["from"], "to": r["params"]["to"],
                 "policy": ";".join(f"{k}={v}" for k, v in r["params"]["policy"].items())} for r in rows]
        return tables.csv_response(flat, ["id", "status", "progress", "from", "to", "policy", "created_by",
                                          "created_at", "finished_at"], "replays")
    return jsonify(rows)


@bp.get("/v1/replays/<int:replay_id>")
def replay_read(replay_id: int):
    require(*PLANNERS)
    return jsonify(replays.get(db.session, replay_id).to_dict())


@bp.post("/v1/cases/<int:case_id>/feedback")
def feedback_give(case_id: int):
    if not request.is_json and "token" not in request.args:
        require()  # no body that could carry the customer's link, nobody logged in: 401 before "send JSON"
    data = json_body()
    token = data.get("token") or request.args.get("token")
    by = None
    if token is not None:
        case = feedback.case_for_token(db.session, token, current_app.config["SECRET_KEY"], case_id)
    else:
        require()
        case = cases.get_case(db.session, current_user, case_id)
        by = current_user
    given = feedback.give(db.session, case, data.get("stage"), data.get("score"), data.get("comment"), now(), by)
    body = feedback.to_dict(given)
    return jsonify(body), 201


# -- OpenAPI: this module documents its own routes ------------------------------------------------
_CSV = {"description": "Also text/csv: send Accept: text/csv or ?format=csv."}
_PERIOD = [
    {"name": "from", "in": "query", "schema": {"type": "string"}, "description": "First day (YYYY-MM-DD, network "
                                                                                 "time) or a time with an offset"},
    {"name": "to", "in": "query", "schema": {"type": "string"}, "description": "Last day, inclusive, or a time"},
    *[{"name": n, "in": "query", "schema": {"type": "string"}} for n in tables.FILTER_NAMES],
    {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}},
]
_arr = lambda ref: {"type": "array", "items": _ref(ref)}
_num = {"type": "number", "nullable": True}
_int = {"type": "integer"}
add_schemas({
    "Override": {"type": "object", "properties": {
        "id": _int, "case": _int, "kind": {"type": "string"}, "kind_label": {"type": "string"},
        "reason": {"type": "string"}, "team": {"type": "string"}, "urgency": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"}, "garage": {"type": "string", "nullable": True},
        "rule_offer": {"type": "object", "nullable": True}, "result": {"type": "object", "nullable": True},
        "actual_start": {"type": "string", "nullable": True}, "gain_minutes": {"type": "integer", "nullable": True},
        "knock_on_minutes": _int, "verdict": {"type": "string", "enum": ["beat", "tie", "lost", "pending"]},
        "came_back_worse": {"type": "boolean", "nullable": True,
                            "description": "a lowered urgency whose car came back worse within 30 days; null for "
                                           "the other kinds"},
        "rule_reasons": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}, "free_at": {"type": "string", "nullable": True},
            "garage": {"type": "string", "nullable": True}, "minutes": {"type": "integer", "nullable": True}}}}}},
    "OverrideGroup": {"type": "object", "properties": {
        "key": {"type": "string"}, "label": {"type": "string"}, **{k: _int for k in (
            "count", "beat", "tie", "lost", "pending", "gain_minutes_total", "knock_on_minutes_total")},
        "gain_minutes_median": _num}},
    "RuleGroup": {"type": "object", "properties": {
        "rule": {"type": "string"}, "label": {"type": "string"}, **{k: _int for k in (
            "overrides", "beat", "tie", "lost", "pending", "gain_minutes_total", "late_minutes_total")},
        "gain_minutes_median": _num}},
    "Policy": {"type": "object", "properties": {
        "version": _int, "created_at": {"type": "string"}, "created_by": {"type": "string", "nullable": True},
        "note": {"type": "string"}, "rule": {"type": "object", "properties": {
            "garages": _int, "min_notice_minutes": {"type": "object", "additionalProperties": _int}}},
        "search_radius_km": {"type": "number"}, "p1_reserve_minutes": _int, "max_moves": _int,
        "travel_speed_kmh": {"type": "number"}, "weights": {"type": "object"}}},
    "Replay": {"type": "object", "properties": {
        "id": _int, "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "progress": {"type": "number"}, "params": {"type": "object"},
        "result": {"type": "object", "nullable": True, "description": "{cases, p1: {rules, humans, changed}, p2, "
                   "p3, overrides: {total, unnecessary}, not_replayed: [the changed fields no rule offer reads]}; each of "
                   "rules/humans/changed is {cases, placed, unplaced, median_minutes, p90_minutes, same_day_share}"}}},
    "Feedback": {"type": "object", "properties": {"id": _int, "case": _int, "stage": {"type": "string"},
                                                  "score": _int, "comment": {"type": "string"},
                                                  "created_at": {"type": "string", "format": "date-time"},
                                                  "recorded_by": {"type": "string", "nullable": True,
                                                                  "description": "the team that typed it in for "
                                                                                 "the customer (never the person); "
                                                                                 "null: the customer"}}},
})
add_paths({
    "/api/v1/overrides": {"get": {**_op("Overrides of a period, newest first, with their verdict (every kind "
                                        "judged by its net gain against its rule offer)", "planner, admin",
                                        _json(_arr("Override")), errors=(400, 401, 403), params=_PERIOD)}},
    "/api/v1/stats/overrides": {"get": _op(
        "Overrides grouped by garage, kind, reason, team, urgency or week (weeks in date order, empty ones "
        "included)", "planner, admin", _json(_arr("OverrideGroup")), errors=(400, 401, 403),
        params=[{"name": "group_by", "in": "query", "schema": {"type": "string", "enum": list(stats.GROUPS)}},
                *_PERIOD])},
    "/api/v1/stats/summary": {"get": _op("The period's totals (also text/csv, one row)", "planner, admin",
                                         {**_json(_ref("OverrideGroup")), "content": {
                                             "application/json": {"schema": _ref("OverrideGroup")},
                                             "text/csv": {"schema": {"type": "string"}}}},
                                         errors=(400, 401, 403), params=_PERIOD)},
    "/api/v1/stats/rules": {"get": _op("Rule review: which rule made the rule offer late, how often people beat it "
                                       "and by how much; the rule to change first comes first", "planner, admin",
                                       _json(_arr("RuleGroup")), errors=(400, 401, 403), params=_PERIOD)},
    "/api/v1/stats/feedback": {"get": _op("Customers' satisfaction (0–10) per stage or per garage; never per person",
                                          "planner, admin", _json({"type": "array", "items": {"type": "object"}}),
                                          errors=(400, 401, 403),
                                          params=[{"name": "per", "in": "query",
                                                   "schema": {"type": "string", "enum": ["stage", "garage"]}},
                                                  *_PERIOD])},
    "/api/v1/policy": {
        "get": _op("The policy version in force (now, or ?at=TIME)", "all", _json(_ref("Policy")),
                   errors=(400, 401), params=[{"name": "at", "in": "query", "schema": {"type": "string"}}]),
        "post": _write("Change the policy: the changed fields (same shape as GET, or dotted paths such as "
                       "rule.min_notice_minutes.P1) make a new version; versions are never edited. 400 names a "
                       "bad field; 409 when the `version` sent (the one the change was read from) is no longer in "
                       "force.", "planner, admin", 201, _json(_ref("Policy"), "The new version"),
                       {"type": "object"}, (400, 401, 403, 409)),
    },
    "/api/v1/policy/versions": {"get": _op("Every policy version, newest first, with who and when", "planner, admin",
                                           _json(_arr("Policy")), errors=(401, 403))},
    "/api/v1/replays": {
        "post": _write("What-if replay of the recorded demand of a period under a changed policy; runs as a job "
                       "(inline, or on RQ workers when FRONTLINE_REDIS_URL is set)", "planner, admin", 202,
                       _json(_ref("Replay"), "Queued"),
                       {"type": "object", "required": ["from", "to"], "properties": {
                           "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
                           "policy": {"type": "object"}}}, (400, 401, 403)),
        "get": _op("The latest replays", "planner, admin", _json(_arr("Replay")), errors=(401, 403)),
    },
    "/api/v1/replays/{id}": {"get": _op("A replay's status, progress and figures", "planner, admin",
                                        _json(_ref("Replay")), errors=(401, 403, 404),
                                        params=[{"name": "id", "in": "path", "required": True,
                                                 "schema": {"type": "integer"}}])},
    "/api/v1/cases/{id}/feedback": {"post": _write(
        "Rate a stage of the case (booking, wait, reception, repair) 0–10; by a user in scope, or by the "
        "customer with the link token ({token} in the body or ?token=). Rating a stage again replaces it (and keeps "
        "its comment when none is given); a colleague's entry never replaces the customer's own (409). Any stage at "
        "any time (the customer's page asks only about the stages that have happened).",
        "all in scope; the customer's link token", 201, _json(_ref("Feedback"), "Recorded"),
        {"type": "object", "required": ["stage", "score"], "properties": {
            "stage": {"type": "string", "enum": ["booking", "wait", "reception", "repair"]},
            "score": {"type": "integer", "minimum": 0, "maximum": 10}, "comment": {"type": "string"},
            "token": {"type": "string"}}}, (400, 401, 403, 404, 409),
        [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}])},
})
