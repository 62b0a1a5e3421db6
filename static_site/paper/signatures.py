"""A returned slip signed by a guardian: the family's confirmation of the week, as if given on the site.

RULES:
1. It is stored as the site's confirmation (WeekAck) without a link: every report that reads
   confirmations counts it, and the staff's table shows it as confirmed on paper (app.staff.viewing).
2. It is written for each family that holds both the student and the guardian who signed. The guardian may
   be left out when the student's families have exactly one guardian.
3. Its digest is the week's content as the family's site pages show it now (static_site.pages), so the
   site's builder marks it changed, like any confirmation, when the journal of that week changes later.
4. A standing confirmation given by the same guardian on the site is kept: the week is confirmed already.
5. Only a past or the current week can be signed, on a day from the week's Monday to today.
The family is queued for the site builder, so its pages show the confirmation at the next build.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from app.base.calendar import week_id
from app.base.extensions import db
from app.base.models import Family, Guardian, Student, WeekAck
from app.base.rebuild_queue import mark_families_dirty
from app.base.settings import Settings
from app.base.text import format_date, week_label
from static_site.access import family_access
from static_site.pages import family_content
from static_site.paper.audience import student_families
from static_site.paper.lookup import PaperError
from static_site.paper.snapshots import WeekSnapshot

NOON = dt.time(12, 0)


@dataclass(frozen=True)
class Signed:
    """What recording a signature did for one family."""

    family: str
    guardian: str
    recorded: bool  # False: a standing confirmation on the site was kept
    message: str


class GuardianNeeded(PaperError):
    """The student's families have several guardians and none was named (the message lists them)."""


def find_student(file_no: str) -> Student:
    """The student with this personal file number (номер личного дела)."""
    student = db.session.scalars(select(Student).where(Student.file_no == file_no.strip())).first()
    if student is None:
        raise PaperError(f"Ученик с номером личного дела «{file_no}» не найден.")
    return student


def choose_guardian(student: Student, families: list[Family], named: str | None) -> Guardian:
    """The guardian who signed: named by id or surname (and names), or the only guardian of the families."""
    guardians = {g.id: g for f in families for g in f.guardians}
    if named:
        text = " ".join(named.lower().split())
        found = [g for g in guardians.values() if g.id == named.strip() or g.full_name.lower().startswith(text)]
        if len(found) == 1:
            return found[0]
        if not found:
            raise PaperError(f"У ученика {student.full_name} нет законного представителя «{named}».")
    elif len(guardians) == 1:
        return next(iter(guardians.values()))
    elif not guardians:
        raise PaperError(f"У ученика {student.full_name} в базе нет ни одного законного представителя.")
    names = "; ".join(f"{g.full_name} ({g.relation or 'родитель'})" for g in
                      sorted(guardians.values(), key=lambda g: g.full_name))
    raise GuardianNeeded(f"Кто подписал выписку? Выберите законного представителя: {names}.")


def record_signature(conf: Settings, student: Student, week: dt.date, signed_on: dt.date, guardian_name: str | None,
                     now: dt.datetime) -> list[Signed]:
    """Record that the guardian signed the student's slip of the week on that day (the caller commits)."""
    today = now.astimezone(conf.timezone).date()
    if week > today:
        raise PaperError(f"Неделя {week_label(week)} ещё не наступила.")
    if not week <= signed_on <= today:
        raise PaperError(f"Дата подписи {format_date(signed_on)} должна быть не раньше понедельника недели "
                         f"({format_date(week)}) и не позже сегодняшнего дня ({format_date(today)}).")
    families = student_families([student.id]).get(student.id, [])
    guardian = choose_guardian(student, families, guardian_name)
    signed_at = dt.datetime.combine(signed_on, NOON, conf.timezone).astimezone(dt.UTC)
    key = week_id(week)
    snap = WeekSnapshot(conf, week)
    accesses = family_access([f.id for f in families], today, now)
    results = []
    for family in families:
        if guardian not in family.guardians:
            continue
        children = accesses[family.id].children if family.id in accesses else []
        digest = family_content(snap, children or [student]).digests[key]
        ack = db.session.scalars(select(WeekAck).where(
            WeekAck.family_id == family.id, WeekAck.guardian_id == guardian.id, WeekAck.week == key)).first()
        if ack is not None and ack.link_id is not None and ack.changed_at is None:
            results.append(Signed(family.name, guardian.full_name, False,
                                  f"Семья «{family.name}»: неделя уже подтверждена по ссылке, запись не изменена."))
            continue
        if ack is None:
            ack = WeekAck(family_id=family.id, guardian_id=guardian.id, week=key)
            db.session.add(ack)
        ack.link_id, ack.confirmed_at, ack.digest, ack.changed_at = None, signed_at, digest, None
        results.append(Signed(family.name, guardian.full_name, True,
                              f"Семья «{family.name}»: {guardian.full_name} подписал(а) выписку за неделю "
                              f"{week_label(week)}; подпись от {format_date(signed_on)}."))
    if not results:
        raise PaperError(f"{guardian.full_name} не входит ни в одну семью ученика {student.full_name}.")
    db.session.flush()
    mark_families_dirty({f.id for f in families if guardian in f.guardians})
    return results
