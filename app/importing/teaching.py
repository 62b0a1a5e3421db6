"""Teaching load (нагрузка: teacher × class or group × subject × hours) and the timetable."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Assignment, TimetableEntry, new_id
from app.importing import values
from app.importing.context import INVALID, Context, RowView, assign
from app.importing.groups import ensure_group


def import_assignments(ctx: Context) -> None:
    """Create or update teaching load by (teacher, class, group, subject); groups named are created."""
    existing = {(a.teacher_id, a.class_id, a.group_id, a.subject_id): a for a in db.session.scalars(select(Assignment))}
    seen: dict[tuple[str, str, str, str], int] = {}
    tally = ctx.tally("нагрузка")
    for row in ctx.rows():
        teacher = row.teacher("teacher")
        school_class = row.school_class()
        group_name = row.get("group", values.text(60))
        subject = row.subject()
        hours = row.get("hours", values.hours, required=True)
        if not row.ok or teacher is None or school_class is None or subject is None:
            continue
        key = (teacher.id, school_class.id, values.name_key(group_name or ""), subject.id)
        if key in seen:
            where = f"{school_class.name}, группа «{group_name}»" if group_name else school_class.name
            row.error(f"нагрузка учителя {teacher.code} по предмету «{subject.name}» в {where} "
                      f"уже есть в строке {seen[key]}")
            continue
        seen[key] = row.line
        group = ensure_group(ctx, school_class, group_name, subject) if group_name else None
        group_id = group.id if group else None
        assignment = existing.get((teacher.id, school_class.id, group_id, subject.id))
        created = assignment is None
        if assignment is None:
            assignment = Assignment(id=new_id(), teacher_id=teacher.id, class_id=school_class.id,
                                    group_id=group_id, subject_id=subject.id)
            existing[(teacher.id, school_class.id, group_id, subject.id)] = assignment
            db.session.add(assignment)
        tally.count(created, assign(assignment, hours_per_week=hours))


def import_timetable(ctx: Context) -> None:
    """Create or update timetable entries by (class, group, weekday, lesson, valid from)."""
    existing = {(e.class_id, e.group_id, e.weekday, e.slot, e.valid_from): e
                for e in db.session.scalars(select(TimetableEntry))}
    seen: dict[tuple[Any, ...], int] = {}
    tally = ctx.tally("уроки в расписании")
    for row in ctx.rows():
        weekday = _weekday(row)
        slot = _slot(row)
        school_class = row.school_class()
        group_name = row.get("group", values.text(60))
        subject = row.subject()
        teacher = row.teacher("teacher")
        valid_from = _date_in_year(row, "valid_from") or ctx.year.start
        valid_to = _date_in_year(row, "valid_to")
        if valid_from is not INVALID and valid_to not in (None, INVALID) and valid_to < valid_from:
            row.error(f"«{row.header('valid_to')}» {values.show_date(valid_to)} раньше, чем "
                      f"«{row.header('valid_from')}» {values.show_date(valid_from)}")
        if not row.ok or school_class is None or subject is None or teacher is None:
            continue
        key = (school_class.id, values.name_key(group_name or ""), weekday, slot, valid_from)
        if key in seen:
            where = f"{school_class.name}, группа «{group_name}»" if group_name else school_class.name
            row.error(f"у {where} урок {slot} в {values.WEEKDAY_SHORT[weekday]} с {values.show_date(valid_from)} "
                      f"уже есть в строке {seen[key]}")
            continue
        seen[key] = row.line
        group = ensure_group(ctx, school_class, group_name, subject) if group_name else None
        group_id = group.id if group else None
        entry = existing.get((school_class.id, group_id, weekday, slot, valid_from))
        created = entry is None
        if entry is None:
            entry = TimetableEntry(id=new_id(), class_id=school_class.id, group_id=group_id, weekday=weekday,
                                   slot=slot, valid_from=valid_from)
            existing[(school_class.id, group_id, weekday, slot, valid_from)] = entry
            db.session.add(entry)
        fields: dict[str, Any] = {"subject_id": subject.id, "teacher_id": teacher.id}
        if ctx.has("valid_to") or created:
            fields["valid_to"] = valid_to
        tally.count(created, assign(entry, **fields))


def _weekday(row: RowView) -> Any:
    """The weekday, checked against the school's number of school days."""
    weekday = row.get("weekday", values.weekday, required=True)
    days = row.ctx.settings.school_days
    if weekday is not INVALID and weekday > days:
        row.error(f"{row.header('weekday')}: {values.WEEKDAY_SHORT[weekday]} — не учебный день "
                  f"(в школе {days} учебных дней в неделю, config.yaml)")
        return INVALID
    return weekday


def _slot(row: RowView) -> Any:
    """The lesson number, checked against the bell schedule in config.yaml."""
    slot = row.get("slot", values.whole_number, required=True)
    bells = sorted(b.slot for b in row.ctx.settings.bells) or list(range(0, 13))
    if slot is not INVALID and slot not in bells:
        shown = f"{bells[0]}–{bells[-1]}" if bells == list(range(bells[0], bells[-1] + 1)) else ", ".join(
            str(b) for b in bells)
        row.error(f"{row.header('slot')}: урока {slot} нет в расписании звонков (есть уроки {shown})")
        return INVALID
    return slot


def _date_in_year(row: RowView, key: str) -> Any:
    """A date of the column that falls inside the academic year, None when empty."""
    day = row.get(key, values.date)
    year = row.ctx.year
    if isinstance(day, dt.date) and not year.start <= day <= year.end:
        row.error(f"{row.header(key)}: {values.show_date(day)} вне {year.name} учебного года "
                  f"({values.show_date(year.start)}–{values.show_date(year.end)})")
        return INVALID
    return day
