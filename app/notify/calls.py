"""The class teacher's call list: families of a class who have neither opened the diary nor confirmed a week
(on the page or by a signed paper slip) for SILENT_DAYS days (002 instr. §3.2). The monitoring page, the
dashboard and the weekly e-mail to the class teacher all ask this module."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from app.base import enrolment
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import Family, WeekAck, WeekView, family_student
from app.base.text import aware
from static_site.access import family_access

SILENT_DAYS = 14


@dataclass
class SilentFamily:
    """A family to phone: its guardians and children, and since when nothing was seen of it."""

    family: Family
    since: dt.datetime
    ever: bool  # whether it ever opened or confirmed anything


def _sightings(class_id: str, today: dt.date, now: dt.datetime) -> list[SilentFamily]:
    """Every family of the class's children with a live link, with its last view or confirmation (or the
    moment its first live link was issued, when nothing was seen of it yet)."""
    student_ids = enrolment.student_ids([class_id], today)
    family_ids: set[str] = set()
    for part in chunks(student_ids):
        family_ids |= set(db.session.scalars(select(family_student.c.family_id)
                                             .where(family_student.c.student_id.in_(part))))
    result = []
    for access in family_access(family_ids, today, now).values():
        if not access.live:
            continue
        seen = [aware(m) for m in db.session.scalars(select(WeekView.last_at)
                                                      .where(WeekView.family_id == access.family.id))]
        seen += [aware(m) for m in db.session.scalars(select(WeekAck.confirmed_at)
                                                       .where(WeekAck.family_id == access.family.id))]
        since = max(seen) if seen else min(aware(link.issued_at) for link in access.live)
        result.append(SilentFamily(access.family, since, bool(seen)))
    return sorted(result, key=lambda s: (s.since, s.family.name))


def silent_families(class_id: str, today: dt.date, now: dt.datetime) -> list[SilentFamily]:
    """Families of the class's children with a live link and no view or confirmation for SILENT_DAYS days."""
    limit = now - dt.timedelta(days=SILENT_DAYS)
    return [s for s in _sightings(class_id, today, now) if s.since < limit]


@dataclass(frozen=True)
class LinkedFamilies:
    """What can truly be said when no family is to be phoned: how many have links, and how many are new."""

    live: int  # families with a live link
    fresh: int  # of them: nothing seen yet, links younger than SILENT_DAYS
    newest: dt.datetime | None  # when the newest of those fresh links was issued


def linked_families(class_id: str, today: dt.date, now: dt.datetime) -> LinkedFamilies:
    """Families with links, and those whose links are too new to be silent (nothing opened yet)."""
    limit = now - dt.timedelta(days=SILENT_DAYS)
    sightings = _sightings(class_id, today, now)
    fresh = [s for s in sightings if not s.ever and s.since >= limit]
    return LinkedFamilies(len(sightings), len(fresh), max((s.since for s in fresh), default=None))
