"""Delivering the outbox: by the CLI (`flask --app web outbox send`) or, when configured, after each commit."""

from __future__ import annotations

import threading

from flask import Flask

from scheduler.db import utcnow
from scheduler.services import outbox
from web.extensions import db


def send_due(app: Flask) -> tuple[int, int]:
    """Send what is due, in a transaction of its own. Returns (sent, failed)."""
    with app.app_context():
        sent, failed = outbox.deliver(db.session, outbox.smtp_sender(app.config["SMTP_URL"]), utcnow(),
                                      app.config.get("MAIL_FROM", "Frontline <noreply@frontline.local>"))
        db.session.commit()
        db.session.remove()
    return sent, failed


def send_soon(app: Flask) -> None:
    """After a commit that queued messages: deliver them in the background, so the request does not wait on SMTP."""
    def run() -> None:
        try:
            send_due(app)
        except Exception:  # noqa: BLE001 - a delivery problem never reaches a user; messages stay visible
            app.logger.exception("outbox delivery failed; messages stay queued")

    threading.Thread(target=run, name="outbox", daemon=True).start()
