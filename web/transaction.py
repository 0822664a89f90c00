"""One commit per request, at the edge (as Indico does): services flush, the request commits once.

A request that fails (an error status, or an exception turned into one) rolls back, so nothing is
half-written. A read (GET, HEAD, OPTIONS) never writes: it runs in a read-only transaction (on SQLite
it takes no lock) and flushing changes during one is a bug, refused loudly.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from scheduler.db import may_write
from web.extensions import db

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadWrote(RuntimeError):
    """A read request tried to change the database."""


def _reading() -> bool:
    return has_request_context() and request.method in READS


def _refuse_writes_on_read(session: Session, _context, _instances) -> None:
    if _reading() and (session.new or session.deleted or any(session.is_modified(o) for o in session.dirty)):
        raise ReadWrote(f"{request.method} {request.path} tried to write: reads never write.")


def _refuse_bulk_writes_on_read(state) -> None:
    if _reading() and (state.is_insert or state.is_update or state.is_delete):
        raise ReadWrote(f"{request.method} {request.path} tried to write: reads never write.")


def keep_writes_of_refusal() -> None:
    """This refusal still records something true (e.g. a preview superseded, a fresh one proposed): commit it."""
    g.keep_refusal_writes = True


def register(app: Flask) -> None:
    if not event.contains(Session, "before_flush", _refuse_writes_on_read):
        event.listen(Session, "before_flush", _refuse_writes_on_read)
        event.listen(Session, "do_orm_execute", _refuse_bulk_writes_on_read)

    @app.before_request
    def declare_intent():
        request.environ["frontline.may_write"] = may_write.set(request.method not in READS)

    @app.after_request
    def commit_once(response):
        if request.method in READS or (response.status_code >= 400 and not g.get("keep_refusal_writes")):
            db.session.rollback()
            return response
        told = db.session.info.pop("frontline.messages_queued", False)
        try:
            db.session.commit()
        except SQLAlchemyError as exc:
            from web.errors import database_error

            db.session.rollback()
            return database_error(exc)
        if told and app.config.get("SMTP_URL") and app.config.get("OUTBOX_SEND_AFTER_COMMIT"):
            from web.mail import send_soon

            send_soon(app)
        return response

    @app.teardown_request
    def forget_intent(_exc):
        token = request.environ.pop("frontline.may_write", None)
        if token is not None:
            may_write.reset(token)
