"""A live Frontline on a seeded demo network, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import datetime, timedelta

import pytest
from werkzeug.serving import make_server

from tests.conftest import CLOCK_NOW, make_app

CHROMIUM = os.environ.get("FRONTLINE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]
PATIENCE_MS = 90_000


class StoryClock:
    """Starts at the suite's fixed morning and ticks from there, so response times are real."""

    def __init__(self, start: datetime):
        self.start, self._started = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._started)


@pytest.fixture(scope="session")
def story_clock():
    return StoryClock(CLOCK_NOW)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, story_clock, story_template):
    path = tmp_path_factory.mktemp("live") / "frontline.sqlite"
    shutil.copy(story_template, path)  # seeded at the clock's start: the suite's fixed morning
    return make_app(f"sqlite:///{path}", CLOCK=story_clock)


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium; .ci/run installs it)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="browser tests need the playwright package")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        new_context = chromium.new_context

        def patient_context(*args, **kwargs):
            # A page that waits on the engine (a squeeze's preview) took over Playwright's 30 s on a loaded 2-core
            # machine once in three full runs: a busy machine must not fail a test. What is waited for is unchanged.
            context = new_context(*args, **kwargs)
            context.set_default_timeout(PATIENCE_MS)
            return context

        chromium.new_context = patient_context
        yield chromium
        chromium.close()
