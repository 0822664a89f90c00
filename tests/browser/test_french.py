"""The desks in a French browser, as people see them: no text of the catalog left in English, and
screenshots of each (FRONTLINE_SCREENSHOTS=dir keeps them, for a look at typography and layout)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import PASSWORD
from tests.web.test_french_pages import english_pieces, leftovers

SHOTS = Path(os.environ["FRONTLINE_SCREENSHOTS"]) if os.environ.get("FRONTLINE_SCREENSHOTS") else None


def french_page(browser, base: str, username: str):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")  # the header's language switch is a button too
    assert "/login" not in page.url, page.inner_text("body")
    return page


def read(page, name: str, pieces: dict) -> str:
    """The page's text, checked for English; a full-page screenshot when asked for."""
    page.wait_for_load_state("networkidle")  # the live parts (htmx) are in
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    text = page.inner_text("body")
    assert not leftovers(text, pieces), f"{name}: English left: {leftovers(text, pieces)}"
    return text


def test_the_desks_read_in_french_in_a_french_browser(browser, live_server):
    pieces = english_pieces()
    operator = french_page(browser, live_server, "operator")
    desk = read(operator, "operator-desk", pieces)
    assert "Poste d’appels" in desk and "Nouvel appel" in desk
    operator.fill("input[name=name]", "Julie Bernard")
    operator.fill("input[name=phone]", "+33 6 98 76 54 31")
    operator.fill("input[name=plate]", "FR-555-ZZ")
    operator.fill("input[name=model]", "Peugeot 308")
    operator.fill("input[name=near]", "Lyon 7e")
    operator.select_option("select[name=symptom]", "engine_fault_stop")
    with operator.expect_navigation():
        operator.click("form[action$='/desk/cases'] button[type=submit]")
    case = read(operator, "operator-case", pieces)
    assert "Pourquoi pas plus tôt\u202f:" in case, "the rule offer's reasons, worded in French"
    assert " km" in case and ".0 km" not in case.replace("\u202f", " "), "distances in the French format"
    operator.context.close()

    reception = french_page(browser, live_server, "reception-lyon-07")
    board = read(reception, "reception-board", pieces)
    assert "Planning du jour" in board and "Ligne directe" in board
    reception.context.close()

    planner = french_page(browser, live_server, "planner")
    read(planner, "planner-dashboard", pieces)
    # every entry of a chart's colour key inside its chart: French labels are longer than English ones
    for chart in planner.locator("svg.chart").all():
        box = chart.bounding_box()
        for entry in chart.locator("text.legend").all():
            inner = entry.bounding_box()
            assert inner["x"] + inner["width"] <= box["x"] + box["width"] + 1, entry.inner_text()
    planner.set_viewport_size({"width": 1366, "height": 900})
    planner.goto(f"{live_server}/planner/overrides")
    read(planner, "planner-overrides", pieces)
    widths = planner.evaluate("() => { const t = document.querySelector('#override-list');"
                              " return [t.scrollWidth, t.parentElement.clientWidth]; }")
    assert widths[0] <= widths[1], f"the override list needs a sideways scroll at 1366 px: {widths}"
    planner.set_viewport_size({"width": 1440, "height": 1000})
    planner.goto(f"{live_server}/planner/rules")
    read(planner, "planner-rules", pieces)
    planner.goto(f"{live_server}/planner/policy")
    read(planner, "planner-policy", pieces)
    planner.context.close()
