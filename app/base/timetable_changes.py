"""The deputy's changes to single lessons of the timetable: substitutions, cancelled and moved lessons.

Devices pull them as the reference entity `timetable_change`; the sync rules accept a substitute's lesson on a
machine bound to other classes only when it was planned here. A removed change keeps its row (`removed_at`)
so that devices pull the removal.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import Group, SchoolClass, Subject, Teacher, TimetableChange
from app.base.rebuild_queue import mark_classes_dirty
from sync import clock

KINDS = {"substitution": "замена", "cancelled": "отмена", "moved": "перенос"}


class ChangeError(ValueError):
    """A timetable change that cannot be planned; the message is for staff, in Russian."""


def _check_lesson(day: dt.date, slot: int, class_id: str, group_id: str | None) -> None:
    conf = settings()
    if not conf.year_start <= day <= conf.year_end:
        raise ChangeError(f"Дата {day:%d.%m.%Y} вне учебного года.")
    if not 0 <= slot <= 12:
        raise ChangeError(f"Неверный номер урока: {slot}.")
    if db.session.get(SchoolClass, class_id) is None:
        raise ChangeError("Класс не найден.")
    if group_id is not None:
        group = db.session.get(Group, group_id)
        if group is None or group.class_id != class_id:
            raise ChangeError("Группа не найдена или не относится к классу.")


def active_change(day: dt.date, slot: int, class_id: str, group_id: str | None) -> TimetableChange | None:
    """The change in force for this lesson, if any."""
    return db.session.scalar(select(TimetableChange).where(
        TimetableChange.date == day, TimetableChange.slot == slot, TimetableChange.class_id == class_id,
        TimetableChange.group_id.is_(None) if group_id is None else TimetableChange.group_id == group_id,
        TimetableChange.removed_at.is_(None)))


def plan(kind: str, day: dt.date, slot: int, class_id: str, *, by: str, group_id: str | None = None,
         teacher_id: str | None = None, subject_id: str | None = None, to_date: dt.date | None = None,
         to_slot: int | None = None, note: str = "") -> TimetableChange:
    """Plan one change and queue its class's families (the caller commits); raise ChangeError in Russian if not."""
    if kind not in KINDS:
        raise ChangeError(f"Неизвестный вид изменения: {kind}.")
    _check_lesson(day, slot, class_id, group_id)
    if kind == "substitution":
        if teacher_id is None or db.session.get(Teacher, teacher_id) is None:
            raise ChangeError("Учитель на замену не найден.")
    else:
        teacher_id = None
    if subject_id is not None and db.session.get(Subject, subject_id) is None:
        raise ChangeError("Предмет не найден.")
    if kind == "moved":
        if to_date is None or to_slot is None:
            raise ChangeError("Для переноса нужны новая дата и номер урока.")
        _check_lesson(to_date, to_slot, class_id, group_id)
        if (to_date, to_slot) == (day, slot):
            raise ChangeError("Урок переносится на то же время.")
    else:
        to_date = to_slot = None
    if len(note) > 300:
        raise ChangeError("Примечание длиннее 300 знаков.")
    if active_change(day, slot, class_id, group_id) is not None:
        raise ChangeError(f"На {day:%d.%m.%Y}, урок {slot}, у этого класса уже есть изменение: сначала удалите его.")
    change = TimetableChange(date=day, slot=slot, class_id=class_id, group_id=group_id, kind=kind,
                             teacher_id=teacher_id, subject_id=subject_id, to_date=to_date, to_slot=to_slot,
                             note=note.strip(), created_by=by, created_at=clock.now())
    db.session.add(change)
    db.session.flush()
    mark_classes_dirty({class_id})  # the class's families see the change on their week pages
    return change


def remove(change_id: str) -> TimetableChange:
    """Remove a planned change (kept as a removed row, which devices pull); the caller commits."""
    change = db.session.get(TimetableChange, change_id)
    if change is None or change.removed_at is not None:
        raise ChangeError("Изменение расписания не найдено.")
    change.removed_at = clock.now()
    mark_classes_dirty({change.class_id})
    return change


def changes(since: dt.date | None = None) -> list[TimetableChange]:
    """The changes in force, from `since` on (all when None), in date and slot order."""
    query = select(TimetableChange).where(TimetableChange.removed_at.is_(None))
    if since is not None:
        query = query.where(TimetableChange.date >= since)
    return list(db.session.scalars(query.order_by(TimetableChange.date, TimetableChange.slot)))
