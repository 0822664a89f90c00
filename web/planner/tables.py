"""The planner desk's tables: one builder per table, read by the page, the JSON API and the CSV alike."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

from flask import Response, request
from flask_babel import gettext as _

from scheduler.errors import Invalid
from scheduler.models import Override
from scheduler.models.user import teams
from scheduler.services import stats
from scheduler.services.stats import Filters, local_day_start
from web.filters import reason_text
from web.i18n import garage_name_by_id
from web.inputs import moment_arg
from web.planner import labels

FILTER_NAMES = ("garage", "kind", "urgency", "team", "reason", "verdict", "rule")
GROUP_COLUMNS = ["key", "label", "count", "beat", "tie", "lost", "pending", "gain_minutes_total",
                 "gain_minutes_median", "knock_on_minutes_total"]
RULE_COLUMNS = ["rule", "label", "overrides", "beat", "tie", "lost", "pending", "gain_minutes_total",
                "gain_minutes_median", "late_minutes_total"]
OVERRIDE_COLUMNS = ["id", "case", "created_at", "kind", "kind_label", "urgency", "garage", "garage_label", "team",
                    "team_label", "reason", "rule_start", "rule_garage", "result_start", "actual_start",
                    "gain_minutes", "knock_on_minutes", "verdict", "came_back_worse", "rules_late",
                    # the JSON's rule_offer and result whole, as dotted columns like every other list's CSV
                    *(f"{part}.{key}" for part in ("rule_offer", "result")
                      for key in ("garage", "technician", "start", "end"))]


def filters_from_args(default_weeks: int | None = None, today: date | None = None,
                      said: dict[str, str] | None = None) -> Filters:
    """The filters of the address; `said`: the period's fields as the page names them, for its refusals."""
    args = request.args
    said = said or {}
    f = Filters()
    if args.get("from"):
        f.start = moment_arg("from", args["from"], end=False, said=said.get("from"))
    elif default_weeks and today:
        f.start = local_day_start(today - timedelta(days=today.weekday() + 7 * (default_weeks - 1)))
    if args.get("to"):
        f.end = moment_arg("to", args["to"], end=True, said=said.get("to"))
    elif default_weeks and today:
        f.end = local_day_start(today + timedelta(days=1))
        if f.start is not None and f.start >= f.end:  # only a day to come typed: a week from it, not "ends first"
            f.end = f.start + timedelta(days=7)
    for name in FILTER_NAMES:
        value = args.get(name, "").strip()
        setattr(f, name, value or None)
    if f.garage is not None and f.garage not in garage_name_by_id():
        # a typo read as "no overrides at that garage": zeros a planner would believe
        raise Invalid(_("No garage %(garage)s.", garage=repr(f.garage[:40])) if said else
                      _("No garage %(garage)s: see GET /api/v1/garages.", garage=repr(f.garage[:40])), field="garage")
    if f.team is not None and f.team not in teams(garage_name_by_id()):  # the same silent zero as a mistyped garage
        raise Invalid(_("No team %(team)s: the call centre, or a garage's reception or workshop (e.g. %(example)s).",
                        team=repr(f.team[:40]), example="lyon-07 reception"), field="team")
    return f.check()


def override_row(o: Override, garages: dict[str, str]) -> dict:
    return {**o.to_dict(), "kind_label": labels.label("kind", o.kind, garages),
            "garage_label": garages.get(o.garage_id, o.garage_id) if o.garage_id else None,
            "team_label": labels.team_label(o.team, garages),
            "verdict_label": labels.label("verdict", o.verdict, garages),
            "reason": stats.reason_key(o) if o.kind == "direct_line" else o.reason, "message": o.reason,
            # the page's words; the API and the CSV keep the reason as stored (the ?reason= filter takes it, or its group)
            "reason_label": reason_text(stats.reason_key(o) if o.kind == "direct_line" else o.reason)}


def override_csv_row(row: dict) -> dict:
    rule, result = row["rule_offer"] or {}, row["result"] or {}
    return {**row, "rule_start": rule.get("start"), "rule_garage": rule.get("garage"),
            "result_start": result.get("start"), "rules_late": ";".join(r["code"] for r in row["rule_reasons"]),
            **{f"rule_offer.{k}": v for k, v in rule.items()}, **{f"result.{k}": v for k, v in result.items()}}


def group_rows(groups: list[stats.OverrideGroup], group_by: str, garages: dict[str, str]) -> list[dict]:
    return [{"key": g.key, "label": labels.label(group_by, g.key, garages), **{k: v for k, v in g.to_dict().items()
                                                                              if k != "key"}} for g in groups]


def rule_rows(rules: list[stats.RuleGroup]) -> list[dict]:
    return [{"rule": r.rule, "label": labels.label("rule", r.rule, {}), **{k: v for k, v in r.to_dict().items()
                                                                          if k != "rule"}} for r in rules]


def satisfaction_rows(stages: list[stats.Satisfaction], garages_sat: list[stats.Satisfaction],
                      garages: dict[str, str]) -> tuple[list[dict], list[dict]]:
    by_stage = [{"stage": s.key, "label": labels.label("stage", s.key, garages), "answers": s.answers,
                 "average": s.average} for s in stages]
    by_garage = [{"garage": s.key, "label": garages.get(s.key, s.key), "answers": s.answers, "average": s.average,
                  **{stage: value for stage, value in s.by_stage.items()}} for s in garages_sat]
    return by_stage, by_garage


def wants_csv() -> bool:
    """`?format=csv` (any case), or an Accept header that names text/csv (with any parameters) at least as
    high as application/json, the first named winning a tie: `text/csv, */*` and `text/csv; charset=utf-8`
    are CSV. A header naming neither falls back to the media ranges (`text/*` is CSV, `*/*` JSON)."""
    if request.args.get("format", "").strip().lower() == "csv":
        return True
    # werkzeug has parsed the header, highest quality first and in the header's order among equals; it matches
    # "text/csv; charset=utf-8" to no text/csv, so the media type is read without its parameters here
    named = [(value.split(";")[0].strip().lower(), quality) for value, quality in request.accept_mimetypes]
    named = [(kind, quality) for kind, quality in named if kind in ("text/csv", "application/json")]
    if named:
        kind, quality = named[0]
        return kind == "text/csv" and quality > 0
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv" and request.accept_mimetypes["text/csv"] > request.accept_mimetypes["application/json"]


# A typed text a spreadsheet would run as a formula (=HYPERLINK(...), @SUM(...), +cmd|...): OWASP's CSV injection.
# A number or a phone number (-15, +33 6 12 34 56 78) is data, and stays as it is.
FORMULA = re.compile(r"^(?:[=@\t\r]|[+-](?![\d\s().]*$))")


def cell(value: object, decimal: str = ".") -> object:
    """A value as a CSV cell: empty for None; true/false as the JSON says them; a text a spreadsheet would run
    quoted with a leading apostrophe; a decimal number with the reader's decimal mark."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and decimal != ".":
        return repr(value).replace(".", decimal)
    if isinstance(value, str) and FORMULA.match(value):
        return "'" + value
    return value


# `?excel=fr`: the file a French spreadsheet opens in columns (its list separator is ";", its decimal mark ",",
# and it reads a file as UTF-8 only when the file begins with a byte order mark). Without it, plain CSV.
EXCEL_FR = {"delimiter": ";", "decimal": ",", "start": "\ufeff", "lineterminator": "\r\n"}
PLAIN = {"delimiter": ",", "decimal": ".", "start": "", "lineterminator": "\n"}


def csv_dialect() -> dict:
    excel = request.args.get("excel", "").strip().lower()
    if excel not in ("", "fr"):
        raise Invalid(_("excel is fr (a file for a French spreadsheet) or absent (plain CSV)."), field="excel")
    return EXCEL_FR if excel == "fr" else PLAIN


def csv_response(rows: list[dict], columns: list[str], name: str) -> Response:
    # the period asked for in the file's name: two exports of different months are two files, not overrides(1).csv
    period = [re.sub(r"[^0-9A-Za-z_-]", "", request.args.get(k, ""))[:25] for k in ("from", "to")]
    name = "_".join([name, *[p for p in period if p]])
    dialect = csv_dialect()
    out = io.StringIO()
    out.write(dialect["start"])
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", delimiter=dialect["delimiter"],
                            lineterminator=dialect["lineterminator"])
    writer.writeheader()
    for row in rows:
        writer.writerow({k: cell(row.get(k), dialect["decimal"]) for k in columns})
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
