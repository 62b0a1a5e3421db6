"""Translation helpers: `N_` marks text for the catalog where it is declared, `_` translates it when shown."""

from __future__ import annotations

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
    return gettext(ROLE_LABELS.get(role, role))


# Listed for the message catalog: each text above is translated by `role_label`.
_CATALOG = [N_("Administrator"), N_("Director"), N_("Deputy director"), N_("Class teacher"), N_("Subject teacher")]
