"""The journal's texts through Flask-Babel, set up as the hub's staff pages are: English message ids in the
code and templates, the Russian catalog in `classroom/translations` (only its `.po` is kept in git; the `.mo`
is compiled when the app starts). The journal speaks Russian whatever the browser asks for.

Message extraction (as for the staff pages):
    .venv/bin/pybabel extract -F classroom/babel.cfg -k N_ -o /tmp/classroom.pot classroom
    .venv/bin/pybabel update -i /tmp/classroom.pot -d classroom/translations
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask_babel import Babel, format_date, gettext

__all__ = ["N_", "gettext", "init_app", "week_day"]

TRANSLATIONS = Path(__file__).parent / "translations"
LOCALE = "ru"


def N_(text: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Mark a text for translation without translating it yet."""
    return text


def compile_catalogs(translations: Path = TRANSLATIONS) -> None:
    """Compile each `messages.po` to its `messages.mo` when the .mo is missing or older.

    The same as the hub's (`app/staff/i18n.py`), which the classroom app may not import: written to a
    temporary file and renamed, so that two processes starting at once never read half a catalog.
    """
    for po_path in translations.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source)
        partial = mo_path.with_name(f".{mo_path.name}.{os.getpid()}")
        with partial.open("wb") as target:
            write_mo(target, catalog)
        os.replace(partial, mo_path)


def init_app(app: Flask) -> None:
    """Compile the catalog and set up Flask-Babel for the journal (Russian)."""
    compile_catalogs()
    Babel(app, default_locale=LOCALE, default_translation_directories=str(TRANSLATIONS),
          locale_selector=lambda: LOCALE)


def week_day(day: dt.date) -> str:
    """пн, 16 ноября (the weekday and the date in the journal's language)."""
    return str(format_date(day, "EEE, d MMMM"))
