"""The planner desk in Chromium on the demo data: the dashboard, a period filtered, a chart's bar
drilled down to the overrides behind it and on to a case's timeline, and a what-if replay watched
until it finishes. Screenshots go to the test's folder (FRONTLINE_SHOTS keeps them elsewhere)."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.browser.test_story import log_in

PARIS = ZoneInfo("Europe/Paris")


def test_the_planner_desk_from_dashboard_to_timeline_and_replay(browser, live_server, story_clock, tmp_path):
    shots = Path(os.environ.get("FRONTLINE_SHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, live_server, "planner")
    assert "Did people beat the rules?" in page.inner_text("h1")
    total = int(page.inner_text(".kpi .n >> nth=0"))
    assert total > 0 and page.locator("#weeks svg a.bar").count() >= 2
    page.screenshot(path=str(shots / "planner-1-dashboard.png"), full_page=True)

    # A period of its own, kept in the URL.
    today = story_clock().astimezone(PARIS).date()
    first, last = today - timedelta(days=6), today
    page.fill("input[name=from]", first.isoformat())
    page.fill("input[name=to]", last.isoformat())
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert f"from={first.isoformat()}" in page.url and f"to={last.isoformat()}" in page.url
    in_period = int(page.inner_text(".kpi .n >> nth=0"))
    assert 0 < in_period <= total
    page.screenshot(path=str(shots / "planner-2-period.png"), full_page=True)

    # The biggest garage's bar: its overrides, then the first one's case.
    bar = page.locator("#by-garage svg a.bar").first
    garage = bar.get_attribute("data-key")
    expected = int(page.locator(f"#by-garage table a[href*='garage={garage}']").first.inner_text())
    with page.expect_navigation():
        bar.click()
    assert "/planner/overrides" in page.url and f"garage={garage}" in page.url and f"from={first.isoformat()}" in page.url
    rows = page.locator("#override-list tbody tr")
    assert rows.count() == expected
    page.screenshot(path=str(shots / "planner-3-drilldown.png"), full_page=True)
    with page.expect_navigation():
        rows.first.locator("a[href*='/planner/cases/']").click()
    assert re.search(r"/planner/cases/\d+", page.url)
    timeline = page.inner_text("#case-timeline")
    assert "RULE OFFER" in timeline.upper() and "LATE BECAUSE" in timeline.upper() and "VERDICT" in timeline.upper()
    page.screenshot(path=str(shots / "planner-4-timeline.png"), full_page=True)

    # What if a P1 needed no notice? Watch the replay finish.
    page.click("nav.tabs >> text=What-if replay")
    page.wait_for_selector("#replay-form")
    page.fill("input[name=from]", first.isoformat())
    page.fill("input[name=to]", last.isoformat())
    page.fill("input[name='rule.min_notice_minutes.P1']", "0")
    with page.expect_navigation():
        page.click("#replay-form button[type=submit]")
    assert re.search(r"/planner/replays/\d+", page.url)
    page.wait_for_selector("#replay-result", timeout=120_000)
    status = page.inner_text("#replay-status")
    assert "cases replayed" in status and "P1" in status
    page.screenshot(path=str(shots / "planner-5-replay.png"), full_page=True)
