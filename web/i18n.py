"""Language: the user's setting, else the header switch, else the browser; and the catalogs' upkeep."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import current_app, request, session
from flask_login import current_user

from scheduler.models.user import NOT_LOADED


def translate_term(text: str, locale: str) -> str:
    """A text in `locale` outside any request (messages written for customers), from the compiled catalog."""
    return _translations(locale).gettext(text)


def catalog_french(label: str) -> str | None:
    """The translation catalog's French for a catalogue label (a seeded skill or job type), None when it has none."""
    french = translate_term(label, "fr")
    return french if french != label else None


def french_kept(row, data: dict) -> dict:
    """A change of a skill's or job type's labels that keeps its French words: a seeded entry reads in French from
    the translation catalog, by its English label, so renaming the English would turn French pages English. The
    page's form opens with that French (`catalog_french`): posted back unchanged it is no change; an API change of
    the English alone stores the French it had. An entry with a French label of its own (every symptom) keeps it
    as it is."""
    french = None if row.label_fr else catalog_french(row.label)
    if french is None:
        return data
    renamed = data.get("label", row.label) != row.label
    if "label_fr" not in data and renamed:
        return {**data, "label_fr": french}
    if data.get("label_fr") == french and not renamed:
        return {k: v for k, v in data.items() if k != "label_fr"}
    return data


@lru_cache(maxsize=8)
def _translations(locale: str):
    from babel.support import Translations

    return Translations.load(str(CATALOGS), [locale])


def select_locale() -> str | None:
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated:
        chosen = current_user.locale if current_user.reads_in is NOT_LOADED else current_user.reads_in
        if chosen in languages:
            return chosen
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages)


VOWELS = "AEIOUÉÈÊËÂÀÎÏÔÛÙÜ"


def elided(text: str, names) -> str:  # names: a callable, asked only when the text could need it
    """French elides "de" and "que" before a vowel: "les ponts de Écully" is "les ponts d’Écully". Done for these
    names only (the garages'), which a template or a refusal puts after its own "de"; a customer's name is left as
    typed ("Manuel de Oliveira")."""
    if not ELIDABLE.search(text):
        return text
    vowelled = sorted((re.escape(n) for n in names() if n[:1].upper() in VOWELS), key=len, reverse=True)
    if not vowelled:
        return text
    return re.sub(rf"\b(d|qu)e ({'|'.join(vowelled)})(?!\w)", "\\1’\\2", text)


ELIDABLE = re.compile(rf"\b(?:d|qu)e [{VOWELS}]")


def garage_names() -> list[str]:
    """The network's garage names, read once per request; none when the database cannot be read (the 503 page)."""
    return list(garage_name_by_id().values())


def garage_name_by_id() -> dict[str, str]:
    """Each garage's name by its id, read once per request, in the order a reader looks for them ("Écully" among
    the E); empty when the database cannot be read (the 503 page)."""
    from flask import g
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from scheduler.models import Garage
    from scheduler.models.case import name_key
    from web.extensions import db

    if "garage_name_by_id" not in g:
        try:
            rows = db.session.execute(select(Garage.id, Garage.name)).all()
        except SQLAlchemyError:
            rows = []
        g.garage_name_by_id = dict(sorted(((i, n) for i, n in rows), key=lambda pair: name_key(pair[1])))
    return g.garage_name_by_id


def in_french(text: str) -> str:
    """A text for the reader, elided if the reader reads French."""
    from flask_babel import get_locale

    return elided(text, garage_names) if str(get_locale()) == "fr" else text


def elide_french_page(response):
    """after_request: a French page's garage names elided after "de" and "que" (`elided`)."""
    if response.mimetype == "text/html" and not response.direct_passthrough:
        text = response.get_data(as_text=True)
        done = in_french(text)
        if done != text:
            response.set_data(done)
    return response


# The catalogs' upkeep: `flask --app web translate update | compile | check` (README, "Translations").
# The compiled .mo files are committed, so a fresh checkout speaks French without a build step;
# tests/web/test_translations.py fails when the .po, the .mo or the source disagree.

WEB = Path(__file__).parent
ROOT = WEB.parent
MAPPING = WEB / "babel.cfg"
CATALOGS = WEB / "translations"
SOURCES = ("web", "scheduler", "seed")  # scheduler and seed mark their texts with scheduler.texts.N_
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "N_": None}


def extract() -> Catalog:
    """Every text of the app to translate, as found in the source now."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with MAPPING.open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    catalog = Catalog(project="Frontline", charset="utf-8")
    for source in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / source, method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True):
            catalog.add(message, None, [(f"{source}/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


NNBSP = "\u202f"
_BEFORE_PUNCTUATION = re.compile(r"(?<=[^\s\u202f\u00a0(\[])[ \u00a0]?([;!?]|:(?=\s|$))")


def french_typography(text: str) -> str:
    """A narrow no-break space before ; ! ? and a spaced colon, as French sets them; never in "09:30" or "%(x)s"."""
    return _BEFORE_PUNCTUATION.sub(lambda m: NNBSP + m[1], text)


def po_path(locale: str) -> Path:
    return CATALOGS / locale / "LC_MESSAGES" / "messages.po"


def read_catalog(locale: str) -> Catalog:
    with po_path(locale).open("rb") as f:
        return read_po(f, locale=locale)


def missing(catalog: Catalog) -> list[str]:
    """The msgids with no translation yet, or only a fuzzy guess (gettext ignores those)."""
    def done(message) -> bool:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        return all(strings) and not message.fuzzy
    return [message.id if isinstance(message.id, str) else message.id[0]
            for message in catalog if message.id and not done(message)]


def locales() -> list[str]:
    return sorted(p.name for p in CATALOGS.iterdir() if po_path(p.name).exists())


@click.group("translate")
def translate_group() -> None:
    """The French catalog: update it from the source, list what is left (todo), fill it, compile it, check it."""


@translate_group.command("update")
def translate_update() -> None:
    """Extract the texts from the source into each .po (new ones empty, changed ones fuzzy), then list what is left."""
    template = extract()
    for locale in locales():
        catalog = read_catalog(locale)
        created = catalog.creation_date
        catalog.update(template, update_header_comment=False)
        catalog.creation_date = created  # a header that changes at every run would only make merge conflicts
        write_catalog(locale, catalog)
        _report(locale, catalog)


def write_catalog(locale: str, catalog: Catalog) -> None:
    if locale == "fr":
        for message in catalog:
            if message.id and message.string:
                message.string = tuple(map(french_typography, message.string)) \
                    if isinstance(message.string, tuple) else french_typography(message.string)
    with po_path(locale).open("wb") as f:
        # no line numbers: an edit elsewhere in a file does not touch the catalog
        write_po(f, catalog, width=120, ignore_obsolete=True, include_lineno=False)


@translate_group.command("todo")
@click.option("--locale", default="fr", show_default=True)
def translate_todo(locale: str) -> None:
    """The texts left to translate as JSON {msgid: "" or [singular, plural]}: fill it, then `translate fill`."""
    catalog = read_catalog(locale)
    left = set(missing(catalog))
    todo = {}
    for message in catalog:
        if message.id and (message.id if isinstance(message.id, str) else message.id[0]) in left:
            if isinstance(message.id, tuple):
                todo[message.id[0]] = {"plural": message.id[1], "fr": ["", ""]}
            else:
                todo[message.id] = message.string if message.fuzzy else ""
    click.echo(json.dumps(todo, ensure_ascii=False, indent=1))


@translate_group.command("fill")
@click.argument("answers", type=click.File("r", encoding="utf-8"))
@click.option("--locale", default="fr", show_default=True)
def translate_fill(answers, locale: str) -> None:
    """Put the translations of a filled `translate todo` file into the .po (typography set, fuzzy flags cleared)."""
    given = json.load(answers)
    catalog = read_catalog(locale)
    filled = 0
    for message in catalog:
        key = message.id if isinstance(message.id, str) else (message.id[0] if message.id else None)
        value = given.get(key) if key else None
        if isinstance(value, dict):
            value = value.get(locale)
        if not value or (isinstance(message.id, tuple) != isinstance(value, list)) or \
                (isinstance(value, list) and not all(value)):
            continue
        message.string = tuple(value) if isinstance(value, list) else value
        message.flags.discard("fuzzy")
        filled += 1
    write_catalog(locale, catalog)
    click.echo(f"{locale}: {filled} translation(s) filled")
    _report(locale, catalog)


@translate_group.command("compile")
def translate_compile() -> None:
    """Compile each .po into the .mo the app loads (commit both)."""
    for locale in locales():
        catalog = read_catalog(locale)
        with po_path(locale).with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)  # fuzzy entries are left out, as gettext would
        click.echo(f"{locale}: compiled {_shown(po_path(locale).with_suffix('.mo'))}")


@translate_group.command("check")
def translate_check() -> None:
    """Fail when a text of the source is missing from a .po or has no translation yet."""
    known = {m.id for m in extract() if m.id}
    failed = False
    for locale in locales():
        catalog = read_catalog(locale)
        absent = sorted(str(i) for i in known - {m.id for m in catalog if m.id})
        failed |= bool(absent) | _report(locale, catalog)
        for msgid in absent:
            click.echo(f"  not in the catalog (run translate update): {msgid}")
    if failed:
        raise SystemExit(1)


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _report(locale: str, catalog: Catalog) -> bool:
    left = missing(catalog)
    click.echo(f"{locale}: {len(left)} text(s) to translate in {_shown(po_path(locale))}")
    for msgid in left:
        click.echo(f"  {msgid}")
    return bool(left)
