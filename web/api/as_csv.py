"""Every list the API answers also comes as CSV (`Accept: text/csv` or `?format=csv`), as API.md says.

The planner's tables build their own CSV (their columns are chosen, with readable labels); any
other list endpoint is turned into CSV here from its JSON: nested objects become dotted columns,
lists of plain values are joined with ';', anything deeper stays as JSON text.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from web.planner.tables import csv_response, wants_csv


def flatten(row: dict, prefix: str = "") -> dict:
    out: dict = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            plain = all(not isinstance(v, (dict, list)) for v in value)
            out[name] = ";".join("" if v is None else str(v) for v in value) if plain else json.dumps(value)
        else:
            out[name] = value
    return out


def register(bp: Blueprint) -> None:
    @bp.after_request
    def list_as_csv(response: Response) -> Response:
        if request.method != "GET" or response.status_code != 200 or not response.is_json or not wants_csv():
            return response
        body = response.get_json(silent=True)
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            return response
        rows = [flatten(r) for r in body]
        columns = list(dict.fromkeys(k for r in rows for k in r))
        name = (request.endpoint or "list").rsplit(".", 1)[-1]
        return csv_response(rows, columns, name)
