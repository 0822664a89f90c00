"""Live panels: the page polls with the version it shows; the server answers 204 while nothing changed.

A 204 makes htmx leave the panel alone, so a half-typed answer in it is never wiped; and when the panel did change,
static/live.js keeps it as it is while something is being typed in it (the next poll brings the change).
"""

from __future__ import annotations

import hashlib
import json

from flask import g, request


def unchanged(state, panel: str) -> bool:
    """Whether the version the page shows of this panel (?v=) is still current; sets g.live_versions[panel] for the
    template. One version per panel: the board carries two (its timeline and its inbox), and with one shared value
    the timeline polled with the inbox's, so its first poll always redrew it, wiping what was being typed there."""
    version = hashlib.sha1(json.dumps(state, default=str).encode()).hexdigest()[:16]
    g.setdefault("live_versions", {})[panel] = version
    return request.args.get("v") == version
