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
    plain = re.sub(r"\bs/\s*", "sur ", plain)  # "Villefranche s/ Saône"
    plain = re.sub(r"\barr(?:ondissement)?\b\.?", "", plain)  # "Lyon 7ème arrondissement", "Lyon 7e arr."
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


# A point as a map or a phone's location gives it: "45.7485, 4.8467", "45.7485,4.8467", "45,7485 ; 4,8467"
# (French decimals), or separated by a space only. Decimals always: "69 007" is a postcode read out, not a point.
_NUMBER = r"([-+]?\d{1,3}[.,]\d+)"
POINT = re.compile(rf"{_NUMBER}\s*(?:;|,\s|\s)\s*{_NUMBER}|([-+]?\d{{1,3}}\.\d+),([-+]?\d{{1,3}}\.\d+)")


def point(text: str) -> Place | None:
    """Latitude and longitude typed, in degrees (a caller outside the area's towns: a motorway, a village the list
    lacks); None when the text is not two such numbers or they are off the globe."""
    typed = POINT.fullmatch(text.strip())
    if typed is None:
        return None
    lat, lon = (float(n.replace(",", ".")) for n in typed.groups() if n is not None)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Place(f"{lat:.5f}, {lon:.5f}", lat, lon)


def find(session: Session, text: str) -> Place | None:
    """The place a person typed: a garage (id, name or "City — Name"), a postcode, a commune's name or
    the start of it when only one commune starts so, or a point (latitude, longitude). None when it is not in the
    network's area."""
    text = (text or "").strip()
    if not text or len(text) > 120:
        return None
    if (at := point(text)) is not None:
        return at
    network = garages(session)
    for place in network:
        if text == place.garage or key(text) in (key(place.name), key(place.name.split(" — ", 1)[1])):
            return place
    labelled = re.fullmatch(r"(.*?)\s*\((\d{5})\)", text)  # what the list suggests: "Vénissieux (69200)"
    if labelled:
        text = labelled.group(1) or labelled.group(2)
    text = re.sub(r"\b(\d{2}) (\d{3})\b", r"\1\2", text)  # a postcode as it is read out: "69 007"
    if re.fullmatch(r"\d{5}", text):
        return next((c for c in communes() if c.postcode == text), None)
    coded = re.search(r"\b\d{5}\b", text)
    if coded:  # the postcode with its town, either side ("69003 Lyon", "Villeurbanne 69100"): they must agree
        town = key(text[:coded.start()] + text[coded.end():])
        return next((c for c in communes() if c.postcode == coded.group(0)
                     and (key(c.name).startswith(town) or town.startswith(key(c.name)))), None)
    wanted = key(text)
    exact = [c for c in communes() if key(c.name) == wanted]
    if exact:
        return exact[0]
    starting = [c for c in communes() if key(c.name).startswith(wanted)]
    if len(starting) == 1 and len(wanted) >= 3:
        return starting[0]
    # the part of town a garage is named after ("Gerland", "Part-Dieu", "Gratte-Ciel"), when one garage has it
    quarter = [p for p in network if len(wanted) >= 4 and wanted in key(p.name.split(" — ", 1)[1])]
    return quarter[0] if len(quarter) == 1 and not starting else None


def several(text: str) -> list[Place]:
    """The communes a name could be when it is more than one ("Lyon": each arrondissement), so the person can be
    asked which; [] when the name is one place or none."""
    wanted = key(text or "")
    starting = [c for c in communes() if key(c.name).startswith(wanted)] if len(wanted) >= 3 else []
    return starting if len(starting) > 1 and not any(key(c.name) == wanted for c in starting) else []
