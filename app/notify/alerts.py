"""Alerts a family opted into, found by reading what changed since the last pass (the hub's change counter).

ALGORITHM (`queue_alerts`, run by the worker before each delivery pass):
1. Read the cursors `notify_alert_rev` (journal rev) and `notify_alert_at` (seconds of the last approval seen)
   from `counter`; on the very first pass they start at the present, so nothing of the past is announced.
2. Absences: attendance rows with rev above the cursor, status absent or ill, of a lesson dated today.
3. Period and final marks: period_grade rows with rev above the cursor, graded with a value.
4. Approved corrections: op-log entries of marks held as `late_correction` and approved after the cursor,
   when the family had opened that week's page before the approval (it saw the old mark).
5. For each, the families that may see the child (static_site.access) and their guardians whose usable
   channel wants that alert get one message; the dedup key (`alert_absence:<attendance>:<channel>:<guardian>`,
   `alert_grade:<grade>:<value>:…`, `alert_correction:<op>:…`) makes a second pass queue nothing again.
6. Move the cursors on, in the same commit as the queued messages.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from app.base.calendar import monday, week_id
from app.base.extensions import db
from app.base.models import (
    Attendance,
    Counter,
    Lesson,
    Mark,
    OpLog,
    Period,
    PeriodGrade,
    Student,
    Subject,
    WeekView,
    family_student,
)
from app.base.settings import Settings
from app.notify.channels import address, usable_channels
from app.notify.compose import dm
from app.notify.outbox import Draft, enqueue
from static_site.access import family_access
from sync import clock

REV, AT = "notify_alert_rev", "notify_alert_at"
REASONS = {"absent_excused": "уважительная причина", "absent_unexcused": "без уважительной причины",
           "ill": "болезнь"}


@dataclass(frozen=True)
class Event:
    """Something a family may be told about one child."""

    kind: str  # alert_absence, alert_grade, alert_correction
    key: str
    student_id: str
    text: str  # without the child's name
    week: str | None = None  # correction: the week the family must have opened
    before: dt.datetime | None = None


def _cursor(name: str, start: int) -> int:
    row = db.session.get(Counter, name)
    if row is None:
        db.session.add(Counter(name=name, value=start))
        db.session.flush()
        return start
    return int(row.value)


def _events(conf: Settings, today: dt.date, rev: int, since: dt.datetime) -> tuple[list[Event], int]:
    subjects: dict[str, str] = dict(db.session.execute(select(Subject.id, Subject.name)).all())
    events, top = [], rev
    for row in db.session.execute(select(Attendance.id, Attendance.rev, Attendance.student_id, Attendance.status,
                                         Lesson.date, Lesson.subject_id).join(Lesson, Lesson.id == Attendance.lesson_id)
                                  .where(Attendance.rev > rev, Attendance.deleted.is_(False))):
        top = max(top, row.rev)
        if row.status in REASONS and row.date == today:
            events.append(Event("alert_absence", f"{row.id}", row.student_id,
                                f"отсутствует {dm(row.date)} на уроке «{subjects.get(row.subject_id, '')}» "
                                f"({REASONS[row.status]})."))
    periods = {p.id: p.name for p in db.session.scalars(select(Period))}
    for grade in db.session.scalars(select(PeriodGrade).where(PeriodGrade.rev > rev, PeriodGrade.deleted.is_(False))):
        top = max(top, grade.rev)
        if grade.status == "graded" and grade.value:
            events.append(Event("alert_grade", f"{grade.id}:{grade.value}", grade.student_id,
                                f"выставлена отметка за {periods.get(grade.period_id, 'период')} по предмету "
                                f"«{subjects.get(grade.subject_id, '')}»: {grade.value}."))
    approvals = db.session.execute(select(OpLog.id, OpLog.record_id, OpLog.decided_at).where(
        OpLog.entity == "mark", OpLog.code == "late_correction", OpLog.status.in_(("applied", "conflict")),
        OpLog.decided_at > since))
    for op_id, record_id, decided in approvals:
        mark = db.session.execute(select(Mark.student_id, Mark.value, Lesson.date, Lesson.subject_id).join(
            Lesson, Lesson.id == Mark.lesson_id).where(Mark.id == record_id, Mark.deleted.is_(False))).first()
        if mark is not None:
            events.append(Event("alert_correction", f"{op_id}", mark.student_id,
                                f"исправлена отметка за {dm(mark.date)} по предмету "
                                f"«{subjects.get(mark.subject_id, '')}»: теперь {mark.value}.",
                                week_id(monday(mark.date)), decided))
    return events, top


def queue_alerts(conf: Settings, now: dt.datetime | None = None) -> int:
    """Steps 1–6; returns how many messages were queued (the caller commits)."""
    now = now or clock.now()
    today = conf.today(now)
    top_rev = db.session.scalar(select(func.max(Counter.value)).where(Counter.name == "rev")) or 0
    rev = _cursor(REV, int(top_rev))
    since = dt.datetime.fromtimestamp(_cursor(AT, int(now.timestamp())), dt.UTC)
    events, new_rev = _events(conf, today, rev, since)
    drafts = _drafts(conf, today, events) if events else []
    count = enqueue(drafts, now)
    db.session.get_one(Counter, REV).value = new_rev  # both made by _cursor above
    db.session.get_one(Counter, AT).value = int(now.timestamp())
    return count


def _drafts(conf: Settings, today: dt.date, events: list[Event]) -> list[Draft]:
    students = {e.student_id for e in events}
    families: dict[str, set[str]] = defaultdict(set)
    for student_id, family_id in db.session.execute(select(family_student.c.student_id, family_student.c.family_id)
                                                    .where(family_student.c.student_id.in_(students))):
        families[student_id].add(family_id)
    accesses = family_access({f for fs in families.values() for f in fs}, today)
    guardians = {g.id for a in accesses.values() for g in a.family.guardians if g.id in a.consenting}
    channels = usable_channels(guardians, today)
    names = {s.id: s.first_name for s in db.session.scalars(select(Student).where(Student.id.in_(students)))}
    drafts = []
    for event in events:
        for family_id in sorted(families[event.student_id]):
            access = accesses.get(family_id)
            if access is None or event.student_id not in {s.id for s in access.children}:
                continue
            if event.week is not None and not db.session.scalar(select(func.count()).select_from(WeekView).where(
                    WeekView.family_id == family_id, WeekView.week == event.week, WeekView.first_at < event.before)):
                continue  # the family never saw the old mark
            text = f"{names[event.student_id]}: {event.text}"
            for guardian in access.family.guardians:
                for row in channels.get(guardian.id, []):
                    wanted = {"alert_absence": row.alert_absence, "alert_grade": row.alert_grade,
                              "alert_correction": row.alert_correction}[event.kind]
                    to = address(guardian, row.channel)
                    if not wanted or not to or guardian.id not in access.consenting:
                        continue
                    subject = f"Электронный дневник: {names[event.student_id]}" if row.channel == "email" else ""
                    drafts.append(Draft(f"{event.kind}:{event.key}:{row.channel}:{guardian.id}", event.kind,
                                        row.channel, to, subject, text, None, guardian.id, family_id))
    return drafts
