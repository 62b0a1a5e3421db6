"""What is planned ahead, as a family's week pages show it (002 reg. §2.1): timetable changes and the week ahead.

RULES:
1. The deputy's changes in force (app/base/timetable_changes, not removed) are shown on the day of the lesson
   they change: a substitution as «Замена: Иванова И. И.», a cancelled lesson as «Урок отменён», a moved one
   as «Урок перенесён на 25.11.2026, 3-й урок»; a moved lesson also appears on its new day and slot
   («Перенесён с 23.11.2026, 2-й урок»). A change with no lesson in the journal or the timetable at that
   slot still gets its own line, so a family never misses it.
2. The week ahead: after the current week, the first week starting within the planning horizon
   (`deadlines.plan_ahead_days`) in which something is planned for one of the family's children (a lesson
   recorded ahead with its topic or homework, a timetable change, a test) gets a page of its own. It cannot be
   confirmed («Ознакомлен(а)») before it begins.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from app.base.calendar import monday
from app.base.extensions import db
from app.base.models import TimetableChange
from app.base.settings import Settings
from app.base.text import format_date

if TYPE_CHECKING:
    from static_site.data import Row, Snapshot
    from static_site.pages import ChildView

CACHE_KEY = ("timetable_changes",)  # not a class id: Snapshot.release keeps it for the whole build


def class_changes(snap: Snapshot) -> dict[str, list[Row]]:
    """Every change in force that touches the snapshot's dates, by class (one query per build)."""
    found: dict[str, list[Row]] | None = snap.cache.get(CACHE_KEY)
    if found is None:
        found = defaultdict(list)
        query = select(TimetableChange.id, TimetableChange.rev, TimetableChange.class_id, TimetableChange.group_id,
                       TimetableChange.date, TimetableChange.slot, TimetableChange.kind, TimetableChange.teacher_id,
                       TimetableChange.subject_id, TimetableChange.to_date, TimetableChange.to_slot).where(
            TimetableChange.removed_at.is_(None),
            or_(TimetableChange.date.between(snap.start, snap.end),
                TimetableChange.to_date.between(snap.start, snap.end)))
        for row in db.session.execute(query.order_by(TimetableChange.date, TimetableChange.slot)):
            found[row.class_id].append(row)
        snap.cache[CACHE_KEY] = found
    return found


def changes_on(snap: Snapshot, view: ChildView, day: dt.date) -> tuple[dict[tuple[int, str | None], Row], list[Row]]:
    """The changes of a child's lessons on a day, by (slot, group), and the lessons moved to that day."""
    at: dict[tuple[int, str | None], Row] = {}
    arriving = []
    for change in class_changes(snap).get(view.journal.school_class.id, ()):
        if not view.sees(change.group_id):
            continue
        if change.date == day:
            at[(change.slot, change.group_id)] = change
        if change.kind == "moved" and change.to_date == day:
            arriving.append(change)
    return at, arriving


def note(snap: Snapshot, change: Row) -> str:
    """What a family reads beside the changed lesson."""
    if change.kind == "substitution":
        return f"Замена: {snap.teachers_short.get(change.teacher_id or '', '')}".strip()
    if change.kind == "moved":
        return f"Урок перенесён на {format_date(change.to_date)}, {change.to_slot}-й урок"
    return "Урок отменён"


def arrival_note(change: Row) -> str:
    """What a family reads beside a lesson moved to this day."""
    return f"Перенесён с {format_date(change.date)}, {change.slot}-й урок"


def subject_of(view: ChildView, change: Row) -> str | None:
    """The changed lesson's subject: the change's own, else the timetable's at the original day and slot."""
    if change.subject_id:
        return str(change.subject_id)
    for entry in view.journal.timetable:
        if (entry.weekday == change.date.isoweekday() and entry.slot == change.slot
                and entry.group_id == change.group_id and entry.valid_from <= change.date
                and (entry.valid_to is None or change.date <= entry.valid_to)):
            return str(entry.subject_id)
    for lesson in view.lessons.get(change.date, ()):
        if lesson.slot == change.slot and lesson.group_id == change.group_id:
            return str(lesson.subject_id)
    return None


def week_ahead(snap: Snapshot, views: list[ChildView]) -> dt.date | None:
    """The Monday of the first week after the current one with something planned for these children, if any."""
    start = monday(snap.today) + dt.timedelta(days=7)
    horizon = snap.today + dt.timedelta(days=snap.conf.deadlines.get("plan_ahead_days", 14))
    while start <= horizon:
        end = start + dt.timedelta(days=6)
        if any(_planned(snap, view, start, end) for view in views):
            return start
        start += dt.timedelta(days=7)
    return None


def _planned(snap: Snapshot, view: ChildView, start: dt.date, end: dt.date) -> bool:
    day = start
    while day <= end:
        if view.at(day).lessons.get(day):  # the class the child is in on that day (a move planned ahead)
            return True
        day += dt.timedelta(days=1)
    for change in class_changes(snap).get(view.journal.school_class.id, ()):
        moved_in = change.to_date is not None and start <= change.to_date <= end
        if view.sees(change.group_id) and (start <= change.date <= end or moved_in):
            return True
    return any(start <= t.date <= end and view.sees(t.group_id) for t in view.journal.tests)


def ahead_end(conf: Settings, today: dt.date) -> dt.date:
    """The last day a week-ahead page may show: the Sunday of the week of the planning horizon."""
    horizon = today + dt.timedelta(days=conf.deadlines.get("plan_ahead_days", 14))
    return monday(horizon) + dt.timedelta(days=6)
