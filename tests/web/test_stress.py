"""A bounded stress run against the production server (bench/load.py, small): people racing for the same
slots, the same direct-line request and a squeeze-in, then the database is checked. Integrity only, never time."""

from __future__ import annotations

import pytest

from bench.load import check_database, run_load
from tests.conftest import CLOCK_NOW
from tests.web.server import Gunicorn

pytestmark = pytest.mark.stress

GARAGES = [("lyon-07", 45.7335, 4.8335), ("venissieux", 45.6970, 4.8860), ("bron", 45.7380, 4.9130),
           ("oullins", 45.7140, 4.8070)]


def test_racing_people_never_double_book_and_every_loser_is_told_what_is_free(served_database, tmp_path):
    before = check_database(served_database)
    with Gunicorn(served_database, tmp_path / "instance", workers=3, threads=4, clock=CLOCK_NOW.isoformat()) as server:
        tally, _ = run_load(server.base, GARAGES, clients=8, rounds=2, mix=("booking", "direct_line", "squeeze"))
    after = check_database(served_database)

    assert tally.errors == 0, tally.outcomes
    assert set(tally.attempts) == {"booking", "direct_line", "squeeze_confirm"}, tally.attempts
    assert tally.outcomes[("booking", 201)] > 0 and tally.outcomes[("booking", 409)] > 0, tally.outcomes
    # two direct-line rounds, four people answering each: at most one yes per request
    assert tally.outcomes[("direct_line", 200)] <= 2, tally.outcomes
    assert tally.outcomes[("direct_line", 200)] + tally.outcomes[("direct_line", 409)] == 8, tally.outcomes
    assert tally.losers_without_fresh == 0
    assert (after["overlaps"], after["lifts_over"], after["cases_booked_twice"]) == \
        (before["overlaps"], before["lifts_over"], before["cases_booked_twice"]) == (0, 0, 0)
    assert after["active"] == before["active"] + tally.successes  # every yes is one booking, nothing else is
