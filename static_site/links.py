"""Family links: issue one per consenting guardian, rotate, revoke, export for the staff who hand them out.

A token is 160 random bits from `secrets`, written in lowercase base32: never derived from an id, safe on
case-insensitive disks (a USB stick) and easy to read out over the phone. Every change queues the family
for the site builder, so its pages appear or disappear at the next build.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import Family, FamilyLink, Guardian, Student
from app.base.rebuild_queue import mark_families_dirty
from app.base.settings import Settings
from static_site.access import (
    LINK_CHANNELS,
    FamilyAccess,
    age_on,
    family_access,
    link_expired,
    student_link_allowed,
)
from static_site.last_year import carry_over

TOKEN_BYTES = 20
TOKEN_PATTERN = re.compile(r"^[a-z2-7]{32}$")
# Called with every link issued (a rotation too), in the same transaction: app.notify queues the link's message.
ISSUED: list[Callable[[FamilyLink, FamilyAccess, Guardian], None]] = []


class LinkRefused(Exception):
    """A link may not be issued; the message says why, in Russian."""


def new_token() -> str:
    """A fresh token: 160 bits from `secrets`, lowercase base32 without padding."""
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode().lower().rstrip("=")


def link_url(conf: Settings, token: str) -> str:
    """The address a family opens."""
    return f"{conf.site_base_url}/d/{token}/"


def token_from(text: str) -> str:
    """The token in a pasted link or the token itself."""
    text = text.strip().rstrip("/")
    return text.rsplit("/", 1)[-1].lower()


def active(link: FamilyLink, now: dt.datetime) -> bool:
    """Neither revoked nor expired (the family's access is checked separately)."""
    return link.revoked_at is None and not link_expired(link, now)


def issue(access: FamilyAccess, guardian: Guardian, now: dt.datetime, expires_at: dt.datetime | None = None,
          ) -> FamilyLink:
    """A new link for a guardian of the family; refused without consent, link channel or a child to show."""
    family = access.family
    if guardian.id not in {g.id for g in family.guardians}:
        raise LinkRefused(f"{guardian.full_name} не входит в семью «{family.name}».")
    if family.channel not in LINK_CHANNELS:
        raise LinkRefused(f"Семья «{family.name}» получает дневник только на бумаге.")
    if guardian.id not in access.consenting:
        raise LinkRefused(f"Нет согласия на обработку персональных данных от {guardian.full_name}.")
    if not access.children:
        raise LinkRefused(f"В семье «{family.name}» нет учеников, чей дневник можно показать.")
    link = FamilyLink(token=new_token(), family_id=family.id, guardian_id=guardian.id, issued_at=now,
                      expires_at=expires_at)
    db.session.add(link)
    access.links.append(link)
    mark_families_dirty({family.id})
    for hook in ISSUED:
        hook(link, access, guardian)
    return link


def issue_student(access: FamilyAccess, student: Student, now: dt.datetime, today: dt.date, min_age: int,
                  expires_at: dt.datetime | None = None) -> FamilyLink:
    """A student's own link (002 §1.9, §3.6.9), to their own diary only, under a consenting guardian's consent."""
    family = access.family
    if student.id not in {s.id for s in family.students}:
        raise LinkRefused(f"{student.full_name} не входит в семью «{family.name}».")
    if family.channel not in LINK_CHANNELS:
        raise LinkRefused(f"Семья «{family.name}» получает дневник только на бумаге.")
    guardian = next((g for g in sorted(family.guardians, key=lambda g: (g.last_name, g.first_name, g.id))
                     if g.id in access.consenting), None)
    if guardian is None:
        raise LinkRefused(f"Нет согласия на обработку персональных данных ни от одного родителя семьи «{family.name}».")
    if student.id not in {s.id for s in access.children}:
        raise LinkRefused(f"Дневник ученика {student.full_name} показывать нельзя (выбыл или исполнилось 18 лет).")
    if not student_link_allowed(student, today, min_age):
        raise LinkRefused(f"Собственную ссылку можно выдать ученику с {min_age} лет; "
                          f"{student.full_name}: {age_on(student.birth_date, today)}.")
    link = FamilyLink(token=new_token(), family_id=family.id, guardian_id=guardian.id, student_id=student.id,
                      issued_at=now, expires_at=expires_at)
    db.session.add(link)
    access.links.append(link)
    mark_families_dirty({family.id})
    return link


def issue_missing(today: dt.date, now: dt.datetime, expires_at: dt.datetime | None = None) -> list[FamilyLink]:
    """A link for every consenting guardian of every family that may see pages and has none active."""
    issued = []
    for access in family_access(None, today, now).values():
        if not access.children or access.family.channel not in LINK_CHANNELS:
            continue
        holders = {link.guardian_id for link in access.links if active(link, now) and link.student_id is None}
        for guardian in access.family.guardians:
            if guardian.id in access.consenting and guardian.id not in holders:
                issued.append(issue(access, guardian, now, expires_at))
    return issued


def revoke(link: FamilyLink, now: dt.datetime, reason: str = "revoked") -> None:
    """Stop a link: its pages answer 404 after the next build."""
    if link.revoked_at is None:
        link.revoked_at, link.revoked_reason = now, reason
        mark_families_dirty({link.family_id})


def rotate(link: FamilyLink, today: dt.date, now: dt.datetime) -> FamilyLink:
    """Replace a link by a new one for the same guardian; the old one stops at the next build.

    The new link reads what the old one did, last year's kept pages too (static_site/last_year.py: copied to
    the new token now; the old token's copy goes at the next build with its pages)."""
    access = family_access([link.family_id], today, now)[link.family_id]
    guardian = db.session.get(Guardian, link.guardian_id)
    assert guardian is not None
    was_live = link.revoked_at is None
    revoke(link, now, "rotated")
    expires = None if link_expired(link, now) else link.expires_at
    conf = settings()
    if link.student_id is not None:
        student = db.session.get(Student, link.student_id)
        assert student is not None
        new = issue_student(access, student, now, today, conf.student_min_age, expires)
    else:
        new = issue(access, guardian, now, expires)
    if was_live:  # a link already revoked has lost its kept year (or will at the next build): nothing to carry
        carry_over(conf.site_output_dir, link.token, new.token)
    return new


def find_link(text: str) -> FamilyLink | None:
    """The link named by a token or a pasted URL."""
    token = token_from(text)
    if not TOKEN_PATTERN.match(token):
        return None
    return db.session.scalars(select(FamilyLink).where(FamilyLink.token == token)).first()


@dataclass(frozen=True)
class ExportRow:
    """One line of the links export."""

    family: str
    guardian: str
    url: str
    children: str


def export_rows(conf: Settings, today: dt.date, now: dt.datetime) -> list[ExportRow]:
    """Every live link with its family, guardian and children, ordered by family name."""
    rows = []
    guardians = {g.id: g for g in db.session.scalars(select(Guardian))}
    for access in sorted(family_access(None, today, now).values(), key=lambda a: (a.family.name, a.family.id)):
        for link in access.live:
            children = "; ".join(f"{s.full_name} ({s.school_class.name})" for s in access.shown(link))
            holder = guardians[link.guardian_id].full_name if link.student_id is None else \
                f"{access.shown(link)[0].full_name} (ученик)"
            rows.append(ExportRow(access.family.name, holder, link_url(conf, link.token), children))
    return rows


def families_named(text: str) -> list[Family]:
    """Families whose id is `text` or whose name contains it (case-insensitive)."""
    family = db.session.get(Family, text)
    if family is not None:
        return [family]
    needle = text.casefold()
    return [f for f in db.session.scalars(select(Family)) if needle in f.name.casefold()]
