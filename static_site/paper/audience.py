"""Who gets a weekly slip, and which family link its QR code may carry.

RULES (001 §2.6, 000 §2; 152-ФЗ for the QR code):
1. A slip is made for a student of the class enrolled on at least one school day of the week: one who
   joined or left mid-week gets a slip showing only the days of enrolment.
2. By default only for students in a family whose channel is paper or both, and under 18 on the week's
   Monday (the age rule of static_site.access: a guardian of an adult student gets no diary). Consent is
   not asked for paper: the school owes the guardian the information, and paper leaves nothing on a server.
   With `everyone` every student of rule 1 gets one (for the students themselves or the class file).
3. A slip carries a QR code only when configured (static_site.paper.options) and only of a link that
   static_site.access finds live today: the family's channel includes the link, the guardian's consent is
   given and not withdrawn, the child is visible. A family without consent never gets a QR code.
A student in several families gets one slip.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from app.base import enrolment
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import Family, Guardian, Student, family_student
from app.base.settings import Settings
from static_site.access import ADULT_AGE, age_on, family_access
from static_site.links import link_url
from sync.enrolment import enrolled

PAPER_CHANNELS = ("paper", "both")


def enrolled_during(student: Student, first: dt.date, last: dt.date) -> bool:
    """Whether the student was enrolled on some day between the two dates."""
    return enrolled(student.enrolled_on, student.left_on, first, last)


def student_families(student_ids: Collection[str]) -> dict[str, list[Family]]:
    """Each student's families, loaded in a few queries."""
    pairs: list[tuple[str, str]] = []
    for part in chunks(student_ids):
        pairs += db.session.execute(select(family_student.c.student_id, family_student.c.family_id)
                                    .where(family_student.c.student_id.in_(part))).all()
    families: dict[str, Family] = {}
    for part in chunks({f for _, f in pairs}):
        families.update({f.id: f for f in db.session.scalars(select(Family).where(Family.id.in_(part)))})
    result: dict[str, list[Family]] = defaultdict(list)
    for student_id, family_id in sorted(pairs):
        result[student_id].append(families[family_id])
    return result


def slip_students(class_ids: Collection[str], week: dt.date, conf: Settings, everyone: bool) -> list[enrolment.InClass]:
    """The students of these classes who get a slip for the week, by class then surname."""
    last = week + dt.timedelta(days=conf.school_days - 1)
    students = enrolment.members(class_ids, week, last)
    if not everyone:
        families = student_families([s.id for s in students])
        students = [s for s in students if age_on(s.birth_date, week) < ADULT_AGE
                    and any(f.channel in PAPER_CHANNELS for f in families.get(s.id, []))]
    return sorted(students, key=lambda s: (s.class_id, s.last_name, s.first_name, s.middle_name, s.file_no))


@dataclass(frozen=True)
class QrLink:
    """The family link a slip's QR code carries, and whose it is."""

    url: str
    guardian: str


def qr_links(conf: Settings, students: Sequence[enrolment.Member], today: dt.date,
             now: dt.datetime) -> dict[str, QrLink]:
    """Student id → the earliest live link of a family that may see the student today (rule 3)."""
    families = student_families([s.id for s in students])
    accesses = family_access({f.id for fs in families.values() for f in fs}, today, now)
    result = {}
    for student in students:
        live = [link for family in families.get(student.id, [])
                if (access := accesses.get(family.id)) and any(c.id == student.id for c in access.children)
                for link in access.guardian_links]  # a student's own link shows that student only
        if live:
            link = min(live, key=lambda item: (item.issued_at, item.id))
            guardian = db.session.get(Guardian, link.guardian_id)
            result[student.id] = QrLink(link_url(conf, link.token), guardian.full_name if guardian else "")
    return result
