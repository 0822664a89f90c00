"""Every page, for every role, in French: no text of the catalog is left in English.

The pages are found in the URL map, so a page added later is walked too (its path's parameters must be
in PARAMS). What counts as English: the catalog's own msgids (web/translations/fr/.../messages.po, kept
whole by test_translations.py) whose French differs — the pieces of two words or more between their
placeholders, found verbatim in the text a user reads (tags dropped, titles and placeholders kept).
"""

from __future__ import annotations

import functools
import os
import re
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser
from itertools import product
from pathlib import Path

import pytest

from tests.conftest import CLOCK_NOW, PASSWORD
from tests.web.pages import csrf_from
from tests.web.story import call
from web import i18n

DUMP = Path(os.environ["FRENCH_PAGES_DUMP"]) if os.environ.get("FRENCH_PAGES_DUMP") else None
GARAGE = "lyon-07"
ROLES = {"operator": "operator", "planner": "planner", "admin": "admin",
         "reception": f"reception-{GARAGE}", "workshop": f"workshop-{GARAGE}"}
PLACEHOLDER = re.compile(r"%\(\w+\)\d*[sdif]|%%")
# Query strings a page takes, beside its bare address: the states a user reaches with its own links.
VARIANTS = {
    "reception.board": ["?day={tomorrow}"],
    "operator.known_vehicle": ["?plate={plate}"],
    "reception.known_vehicle": ["?plate={plate}"],
    "planner.override_list": ["?kind=direct_line", "?verdict=beat"],
    "planner.rules": ["?weeks=8"],
}
# Addresses that are errors for everyone: their pages are read too.
ERRORS = ["/no-such-page", "/desk/cases/999999", "/lang/fr", "/planner/replays/999999", "/feedback/1.nope"]


def english_pieces() -> dict[str, str]:
    """Each piece of English to look for, with the msgid it comes from."""
    pieces = {}
    for message in i18n.read_catalog("fr"):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        french = " ".join(strings)
        for msgid in ids:
            if msgid in strings:
                continue  # the same in both languages ("Garage", "P1")
            for piece in PLACEHOLDER.split(msgid):
                piece = piece.strip(" :;,.()—–-·/")
                if len(piece.split()) >= 2 and len(piece) >= 8 and piece not in french:
                    pieces.setdefault(piece, msgid)
    return pieces


class VisibleText(HTMLParser):
    """What a user reads: the text, and the titles, placeholders and labels that show on hover or in fields.
    An element marked lang="en" is English on purpose (the catalogue's English labels): it is left out."""

    SHOWN = ("title", "placeholder", "aria-label", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.english: list = []  # [tag, depth] of the lang="en" element being read

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.hidden += 1
        attrs = dict(attrs)
        if self.english and tag == self.english[0]:
            self.english[1] += 1
        elif not self.english and (attrs.get("lang") or "").startswith("en"):
            self.english = [tag, 1]
        if self.english:
            return
        self.parts += [attrs[a] for a in self.SHOWN if attrs.get(a)]
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        if self.english and tag == self.english[0]:
            self.english[1] -= 1
            if not self.english[1]:
                self.english = []

    def handle_data(self, data):
        if not self.hidden and not self.english:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return re.sub(r"[\s\u00a0\u202f]+", " ", unescape(" | ".join(parser.parts)))


def codes() -> set[str]:
    """The scheduler's codes a page must word (statuses, override kinds, verdicts, rules, skills), never show raw."""
    from scheduler.models.override import KINDS, RULE_CODES, VERDICTS
    from seed.catalog import SKILLS

    statuses = {"booked", "checked_in", "in_progress", "done", "cancelled", "no_show", "open", "queued", "sent",
                "failed", "expected", "arrived", "accepted", "declined", "expired", "confirmed", "rejected",
                "superseded", "running"}
    return (set(KINDS) | set(RULE_CODES) | set(VERDICTS) | statuses | {code for code, _ in SKILLS}) - {"none"}


def raw_codes(text: str, known: set[str]) -> list[str]:
    """Codes standing alone as a piece of text (a cell, a tag, a title), as a template that forgot to word them."""
    return sorted({part.strip(" ()·") for part in text.split(" | ")} & known)


def leftovers(text: str, pieces: dict[str, str]) -> list[str]:
    # a plain substring test first: most pieces are on no page, and over a thousand patterns defeat re's cache
    # (each was compiled again for every page: three quarters of the walk's time)
    spaced = re.sub(r"[\s\u00a0\u202f]+", " ", text)
    return sorted(p for p in pieces if p in spaced and _whole(p).search(spaced))


@functools.lru_cache(maxsize=None)
def _whole(piece: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){re.escape(piece)}(?!\w)")


def test_visible_text_keeps_what_a_user_reads_and_drops_markup():
    text = visible_text('<p title="Plus tard">Offres&nbsp;: <b>Lyon</b></p><script>var a = "Book it";</script>'
                        '<input type="submit" value="Book now"><input name="q" placeholder="Plate or phone">'
                        '<td lang="en">Oil <td>nested</td> change</td><td lang="fr">Vidange</td>')
    assert "Plus tard" in text and "Offres : | Lyon" in text and "Book now" in text and "Plate or phone" in text
    assert "Book it" not in text and "Oil" not in text and "nested" not in text and "Vidange" in text
    pieces = {"Book now": "Book now", "Plate or phone": "Plate or phone", "Standard rules": "x"}
    assert leftovers(text, pieces) == ["Book now", "Plate or phone"]
    assert raw_codes(visible_text("<td>rebook</td><td>réservé</td><span>(checked_in)</span>"),
                     {"rebook", "checked_in", "booked"}) == ["checked_in", "rebook"]


@pytest.fixture
def world(app, client, auth):
    """A small day of the network with something on every page: a case on the direct line, a declined one,
    a booked one whose urgency changed, a walk-in with its squeeze-in preview, a job checked in, started and
    finished, a queued replay."""
    from scheduler.services import feedback, outbox, replays
    from scheduler.models import Appointment, User
    from web.extensions import db

    auth.login("operator")
    waiting = auth.post("/api/v1/cases", json=call(plate="FR-101-AA")).get_json()
    assert auth.post(f"/api/v1/cases/{waiting['id']}/direct-line",
                     json={"garage": GARAGE, "message": "Pouvez-vous le prendre ?"}).status_code == 201
    declined = auth.post("/api/v1/cases", json=call(plate="FR-102-BB", symptom="brakes_failing")).get_json()
    request = auth.post(f"/api/v1/cases/{declined['id']}/direct-line",
                        json={"garage": GARAGE, "message": "Aujourd’hui ?"}).get_json()
    booked = auth.post("/api/v1/cases", json=call(plate="FR-103-CC", symptom="oil_change")).get_json()
    rule = client.get(f"/api/v1/cases/{booked['id']}/offers").get_json()["offers"][0]
    made = auth.post(f"/api/v1/cases/{booked['id']}/appointments",
                     json={k: rule[k] for k in ("garage", "technician", "start")} | {"reason": "client pressé"})
    assert made.status_code == 201, made.get_json()
    assert auth.post(f"/api/v1/cases/{booked['id']}/urgency",
                     json={"urgency": "P2", "reason": "bruit inquiétant"}).status_code == 200

    auth.login(ROLES["reception"])
    answer = auth.post(f"/api/v1/direct-line/{request['id']}/answer", json={"accept": False, "reason": "plein"})
    assert answer.status_code == 200, answer.get_json()
    walk_in = auth.post("/api/v1/cases", json={
        "customer": {"name": "Nadia Kaci", "phone": "+33 6 70 00 00 01", "email": "nadia@example.fr"},
        "vehicle": {"plate": "FR-104-DD", "model": "Renault Clio"}, "symptom": "engine_fault_stop"}).get_json()
    preview = auth.post(f"/api/v1/cases/{walk_in['id']}/squeeze", json={"garage": GARAGE}).get_json()
    with app.app_context():  # the job flow on a booked job of today: check-in, start, more time, finish
        job = db.session.scalar(db.select(Appointment).where(
            Appointment.garage_id == GARAGE, Appointment.status == "booked", Appointment.start_at > CLOCK_NOW)
            .order_by(Appointment.start_at).limit(1))
        job_id, worked, technician_id = job.id, job.case_id, job.technician_id
    for step, body in (("check-in", {}), ("start", {}), ("finish", {"note": "plaquettes changées"})):
        done = auth.post(f"/api/v1/appointments/{job_id}/{step}", json=body)
        assert done.status_code == 200, done.get_json()

    with app.app_context():
        planner = db.session.scalar(db.select(User).where(User.username == "planner"))
        user_id = db.session.scalar(db.select(User.id).where(User.username == ROLES["reception"]))
        day = (CLOCK_NOW - timedelta(days=3)).date().isoformat()
        replay = replays.create(db.session, planner, {"from": day, "to": day, "policy": {"rule.garages": 3}},
                                CLOCK_NOW)
        told = outbox.queue(db.session, "booked", db.session.get(Appointment, job_id), CLOCK_NOW)  # with its .ics
        db.session.commit()
        replay_id, message_id = replay.id, told.id
        movable = db.session.scalar(db.select(Appointment.id).where(  # reception's move page of a booking
            Appointment.garage_id == GARAGE, Appointment.status == "booked", Appointment.start_at > CLOCK_NOW)
            .order_by(Appointment.start_at).limit(1))
    return {
        "appointment_id": [movable],
        "case_id": [waiting["id"], declined["id"], booked["id"], walk_in["id"], worked], "garage_id": [GARAGE],
        "preview_id": [preview["id"]], "replay_id": [replay_id], "message_id": [message_id],
        # the admin's pages: a user, a technician, and an item of each kind of the catalogue
        "user_id": [user_id], "technician_id": [technician_id],
        "kind": ["job-types", "symptoms"], "code": ["oil_change", "brakes_failing"],
        "token": [feedback.token_for(booked["id"], app.config["SECRET_KEY"])],
        "plate": "FR-103-CC", "tomorrow": (CLOCK_NOW + timedelta(days=1)).date().isoformat(),
    }


def page_addresses(app, world) -> tuple[list[tuple[str, str]], list[str]]:
    """(endpoint, address) of every page a browser asks for, and the parameters no test value exists for."""
    addresses, unknown = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static")):
            continue
        if rule.endpoint in ("auth.logout",):
            continue
        missing = [a for a in rule.arguments if a not in world]
        if missing:
            unknown.append(f"{rule.rule}: {missing}")
            continue
        names = sorted(rule.arguments)
        for values in product(*(world[n] for n in names)):
            with app.test_request_context():
                path = app.url_for(rule.endpoint, **dict(zip(names, values)))
            addresses.append((rule.endpoint, path))
            addresses += [(rule.endpoint, path + v.format(**world)) for v in VARIANTS.get(rule.endpoint, [])]
    return addresses, unknown


def test_every_page_of_every_role_reads_in_french(backend, request):
    if backend != "sqlite":
        pytest.skip("the pages' language does not depend on the database; the SQLite run covers it")
    app, world = request.getfixturevalue("app"), request.getfixturevalue("world")
    pieces, known = english_pieces(), codes()
    assert len(pieces) > 200, "the catalog is the list of the app's texts"
    addresses, unknown = page_addresses(app, world)
    assert not unknown, f"add test values to the world fixture for the parameters of {unknown}"
    english, seen, statuses = {}, set(), {}
    for role, username in [(None, None), *ROLES.items()]:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
        if username:
            assert client.post("/login", data={"csrf_token": csrf_from(client.get("/login").get_data(as_text=True)),
                                               "username": username, "password": PASSWORD}).status_code == 302
        for endpoint, path in [*addresses, *((None, e) for e in ERRORS)]:
            response = client.get(path)
            statuses[(role, path)] = response.status_code
            if response.status_code < 400 and endpoint:
                seen.add(endpoint)
            if response.mimetype != "text/html" or 300 <= response.status_code < 400:
                continue
            text = visible_text(response.get_data(as_text=True))
            if DUMP:  # for a human read of what the test cannot know is English (texts outside the catalog)
                name = re.sub(r"\W+", "_", f"{role}{path}")[:150]
                (DUMP / f"{name}.txt").write_text(f"{response.status_code} {path}\n{text.replace(' | ', chr(10))}")
            found = leftovers(text, pieces) + raw_codes(text, known)
            if found:
                english[f"{role} {path} ({response.status_code})"] = found
    never = sorted({e for e, _ in addresses} - seen)
    assert not never, f"pages no role could open (status per role in the walk): {never}"
    assert not english, "English left on French pages:\n" + "\n".join(f"{k}: {v}" for k, v in english.items())


def test_the_customers_message_names_the_job_in_the_customers_language(app, world):
    from scheduler.models import Message
    from web.extensions import db

    with app.app_context():
        sent = db.session.scalars(db.select(Message).where(Message.case_id == world["case_id"][2])).all()
        assert sent and all(m.locale == "fr" for m in sent)
        assert all("Travaux : Vidange." in m.body and "SUMMARY:Vidange — " in m.ics for m in sent), sent[0].body
