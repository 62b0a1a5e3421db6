"""Translation helpers: `N_` marks text for the catalog where it is declared, `_` translates it when shown."""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_babel import gettext

ROLE_LABELS = {
    "administrator": "Administrator",
    "director": "Director",
    "deputy": "Deputy director",
    "class_teacher": "Class teacher",
    "subject_teacher": "Subject teacher",
}


def N_(text: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Mark a text for translation without translating it yet."""
    return text


def role_label(role: str) -> str:
    """The role's name in the page's language."""
    return str(gettext(ROLE_LABELS.get(role, role)))


# Listed for the message catalog: each text above is translated by `role_label`.
_CATALOG = [N_("Administrator"), N_("Director"), N_("Deputy director"), N_("Class teacher"), N_("Subject teacher")]


def compile_catalogs(translations: Path) -> None:
    """Compile each `messages.po` to its `messages.mo` when the .mo is missing or older (only the .po is kept in git).

    Written to a temporary file and renamed, so that two workers starting at once never read half a catalog.
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
