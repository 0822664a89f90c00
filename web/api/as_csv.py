"""Every list the API answers also comes as CSV (`Accept: text/csv` or `?format=csv`), as API.md says.

The planner's tables build their own CSV (their columns are chosen, with readable labels); any
other list endpoint is turned into CSV here from its JSON: nested objects become dotted columns,
lists of plain values are joined with ';', anything deeper stays as JSON text. An empty list still
has its header: the columns of the list's items as the served OpenAPI document describes them.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, request

from scheduler.errors import Invalid
from scheduler.texts import N_
from web.planner.tables import csv_dialect, csv_response, wants_csv


def flatten(row: dict, prefix: str = "") -> dict:
    out: dict = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, list):
            plain = all(not isinstance(v, (dict, list)) for v in value)
            # a list of objects as JSON, its accents as written ("Mégane", not "M\\u00e9gane")
            out[name] = ";".join("" if v is None else str(v) for v in value) if plain \
                else json.dumps(value, ensure_ascii=False)
        else:
            out[name] = value
    return out


def documented_columns(rule: str) -> list[str]:
    """The CSV columns of the list a GET route answers, from its item schema in the OpenAPI document
    ([] when the document does not describe its items)."""
    from web.api.openapi import document

    doc = document()
    shape = re.sub(r"<[^>]+>", "{}", rule)
    answer = next((ops["get"].get("responses", {}).get("200", {}) for path, ops in doc["paths"].items()
                   if re.sub(r"\{[^}]+\}", "{}", path) == shape and "get" in ops), {})
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    if schema.get("type") != "array" or not isinstance(schema.get("items"), dict):
        return []

    def resolve(node: dict) -> dict:
        if "$ref" in node:
            return resolve(doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]])
        if "allOf" in node:
            merged: dict = {}
            for part in node["allOf"]:
                merged.update(resolve(part).get("properties", {}))
            return {"type": "object", "properties": merged}
        return node

    def sample(node: dict) -> dict:
        """A row shaped like the schema, so that its columns come out as flatten() names a real row's."""
        return {name: sample(inner) if inner.get("properties") else None
                for name, inner in sorted((k, resolve(v)) for k, v in resolve(node).get("properties", {}).items())}

    return list(flatten(sample(schema["items"])))


def register(bp: Blueprint) -> None:
    @bp.before_request
    def csv_asked_for_well():
        """A CSV's options are checked before the view runs: a refusal from the after-request hook below would be
        no refusal at all, but a 500."""
        if request.method != "GET":
            return
        if request.args.get("format", "").strip().lower() not in ("", "csv", "json"):
            raise Invalid(N_("format is csv or json (the default)."), field="format")
        if wants_csv():
            csv_dialect()

    @bp.after_request
    def list_as_csv(response: Response) -> Response:
        if request.method != "GET" or response.status_code != 200 or not response.is_json or not wants_csv():
            return response
        body = response.get_json(silent=True)
        if not isinstance(body, list) or not all(isinstance(r, dict) for r in body):
            return response
        rows = [flatten(r) for r in body]
        columns = list(dict.fromkeys(k for r in rows for k in r))
        if not rows and request.url_rule is not None:
            columns = documented_columns(request.url_rule.rule)
        name = (request.endpoint or "list").rsplit(".", 1)[-1]
        out = csv_response(rows, columns, name)
        if "Link" in response.headers:  # a page of a longer list says where the next one is, as its JSON does
            out.headers["Link"] = response.headers["Link"]
        return out
