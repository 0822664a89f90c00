"""CLI: `flask --app web serve | seed | user create | token create`."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from scheduler.errors import DomainError
from scheduler.models import ROLES
from scheduler.services import accounts
from web.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(serve)
    app.cli.add_command(seed_command)
    app.cli.add_command(user_group)
    app.cli.add_command(token_group)
    app.cli.add_command(replay_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(outbox_group)
    from web.i18n import translate_group

    app.cli.add_command(translate_group)


def upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)


@click.command("seed")
@click.option("--reset", is_flag=True, help="Drop every table and seed from scratch.")
@click.option("--seed", "seed_value", default=7, show_default=True, help="Random seed of the demo network.")
@click.option("--days-ahead", default=28, show_default=True, help="Days of booked demand from today.")
@click.option("--history-days", default=90, show_default=True, help="Days of history (overrides, outcomes) behind.")
@with_appcontext
def seed_command(reset: bool, seed_value: int, days_ahead: int, history_days: int) -> None:
    """Create the demo network (idempotent: an already seeded database is kept)."""
    from seed import demo

    if reset:
        click.echo("Dropping every table…")
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    upgrade_database()
    created = demo.seed(db.session, seed=seed_value, days_ahead=days_ahead, history_days=history_days,
                        dense_history_days=min(14, history_days), progress=_progress)
    db.session.commit()
    if created:
        click.echo("Demo network seeded.")
    else:
        click.echo("The database already holds the demo network; nothing changed (use --reset to start over).")
    _print_logins()


def _progress(step: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / total) if total else width
    click.echo(f"\r  [{'#' * filled}{'.' * (width - filled)}] {step:<40}", nl=done >= total)


def _print_logins() -> None:
    from seed.demo import DEMO_PASSWORD, demo_logins

    click.echo("\nDemo logins (password for all: %s):" % DEMO_PASSWORD)
    for username, role, garage in demo_logins(db.session):
        click.echo(f"  {username:<22} {role:<10} {garage or ''}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--debug", is_flag=True)
@with_appcontext
def serve(host: str, port: int, debug: bool) -> None:
    """Upgrade the database, seed the demo network on first start, and run the app."""
    from sqlalchemy.exc import SQLAlchemyError

    from seed import demo

    try:
        upgrade_database()
        if demo.seed(db.session, progress=_progress):
            click.echo("Demo network seeded.")
        db.session.commit()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise click.ClickException(f"the database at {db.engine.url.render_as_string(hide_password=True)} "
                                   f"cannot be used: {reason}") from None
    _print_logins()
    db.session.remove()  # release the connection: an open SQLite transaction would block every writer
    click.echo(f"\nFrontline runs at http://{host}:{port}/  (Ctrl+C stops it)")
    if not current_app.config.get("BASE_URL"):  # customers' links point here, not at the default port
        from scheduler.services import outbox

        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        outbox.configure_links(f"http://{shown}:{port}", current_app.config["SECRET_KEY"])
    # plain HTTP on one machine: cookies marked Secure would not come back (production runs behind TLS)
    current_app.config["SESSION_COOKIE_SECURE"] = False
    from werkzeug.serving import run_simple

    # app.run() refuses to start inside a flask CLI command; its server is Werkzeug's anyway
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_debugger=debug,
               use_reloader=False)


@click.group("user")
def user_group() -> None:
    """Manage users."""


@user_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--garage", "garage_id", help="The garage of a reception or workshop user.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", help="Display name (default: the username).")
@with_appcontext
def user_create(username: str, role: str, garage_id: str | None, password: str, display_name: str | None) -> None:
    """Create a user."""
    try:
        accounts.create_user(db.session, username, role, password, garage_id, display_name)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"User {username} ({role}{' at ' + garage_id if garage_id else ''}) created.")


@click.group("token")
def token_group() -> None:
    """Manage API tokens."""


@token_group.command("create")
@click.argument("username")
@with_appcontext
def token_create(username: str) -> None:
    """Print a new bearer token for USERNAME (shown once; only its hash is stored)."""
    from web.clock import now  # the app's clock: a demo or a test may set it

    try:
        token = accounts.create_token(db.session, username, now())
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(token)


@click.command("replay")
@click.option("--from", "first", required=True, help="First day of the recorded demand (YYYY-MM-DD).")
@click.option("--to", "last", required=True, help="Last day, inclusive.")
@click.option("--set", "assignments", multiple=True, metavar="PATH=VALUE",
              help="A changed policy field, e.g. rule.garages=3 or rule.min_notice_minutes.P1=0 (repeatable).")
@with_appcontext
def replay_command(first: str, last: str, assignments: tuple[str, ...]) -> None:
    """What-if replay of a period's demand under a changed policy, with a progress bar.

    Runs on the RQ workers when FRONTLINE_REDIS_URL is set (start them with `flask --app web worker`),
    in this process otherwise.
    """
    import time

    from scheduler.services import policies, replays
    from web import jobs

    changes = {}
    for assignment in assignments:
        path, sep, value = assignment.partition("=")
        if not sep:
            raise click.BadParameter(f"{assignment!r}: write PATH=VALUE", param_hint="--set")
        changes[path.strip()] = policies.typed(path.strip(), value)
    from web.clock import now  # the app's clock: a demo or a test may set it

    try:
        replay = replays.create(db.session, None, {"from": first, "to": last, "policy": changes}, now(),
                                runner=jobs.runner())
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    replay_id = replay.id
    changed = ", ".join(f"{k}={v}" for k, v in replay.params["policy"].items()) or "no change"
    click.echo(f"Replay {replay_id}: {first} to {last}, {changed} ({jobs.runner()})")
    jobs.start_replay(replay_id)
    from scheduler.db import may_write

    with click.progressbar(length=1000, label="Replaying", show_percent=True) as bar:
        done = 0
        while True:
            reading = may_write.set(False)  # a fresh read each time, taking no lock while the job writes
            try:
                replay = replays.get(db.session, replay_id)
                status, progress = replay.status, replay.progress
                db.session.rollback()
            finally:
                may_write.reset(reading)
            step = int(progress * 1000) - done
            if step > 0:
                bar.update(step)
                done += step
            if status in ("done", "failed"):
                break
            time.sleep(0.5)
    replay = replays.get(db.session, replay_id)
    if replay.status == "failed":
        raise click.ClickException(f"The replay failed: {replay.error}")
    _print_replay(replay.result)


def _print_replay(result: dict) -> None:
    def minutes(value) -> str:
        return "-" if value is None else f"{value / 60:.1f} h"

    def share(value) -> str:
        return "-" if value is None else f"{value:.0%}"

    click.echo(f"\n{result['cases']} cases replayed. Waits from the call to the start "
               "(current rules / people / changed policy):")
    for urgency in ("p1", "p2", "p3"):
        row = result[urgency]
        parts = [f"{urgency.upper()} ({row['rules']['cases']} cases)"]
        for label, key, fmt in (("median", "median_minutes", minutes), ("p90", "p90_minutes", minutes),
                                ("same day", "same_day_share", share)):
            parts.append(f"{label} " + " / ".join(fmt(row[w][key]) for w in ("rules", "humans", "changed")))
        click.echo("  " + "; ".join(parts))
    o = result["overrides"]
    click.echo(f"Overrides made unnecessary by the change: {o['unnecessary']} of {o['total']}.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """An RQ worker for replays (needs FRONTLINE_REDIS_URL); start as many as you have cores, on any machine."""
    from rq import Worker

    from web import jobs

    url = jobs.redis_url()
    if not url:
        raise click.ClickException("Set FRONTLINE_REDIS_URL (e.g. redis://127.0.0.1:6379/0) first.")
    queue = jobs.queue(url)
    Worker([queue], connection=queue.connection).work(burst=burst)

@click.group("outbox")
def outbox_group() -> None:
    """The customers' outbox."""


@outbox_group.command("send")
@click.option("--every", type=float, default=0, help="Keep sending every N seconds (0: once and stop).")
@with_appcontext
def outbox_send(every: float) -> None:
    """Deliver the queued messages by SMTP (FRONTLINE_SMTP_URL); failures are kept and tried again later."""
    import time

    from web.mail import send_due

    if not current_app.config.get("SMTP_URL"):
        raise click.ClickException("FRONTLINE_SMTP_URL is not set: messages stay queued (and visible) until it is.")
    while True:
        sent, failed = send_due(current_app)
        click.echo(f"{sent} sent, {failed} failed (kept for a retry)")
        if not every:
            break
        time.sleep(every)
