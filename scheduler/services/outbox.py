"""Customers told: every booking, move and cancellation writes a message to the outbox, in the
customer's language (French by default), with the appointment as an iCalendar event.

Messages are written in the same transaction as what they tell, so nothing is told that did not
happen and nothing that happened goes untold. Delivery is separate (`deliver`): by SMTP when it is
configured; otherwise messages wait in the outbox, visible, and nothing is lost.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from icalendar import Calendar, Event
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from scheduler.errors import Conflict, Forbidden, NotFound
from scheduler.models import Appointment, Case, Customer, Message, User
from scheduler.models.message import MESSAGE_KINDS, is_email_address
from scheduler.services.catalogue import job_label
from scheduler.texts import N_, short_date

# Retries wait longer each time; after the last one the message stays failed (and visible).
RETRY_MINUTES = (1, 5, 30, 120)

TEXTS = {
    "fr": {
        "booked": ("Votre rendez-vous du {when} à {garage}",
                   "Bonjour {name},\n\nVotre rendez-vous est confirmé : {when} à {garage}, {address}.\n"
                   "Véhicule : {vehicle}. Travaux : {job}.\n"),
        # an overbooking's customer: the work taken before theirs (capacity.turn_order) is still to finish
        "behind": "Le technicien a un travail à terminer avant le vôtre : votre véhicule pourrait être pris en "
                  "charge jusqu’à {minutes} minutes après l’heure prévue.\n",
        # said only in an e-mail: a customer reception phones has nothing attached
        "attached": {"booked": "\nLe rendez-vous est joint pour votre agenda.\n",
                     "moved": "\nLe rendez-vous mis à jour est joint.\n"},
        "feedback": "\nAprès votre passage, dites-nous comment chaque étape s’est passée : {link}\n",
        "moved": ("Votre rendez-vous est déplacé au {when}",
                  "Bonjour {name},\n\nVotre rendez-vous du {before} est déplacé : {when} à {garage}, {address}.\n"
                  "Véhicule : {vehicle}. Travaux : {job}.\n"),
        "cancelled": ("Votre rendez-vous du {when} est annulé",
                      "Bonjour {name},\n\nVotre rendez-vous du {when} à {garage} est annulé.\n"
                      "Véhicule : {vehicle}.\n"),
        "delayed": ("Votre rendez-vous du {when} pourrait commencer en retard",
                    "Bonjour {name},\n\n{why} : votre rendez-vous du {when} à {garage} pourrait commencer jusqu’à {minutes} minutes plus tard. "
                    "Veuillez nous en excuser.\nVéhicule : {vehicle}. Travaux : {job}.\n"),
        "why": {"urgent": "Un véhicule urgent a dû être pris en charge juste avant le vôtre",
                "overrun": "Les travaux prévus juste avant les vôtres prennent plus de temps que prévu"},
    },
    "en": {
        "booked": ("Your appointment on {when} at {garage}",
                   "Hello {name},\n\nYour appointment is confirmed: {when} at {garage}, {address}.\n"
                   "Vehicle: {vehicle}. Work: {job}.\n"),
        "behind": "The technician has work to finish before yours: your car may be taken in up to {minutes} minutes "
                  "after the time booked.\n",
        "attached": {"booked": "\nThe appointment is attached for your calendar.\n",
                     "moved": "\nThe updated appointment is attached.\n"},
        "feedback": "\nAfter your visit, tell us how each step went: {link}\n",
        "moved": ("Your appointment is moved to {when}",
                  "Hello {name},\n\nYour appointment of {before} is moved: {when} at {garage}, {address}.\n"
                  "Vehicle: {vehicle}. Work: {job}.\n"),
        "cancelled": ("Your appointment on {when} is cancelled",
                      "Hello {name},\n\nYour appointment on {when} at {garage} is cancelled.\n"
                      "Vehicle: {vehicle}.\n"),
        "delayed": ("Your appointment on {when} may start late",
                    "Hello {name},\n\n{why}: your appointment on {when} at {garage} may start up to {minutes} minutes late. We apologise.\n"
                    "Vehicle: {vehicle}. Work: {job}.\n"),
        "why": {"urgent": "An urgent car had to be taken in just before yours",
                "overrun": "The work planned just before yours is taking longer than expected"},
    },
}

# The languages the customers' messages are written in.
LANGUAGES = tuple(TEXTS)


# Where customers rate their case (set by the web app: its address and the secret the links are signed with).
LINKS: dict[str, str | None] = {"base_url": None, "secret": None}


def configure_links(base_url: str | None, secret: str | None) -> None:
    LINKS.update(base_url=base_url.rstrip("/") if base_url else None, secret=secret)


# How the catalogue's labels (job types) read in a language: the web app gives its catalog; English otherwise.
TERMS: dict[str, Callable[[str, str], str] | None] = {"translate": None}


def configure_terms(translate: Callable[[str, str], str] | None) -> None:
    TERMS["translate"] = translate


def term(label: str, locale: str) -> str:
    translate = TERMS["translate"]
    return translate(label, locale) if translate and label else label


def job_named(case: Case, locale: str) -> str:
    """The case's job as a customer reads it: the message and its calendar event say it the same way."""
    return job_label(case.job_type, locale, lambda label: term(label, locale))


def feedback_link(case: Case) -> str | None:
    from scheduler.services.feedback import token_for

    if not LINKS["base_url"] or not LINKS["secret"]:
        return None
    return f"{LINKS['base_url']}/feedback/{token_for(case.id, LINKS['secret'])}"


def calendar(appointment: Appointment, made_at: datetime, locale: str | None = None) -> str:
    """The appointment as the customer's calendar sees it: one event, updated by its sequence number.

    Every time is written in UTC (`…Z`): a time kept in the garage's zone (as a direct-line answer's is until it
    is read back) came out as TZID=Europe/Paris with no VTIMEZONE to define it, which strict calendars refuse or
    shift. DTSTAMP is `made_at`, when this calendar was made (RFC 5545 with a METHOD): a moved appointment's
    update must not carry the time of the first booking.

    The event is the case's, not one booking's: a move books the case anew (a new appointment) and a UID per
    appointment left the first event in the customer's calendar beside the new one. Its SEQUENCE counts every
    change to any of the case's bookings, so each update outranks the one before. A booking replaced by another
    shows the one that holds: cancelling the event is for a case left with no booking."""
    case = appointment.case
    holding = [a for a in case.appointments if a.active]
    if not appointment.active and holding:
        appointment = holding[0]
    garage = appointment.garage
    cal = Calendar()
    cal.add("prodid", "-//Frontline//appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if appointment.status == "cancelled" else "PUBLISH")
    event = Event()
    event.add("uid", f"case-{case.id}@frontline")
    event.add("dtstamp", made_at.astimezone(timezone.utc))
    event.add("dtstart", appointment.start_at.astimezone(timezone.utc))
    event.add("dtend", appointment.end_at.astimezone(timezone.utc))
    event.add("sequence", sum(a.version for a in case.appointments))
    locale = locale or (case.customer.locale if case.customer.locale in TEXTS else "fr")
    event.add("summary", f"{job_named(case, locale)} — {garage.name}")
    event.add("location", f"{garage.name}, {garage.address}, {garage.city}")
    event.add("description", f"{case.vehicle.model} {case.vehicle.plate}")
    event.add("status", "CANCELLED" if appointment.status == "cancelled" else "CONFIRMED")
    cal.add_component(event)
    return cal.to_ical().decode()


def _when(moment: datetime, appointment: Appointment, locale: str, now: datetime) -> str:
    """The time as the customer reads it, in the garage's zone: "jeudi 3 décembre à 10:00", with the year when
    it is not this year's ("jeudi 3 décembre 2099 à 10:00": short_date)."""
    zone = appointment.garage.zone
    local = moment.astimezone(zone)
    day = short_date(local.date(), now.astimezone(zone).date(), locale, weekday="EEEE", month="MMMM")
    return f"{day} à {local:%H:%M}" if locale == "fr" else f"{day} at {local:%H:%M}"


def recipient(customer: Customer) -> str:
    """Where a customer's messages go: their e-mail address when they gave one, else their phone number."""
    return customer.email or customer.phone


def how_told(customer: Customer) -> str:
    """How a message reaches this customer: "email", or "phone" when reception has to call them."""
    return "email" if is_email_address(recipient(customer)) else "phone"


def tells_of_move(garage_before: str, start_before: datetime, garage_after: str, start_after: datetime) -> bool:
    """Whether a move is one the customer hears of: another time or another garage. Another technician at the
    same time and place changes nothing for them, and a message would announce a move to where they already are."""
    return (garage_before, start_before) != (garage_after, start_after)


def queue(session: Session, kind: str, appointment: Appointment, now: datetime,
          before: datetime | None = None, minutes: int = 0, why: str = "urgent") -> Message:
    """Write the customer's message about this appointment (booked, moved from `before`, cancelled, delayed by up
    to `minutes` because of `why`: an urgent car taken in before it, or work before it that overran). A booking or
    move with `minutes` is an overbooking behind work taken first: the customer is told how long they may wait."""
    case: Case = appointment.case
    customer = case.customer
    locale = customer.locale if customer.locale in TEXTS else "fr"
    subject, body = TEXTS[locale][kind]
    words = {"name": customer.name, "when": _when(appointment.start_at, appointment, locale, now),
             "before": _when(before, appointment, locale, now) if before else "", "garage": appointment.garage.name,
             "address": f"{appointment.garage.address}, {appointment.garage.city}",
             "vehicle": f"{case.vehicle.model} {case.vehicle.plate}",
             "job": job_named(case, locale),
             "minutes": minutes, "why": TEXTS[locale]["why"][why]}
    session.flush()  # the appointment's id and version are in the event
    text = body.format(**words)
    if minutes > 0 and kind in ("booked", "moved"):
        text += TEXTS[locale]["behind"].format(**words)
    if kind in TEXTS[locale]["attached"] and how_told(customer) == "email":
        text += TEXTS[locale]["attached"][kind]
    link = feedback_link(case) if kind in ("booked", "moved") else None
    if link:  # feedback belongs to the case and its stages: the confirmation carries the way to give it, and so does
        # a move's message (the confirmation may never have gone: supersede_unsent)
        text += TEXTS[locale]["feedback"].format(link=link)
    message = Message(case=case, appointment_id=appointment.id, garage_id=appointment.garage_id, kind=kind,
                      recipient=recipient(customer), locale=locale, subject=subject.format(**words),
                      body=text, ics=calendar(appointment, now, locale), created_at=now, next_attempt_at=now)
    session.add(message)
    session.info["frontline.messages_queued"] = True  # the web layer may deliver right after the commit
    return message


# Why a message was never sent, in the API's language (web.filters.delivery_error words it for the reader): what it
# told stopped being true before it went.
SUPERSEDED = "superseded: its booking was replaced before it went"
CANCELLED = "superseded: its booking was cancelled before it went"
NO_LONGER_LATE = "superseded: the wait it told of is over before it went"
STARTED = "superseded: the work began before it went"


def any_sent(session: Session, appointments: list[Appointment]) -> bool:
    """Whether the customer has heard anything about these bookings (a message sent)."""
    return session.scalar(select(Message.id).where(Message.appointment_id.in_([a.id for a in appointments]),
                                                   Message.status == "sent").limit(1)) is not None


def withdrawn(message: Message) -> bool:
    """A message never sent on purpose (superseded: its booking cancelled or replaced, the wait it told of over):
    API.md's status for it is "failed", but nothing went wrong and nobody needs to act."""
    return message.status == "failed" and (message.last_error or "").startswith("superseded:")


def never_told(session: Session, appointment: Appointment) -> bool:
    """Whether the customer has heard nothing of this booking: its confirmation has not gone, nor anything else about
    it. A cancellation would tell them of a booking they never knew of (a walk-in placed and then let go)."""
    rows = session.execute(select(Message.kind, Message.status).where(Message.appointment_id == appointment.id)).all()
    return any(kind == "booked" for kind, _status in rows) and all(status != "sent" for _kind, status in rows)


def supersede_unsent(session: Session, appointments: list[Appointment], why: str = SUPERSEDED,
                     kinds: tuple[str, ...] = MESSAGE_KINDS) -> None:
    """Messages about these bookings not sent yet (or failed) are no longer true once they are replaced: they are
    never sent, so the customer hears of the booking that holds, not of each one before it. API.md's statuses are
    queued, sent and failed: such a message is failed for good, its error saying why (`why`), never tried again.
    `kinds`: only messages of these kinds (a delay that is over, not the booking's confirmation)."""
    ids = [a.id for a in appointments]
    if not ids:
        return
    for message in session.scalars(select(Message).where(Message.appointment_id.in_(ids), Message.kind.in_(kinds),
                                                         Message.status.in_(("queued", "failed")))):
        message.status, message.last_error = "failed", why
        message.attempts, message.next_attempt_at = len(RETRY_MINUTES) + 1, None


def visible(session: Session, actor: User, status: str | None = None, limit: int = 200, offset: int = 0
            ) -> list[Message]:
    """A garage's outbox for its reception; every message for an admin."""
    query = select(Message).order_by(Message.created_at.desc(), Message.id.desc())
    if actor.role == "reception":
        query = query.where(Message.garage_id == actor.garage_id)
    if status:
        query = query.where(Message.status == status)
    return list(session.scalars(query.limit(limit).offset(offset)))


def readable(session: Session, actor: User, message_id: int) -> Message:
    """One message, as it was sent: for the staff of the garage it was sent for (reception, who answers the
    customer, and the workshop, whose work it announces), and for admins."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(N_("No message %(id)s."), words={"id": message_id})
    if actor.role != "admin" and not (actor.role in ("reception", "workshop") and actor.garage_id == message.garage_id):
        raise Forbidden(N_("Only the garage's reception and workshop read what its customers were told."))
    return message


def attachment_name(message: Message) -> str:
    """The calendar file's name, in the message's language: the customer's and the garage's copy are one file."""
    return "rendez-vous.ics" if message.locale == "fr" else "appointment.ics"


def told_by_phone(session: Session, actor: User, message_id: int, now: datetime) -> Message:
    """Reception phoned a customer who has no e-mail address: the message is sent, by the person who told them."""
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(N_("No message %(id)s."), words={"id": message_id})
    if actor.role != "admin" and not (actor.role == "reception" and actor.garage_id == message.garage_id):
        raise Forbidden(N_("Only the garage's reception tells its customers."))
    if message.by_email or message.status != "queued":
        raise Conflict(N_("This message is not waiting for a phone call (%(status)s)."),
                       words={"status": "e-mail" if message.by_email else message.status})
    message.status, message.sent_at, message.last_error = "sent", now, ""
    message.case.log("told_by_phone", actor, now, message=message.id, kind=message.kind)
    session.flush()
    return message


Send = Callable[[EmailMessage], None]


def smtp_sender(url: str) -> Send:
    """A sender for `smtp://user:password@host:port` (or `smtps://` for TLS from the start)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(f"FRONTLINE_SMTP_URL must look like smtp://user:password@host:25, not {url!r}")

    def send(email: EmailMessage) -> None:
        kind = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
        with kind(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25), timeout=10) as smtp:
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(email)

    return send


def _email(message: Message, sender_address: str) -> EmailMessage:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = sender_address, message.recipient, message.subject
    email.set_content(message.body)
    if message.ics:
        email.add_attachment(message.ics.encode(), maintype="text", subtype="calendar",
                             filename=attachment_name(message))
    return email


def due(session: Session, now: datetime, limit: int = 100) -> list[Message]:
    return list(session.scalars(
        select(Message).where(or_(Message.status == "queued",
                                  (Message.status == "failed") & (Message.attempts < len(RETRY_MINUTES) + 1)),
                              or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now))
        .order_by(Message.created_at, Message.id).limit(limit).with_for_update(skip_locked=True)))


def deliver(session: Session, send: Send, now: datetime, sender_address: str = "Frontline <noreply@frontline.local>"
            ) -> tuple[int, int]:
    """Send what is due; a failure is kept with its error and tried again later. Returns (sent, failed)."""
    sent = failed = 0
    for message in due(session, now):
        if not message.by_email:
            continue  # no SMS gateway: it waits, visible in the outbox
        message.attempts += 1
        try:
            send(_email(message, sender_address))
        except (OSError, smtplib.SMTPException) as exc:
            message.status, message.last_error = "failed", f"{type(exc).__name__}: {exc}"[:500]
            wait = RETRY_MINUTES[min(message.attempts - 1, len(RETRY_MINUTES) - 1)]
            message.next_attempt_at = now + timedelta(minutes=wait)
            failed += 1
        else:
            message.status, message.sent_at, message.last_error = "sent", now, ""
            sent += 1
    session.flush()
    return sent, failed
