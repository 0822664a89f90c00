"""What the app accepts at the door: no NUL bytes anywhere, JSON of sane depth, bodies of sane size.

NUL cannot be stored by PostgreSQL and has no business in a page; a deeply nested document made
the JSON decoder recurse until it crashed. Both are a 400 that says why, before any view runs.
"""

from __future__ import annotations

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

MAX_DEPTH = 32
MAX_BODY_BYTES = 1024 * 1024


class BadText(ValueError):
    pass


def check_text(value: object, depth_limit: int = MAX_DEPTH) -> None:
    """Walk a decoded document without recursion: no NUL in any string or key, no deeper than the limit."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > depth_limit:
            raise BadText(f"the JSON document is nested more than {depth_limit} levels deep")
        if isinstance(node, str):
            if "\x00" in node:
                raise BadText("text may not contain NUL bytes")
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
            raise BadText(f"the JSON document is nested more than {MAX_DEPTH} levels deep") from None
        check_text(value)
        return value


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
                    raise BadRequest(f"The {where} contains a NUL byte: remove it and try again.")
