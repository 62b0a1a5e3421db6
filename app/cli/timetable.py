"""`flask --app wsgi timetable substitute|cancel|move|remove|changes`: the deputy's changes to single lessons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Group, SchoolClass, Subject, Teacher, TimetableChange
from app.base.text import format_date
from app.base.timetable_changes import KINDS, ChangeError, changes, plan, remove
from app.cli.device import teachers_by_code

timetable_group = click.Group("timetable", help="Planned substitutions, cancelled and moved lessons.")


def _day(text: str) -> dt.date:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise click.BadParameter(f"дата «{text}» не читается: нужна ДД.ММ.ГГГГ.")


def _class(name: str) -> str:
    found = next((c.id for c in db.session.scalars(select(SchoolClass)) if c.name.upper() == name.upper()), None)
    if found is None:
        raise click.ClickException(f"Класс «{name}» не найден.")
    return found


def _group(class_id: str, name: str | None) -> str | None:
    if name is None:
        return None
    group = db.session.scalar(select(Group).where(Group.class_id == class_id, Group.name == name))
    if group is None:
        raise click.ClickException(f"Группа «{name}» в этом классе не найдена.")
    return group.id


def _subject(name: str | None) -> str | None:
    if name is None:
        return None
    subject = db.session.scalar(select(Subject).where((Subject.name == name) | (Subject.short == name)))
    if subject is None:
        raise click.ClickException(f"Предмет «{name}» не найден.")
    return subject.id


Handler = TypeVar("Handler", bound=Callable[..., Any])


def _lesson_options(command: Handler) -> Handler:
    for option in reversed([
        click.option("--date", "day", required=True, help="The lesson's date, DD.MM.YYYY."),
        click.option("--slot", required=True, type=int, help="The lesson's number in the day."),
        click.option("--class", "class_name", required=True, help="The class, e.g. 7Б."),
        click.option("--group", "group_name", help="The group's name when the lesson is a group's."),
        click.option("--subject", "subject_name", help="The subject (name or short name)."),
        click.option("--note", default="", help="A note shown with the change."),
    ]):
        command = option(command)
    return command


def _plan(kind: str, day: str, slot: int, class_name: str, group_name: str | None, subject_name: str | None,
          note: str, **extra: Any) -> None:
    class_id = _class(class_name)
    try:
        change = plan(kind, _day(day), slot, class_id, by="cli", group_id=_group(class_id, group_name),
                      subject_id=_subject(subject_name), note=note, **extra)
    except ChangeError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Запланировано: {_describe(change)} ({change.id}).")


@timetable_group.command("substitute")
@_lesson_options
@click.option("--teacher", required=True, help="The substitute's code (табельный номер).")
def substitute_command(teacher: str, **lesson: Any) -> None:
    """Plan a substitute teacher for one lesson (the substitute's machine may then write it)."""
    _plan("substitution", teacher_id=teachers_by_code((teacher,))[0], **lesson)


@timetable_group.command("cancel")
@_lesson_options
def cancel_command(**lesson: Any) -> None:
    """Cancel one lesson."""
    _plan("cancelled", **lesson)


@timetable_group.command("move")
@_lesson_options
@click.option("--to-date", required=True, help="The new date, DD.MM.YYYY.")
@click.option("--to-slot", required=True, type=int, help="The new lesson number.")
def move_command(to_date: str, to_slot: int, **lesson: Any) -> None:
    """Move one lesson to another day or slot."""
    _plan("moved", to_date=_day(to_date), to_slot=to_slot, **lesson)


@timetable_group.command("remove")
@click.argument("change_id")
def remove_command(change_id: str) -> None:
    """Remove a planned change (devices pull the removal)."""
    try:
        change = remove(change_id)
    except ChangeError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Удалено: {_describe(change)}.")


@timetable_group.command("changes")
@click.option("--from", "since", help="Only changes from this date on, DD.MM.YYYY.")
def changes_command(since: str | None) -> None:
    """List the planned changes in force."""
    found = changes(_day(since) if since else None)
    if not found:
        click.echo("Изменений расписания нет.")
    for change in found:
        click.echo(f"{change.id}  {_describe(change)}")


def _describe(change: TimetableChange) -> str:
    school_class = db.session.get(SchoolClass, change.class_id)
    text = f"{format_date(change.date)}, урок {change.slot}, {school_class.name if school_class else '?'}"
    if change.group_id:
        group = db.session.get(Group, change.group_id)
        text += f" ({group.name if group else '?'})"
    text += f": {KINDS[change.kind]}"
    if change.teacher_id:
        teacher = db.session.get(Teacher, change.teacher_id)
        text += f", заменяет {teacher.last_name} {teacher.first_name}" if teacher else ""
    if change.to_date is not None:
        text += f" на {format_date(change.to_date)}, урок {change.to_slot}"
    return text + (f" — {change.note}" if change.note else "")
