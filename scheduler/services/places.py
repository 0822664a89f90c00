"""Where the caller is: a garage of the network, or a town or postcode of its area (shipped, no network access).

The communes come from seed/communes.csv (name, postcode, lat, lon): approximate town centres, close enough
to find the nearest garages.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Garage


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    postcode: str = ""
    garage: str | None = None  # the garage's id when the place is a garage

    @property
    def label(self) -> str:
        return f"{self.name} ({self.postcode})" if self.postcode else self.name


def key(text: str) -> str:
    """A place name as compared: no accents, case, punctuation or ordinal suffix ("Lyon 07ème" is "lyon7")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    plain = re.sub(r"\bst(e?)\b", r"saint\1", plain)
    plain = re.sub(r"(\d+)\s*(?:er|eme|e|th|st|nd|rd)\b", r"\1", plain)
    plain = re.sub(r"\b0+(\d)", r"\1", plain)
    return re.sub(r"[^a-z0-9]", "", plain)


@cache
def communes() -> tuple[Place, ...]:
    with resources.files("seed").joinpath("communes.csv").open(encoding="utf-8") as rows:
        return tuple(Place(r["name"], float(r["lat"]), float(r["lon"]), r["postcode"]) for r in csv.DictReader(rows))


def garages(session: Session) -> list[Place]:
    return [Place(f"{g.city} — {g.name}", g.lat, g.lon, garage=g.id)
            for g in session.scalars(select(Garage).order_by(Garage.city, Garage.name))]


def find(session: Session, text: str) -> Place | None:
    """The place a person typed: a garage (id, name or "City — Name"), a postcode, or a commune's name or
    the start of it when only one commune starts so. None when it is not in the network's area."""
    text = (text or "").strip()
    if not text or len(text) > 120:
        return None
    network = garages(session)
    for place in network:
        if text == place.garage or key(text) in (key(place.name), key(place.name.split(" — ", 1)[1])):
            return place
    labelled = re.fullmatch(r"(.*?)\s*\((\d{5})\)", text)  # what the list suggests: "Vénissieux (69200)"
    if labelled:
        text = labelled.group(1) or labelled.group(2)
    if re.fullmatch(r"\d{5}", text):
        return next((c for c in communes() if c.postcode == text), None)
    wanted = key(text)
    exact = [c for c in communes() if key(c.name) == wanted]
    if exact:
        return exact[0]
    starting = [c for c in communes() if key(c.name).startswith(wanted)]
    return starting[0] if len(starting) == 1 and len(wanted) >= 3 else None


def several(text: str) -> list[Place]:
    """The communes a name could be when it is more than one ("Lyon": each arrondissement), so the person can be
    asked which; [] when the name is one place or none."""
    wanted = key(text or "")
    starting = [c for c in communes() if key(c.name).startswith(wanted)] if len(wanted) >= 3 else []
    return starting if len(starting) > 1 and not any(key(c.name) == wanted for c in starting) else []
