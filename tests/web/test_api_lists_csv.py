"""Every list endpoint answers text/csv when asked (API.md), an empty list too: its header names the columns."""

from __future__ import annotations

import csv
import io

import pytest


@pytest.mark.parametrize("user, path, columns", [
    ("operator", "/api/v1/cases?q=nobody-is-called-this&format=csv", {"id", "urgency", "job_type", "garage"}),
    ("operator", "/api/v1/customers?phone=%2B99+000+000&format=csv", {"id", "name", "phone", "vehicles"}),
    ("reception-lyon-07", "/api/v1/direct-line?status=open", {"id", "case", "garage", "message", "status",
                                                              "created_at", "answered_at", "answer"}),
])
def test_an_empty_list_as_csv_still_has_its_header(client, auth, user, path, columns):
    auth.login(user)
    as_json = client.get(path.replace("&format=csv", ""))
    if as_json.get_json():  # the direct-line inbox is empty in the seed at the test clock; make sure
        pytest.skip("the list is not empty here")
    response = client.get(path, headers={"Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True))), [])
    assert columns <= set(header), header


def test_a_list_as_csv_keeps_its_columns_when_it_has_rows(client, auth):
    auth.login("operator")
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/symptoms?format=csv").get_data(as_text=True))))
    assert rows and {"code", "label", "urgency", "job_type"} <= set(rows[0])


def test_a_typed_reason_a_spreadsheet_would_run_comes_out_as_text(app, client, auth):
    """OWASP's CSV injection: a reason typed "=HYPERLINK(...)" must not run when a planner opens the export; phone
    numbers and negative gains stay numbers."""
    from datetime import datetime

    from tests.web.story import open_case
    from tests.web.test_api_booking import book, free_slot_not_offered, offers_of

    auth.login("operator")
    case = open_case(auth, symptom="annual_service")
    offers = offers_of(client, case["id"])
    offered = {(o["garage"], datetime.fromisoformat(o["start"])) for o in [offers["rule_offer"], *offers["offers"]]}
    slot = free_slot_not_offered(app, case["id"], offers["offers"][0]["garage"], offered)
    typed = '=HYPERLINK("http://evil.example","clic")'
    assert book(auth, case["id"], slot, reason=typed).status_code == 201
    auth.login("planner")
    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/overrides?format=csv").get_data(as_text=True))))
    (mine,) = [r for r in rows if r["case"] == str(case["id"])]
    assert mine["reason"] == "'" + typed
    assert client.get("/api/v1/overrides").get_json()[0]["reason"] == typed, "the JSON keeps what was typed"
    auth.login("operator")
    customers = client.get(f"/api/v1/customers?phone={case['customer']['phone']}&format=csv").get_data(as_text=True)
    assert case["customer"]["phone"] in customers and "'+" not in customers


def test_an_export_is_named_after_its_period(client, auth):
    auth.login("planner")
    got = client.get("/api/v1/overrides?format=csv&from=2026-11-01&to=2026-11-30")
    assert 'filename="overrides_2026-11-01_2026-11-30.csv"' in got.headers["Content-Disposition"]
    assert 'filename="overrides.csv"' in client.get("/api/v1/overrides?format=csv").headers["Content-Disposition"]


def test_a_nested_list_as_csv_keeps_its_accents_as_written(client, auth):
    auth.login("operator")
    opened = auth.post("/api/v1/cases", json={
        "customer": {"name": "Zoé Mérand", "phone": "06 55 44 33 22"}, "vehicle": {"plate": "ME-123-GA",
                                                                                  "model": "Renault Mégane"},
        "symptom": "oil_change", "location": {"lat": 45.75, "lon": 4.85}})
    assert opened.status_code == 201, opened.get_json()
    text = client.get("/api/v1/customers?phone=0655443322&format=csv").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["name"] == "Zoé Mérand"
    assert "Renault Mégane" in row["vehicles"] and "\\u00e9" not in text


def test_a_list_for_a_french_spreadsheet_opens_in_columns(client, auth):
    """excel=fr: ';' between columns, ',' before decimals, and a byte order mark so that Excel reads UTF-8 (accents);
    plain CSV stays as it was, its yes/no written as the JSON writes them."""
    auth.login("planner")
    plain = client.get("/api/v1/policy/versions?format=csv").get_data(as_text=True)
    assert not plain.startswith("\ufeff") and "," in plain.splitlines()[0]
    assert "True" not in plain and "False" not in plain and ("true" in plain or "false" in plain)
    french = client.get("/api/v1/policy/versions?format=csv&excel=fr")
    assert french.status_code == 200
    text = french.get_data(as_text=True)
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    plain_rows = list(csv.DictReader(io.StringIO(plain)))
    assert list(rows[0]) == list(plain_rows[0]) and len(rows) == len(plain_rows)
    decimals = [(p, f) for p, f in zip(plain_rows[0].values(), rows[0].values(), strict=True) if p != f]
    assert all(f == p.replace(".", ",") for p, f in decimals)
    auth.login("operator")
    symptoms = client.get("/api/v1/symptoms?format=csv&excel=fr").get_data(as_text=True)
    table = list(csv.reader(io.StringIO(symptoms[1:]), delimiter=";"))
    assert symptoms.startswith("\ufeff") and all(len(row) == len(table[0]) for row in table)
    assert any("," in label for row in table for label in row)  # a label with a comma stays one column
    refused = client.get("/api/v1/symptoms?format=csv&excel=de")
    assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == "excel"
    unknown = client.get("/api/v1/symptoms?format=xml")  # not JSON passed off as what was asked for
    assert unknown.status_code == 400 and unknown.get_json()["error"]["details"]["field"] == "format"
    assert client.get("/api/v1/symptoms?format=json").is_json


def test_a_cell_for_a_french_spreadsheet_writes_its_decimals_with_a_comma():
    from web.planner.tables import cell

    assert (cell(8.63, ","), cell(8.63), cell(12, ","), cell(True), cell(None, ",")) == ("8,63", 8.63, 12, "true", "")


def _pages(client, path: str) -> list[list[int]]:
    """Every page of a list, following each `Link` to the next."""
    pages = []
    while path:
        response = client.get(path)
        assert response.status_code == 200, response.get_json()
        pages.append([item["id"] for item in response.get_json()])
        link = response.headers.get("Link")
        path = link[1:link.index(">")] if link else None
        assert not link or link.endswith('; rel="next"')
    return pages


def test_the_outbox_and_the_direct_line_lists_come_a_page_at_a_time(client, auth):
    """Both stopped at 200 without a word; each now says where its next page is, and its pages add up to the list."""
    from tests.web.story import open_case

    auth.login("operator")
    for plate in ("PG-001-AA", "PG-002-AA", "PG-003-AA"):
        case = open_case(auth, plate=plate)
        best = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][0]
        assert auth.post(f"/api/v1/cases/{case['id']}/direct-line",
                         json={"garage": best["garage"], "message": "Today?"}).status_code == 201
        assert auth.post(f"/api/v1/cases/{case['id']}/appointments",
                         json={k: best[k] for k in ("garage", "technician", "start")}).status_code == 201
    asked = _pages(client, "/api/v1/direct-line?limit=2")
    every = [r["id"] for r in client.get("/api/v1/direct-line").get_json()]
    assert len(every) >= 3 and [i for p in asked for i in p] == every and all(len(p) == 2 for p in asked[:-1])
    auth.login("admin")
    told = _pages(client, "/api/v1/outbox?limit=2")
    every = [m["id"] for m in client.get("/api/v1/outbox").get_json()]
    assert len(every) >= 3 and [i for p in told for i in p] == every and all(len(p) == 2 for p in told[:-1])
    assert client.get("/api/v1/outbox?limit=0").status_code == 400
