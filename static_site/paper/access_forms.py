"""The paper of access (002 reg., its appendices): the request form, the guardian's consent form, the refusal.

The request and the consent are blank forms filled in with the school's, the guardian's and the children's
names, for the guardian to sign; the refusal decision is printed from a recorded decision, its reason ticked
among all six of §2.12 and signed by the director (`access.director`). HTML from the templates, PDF with
WeasyPrint (static_site.paper.pdf), like every other paper document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from app.base.consent import CHANNELS, REFUSAL_REASONS
from app.base.models import AccessRequest, Guardian, Student
from app.base.settings import Settings
from static_site.paper import pdf


@dataclass(frozen=True)
class Child:
    """A child as the forms name them."""

    name: str
    class_name: str
    birth_date: dt.date


def children_of(students: Sequence[Student]) -> list[Child]:
    """The children in form order: by name."""
    rows = [Child(s.full_name, s.school_class.name, s.birth_date) for s in students]
    return sorted(rows, key=lambda c: c.name)


def _guardian_context(guardian: Guardian | None) -> dict[str, str]:
    if guardian is None:
        return {"guardian": "", "contacts": ""}
    contacts = ", ".join(p for p in (guardian.phone, guardian.email) if p)
    return {"guardian": guardian.full_name, "contacts": contacts}


def request_html(conf: Settings, guardian: Guardian | None, students: Sequence[Student]) -> str:
    """The request (запрос, заявление) for access to the diary, filled in for the guardian and children."""
    return pdf.render_html("request_form.html", school=conf.school_name, director=conf.director,
                           children=children_of(students), **_guardian_context(guardian))


def consent_html(conf: Settings, guardian: Guardian | None, students: Sequence[Student]) -> str:
    """The guardian's consent to the processing of the children's personal data, filled in."""
    return pdf.render_html("consent_form.html", school=conf.school_name, children=children_of(students),
                           **_guardian_context(guardian))


def refusal_html(conf: Settings, request: AccessRequest, guardian: Guardian) -> str:
    """The signed decision refusing access, with the request's reason ticked."""
    if request.state != "refused" or request.refusal is None:
        raise ValueError("the request is not refused")
    return pdf.render_html("refusal.html", school=conf.school_name, director=conf.director,
                           guardian=guardian.full_name, reasons=REFUSAL_REASONS, chosen=request.refusal,
                           received_on=request.received_on, decided_on=request.decided_on,
                           children=children_of(request.students), channel=CHANNELS[request.channel])


def to_pdf(html: str) -> bytes:
    """The PDF of one form (PdfUnavailable without WeasyPrint's libraries)."""
    return pdf.to_pdf(pdf.layout(html))
