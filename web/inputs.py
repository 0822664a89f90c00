"""What the app accepts at the door: no NUL bytes or lone surrogates anywhere, JSON of sane depth, bodies of sane
size.

NUL cannot be stored by PostgreSQL and has no business in a page; a deeply nested document made
the JSON decoder recurse until it crashed. Both are a 400 that says why, before any view runs.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from scheduler.errors import Invalid
from scheduler.services.stats import local_day_start

MAX_DEPTH = 32
MAX_BODY_BYTES = 1024 * 1024


class BadText(ValueError):
    pass


# each part of a request a NUL byte is refused in, said whole so that each reads well in French too
PARTS_WITH_NUL = {"path": lambda: _("The address contains a NUL byte: remove it and try again."),
                  "query": lambda: _("The query contains a NUL byte: remove it and try again."),
                  "form": lambda: _("The form contains a NUL byte: remove it and try again.")}


def check_text(value: object, depth_limit: int = MAX_DEPTH) -> None:
    """Walk a decoded document without recursion: no NUL in any string or key, no deeper than the limit."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > depth_limit:
            raise BadText(_("the JSON document is nested more than %(levels)s levels deep", levels=depth_limit))
        if isinstance(node, str):
            if "\x00" in node:
                raise BadText(_("text may not contain NUL bytes"))
            if not node.isascii():
                try:
                    node.encode("utf-8")
                except UnicodeEncodeError:  # "\ud800" decodes to a lone surrogate no database can store
                    raise BadText(_("text may not contain a lone surrogate (\\ud800 to \\udfff): send valid "
                                    "Unicode")) from None
        elif isinstance(node, dict):
            stack.extend((k, depth + 1) for k in node)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)


class GuardedJSON(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise BadText(_("the JSON document is nested more than %(levels)s levels deep", levels=MAX_DEPTH)) \
                from None
        check_text(value)
        return value


def whole_arg(name: str, default: int, least: int = 0, most: int | None = None) -> int:
    """A whole-number query argument (?limit=, ?offset=), `default` when absent; refused with its bounds said."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or int(raw) < least or (most is not None and int(raw) > most):
        raise Invalid(_("%(name)s is a whole number from %(least)s to %(most)s.", name=name, least=least,
                        most=most if most is not None else "∞"), field=name)
    return int(raw)


def moment_arg(name: str, value: str, end: bool, said: str | None = None):
    """A period's bound in an address: a day (the network's, `to` inclusive) or an ISO time with an offset
    (exact). `said`: the field as its page names it ("Du" for from), where the API says its own name."""
    said = said or name
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            if day.year < 1970:  # a day all the same: say what is wrong with it
                raise Invalid(_("%(name)s must be a day from 1970 on.", name=said), field=name)
            if day.year > 9998:  # the calendar's last days have no day after them to end on
                raise Invalid(_("%(name)s must be a day before the year 9999.", name=said), field=name)
            return local_day_start(day + timedelta(days=1) if end else day)
        # an unencoded "+" of an address's offset arrives as a space (2026-11-20T00:00:00 01:00): it was a "+"
        moment = datetime.fromisoformat(re.sub(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$",
                                               r"\1+\2", value))
        if moment.utcoffset() is None:
            raise ValueError
        if not 1970 <= moment.astimezone(timezone.utc).year <= 9998:  # the database's dates end there, or before
            raise Invalid(_("%(name)s must be a time from 1970 on and before the year 9999.", name=said), field=name)
        return moment
    except (ValueError, OverflowError):
        raise Invalid(_("%(name)s must be a day (YYYY-MM-DD) or a time with a UTC offset.", name=said),
                      field=name) from None


def register(app: Flask) -> None:
    app.json = GuardedJSON(app)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.before_request
    def refuse_nul():
        for where, values in (("path", [request.path]), ("query", request.args.items(multi=True)),
                              ("form", request.form.items(multi=True) if request.mimetype != "application/json" else [])):
            for item in values:
                if "\x00" in "".join(item if isinstance(item, tuple) else (item,)):
                    raise BadRequest(PARTS_WITH_NUL[where]())
