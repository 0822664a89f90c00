"""Texts the scheduler (and the seed) hand to people, marked for the translators but worded by web.

`N_` marks a literal for extraction (`flask --app web translate update`) and returns it unchanged: the
scheduler imports no Flask and speaks no language; web renders the English msgid in the reader's language.
"""

from __future__ import annotations


def N_(text: str) -> str:  # noqa: N802 - gettext's conventional name for "mark, do not translate now"
    return text


class Phrase(str):
    """A marked text used as a word of another (a refusal's reason): web translates it before filling it in."""
