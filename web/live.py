"""Live panels: the page polls with the version it shows; the server answers 204 while nothing changed.

A 204 makes htmx leave the panel alone, so a half-typed answer in it is never wiped.
"""

from __future__ import annotations

import hashlib
import json

from flask import g, request


def unchanged(state) -> bool:
    """Whether the version the page shows (?v=) is still current; sets g.live_version for the template."""
    g.live_version = hashlib.sha1(json.dumps(state, default=str).encode()).hexdigest()[:16]
    return request.args.get("v") == g.live_version
