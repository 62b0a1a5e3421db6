"""`flask --app wsgi year open 2027-2028 --order ORDER.csv [--apply]` and `year move`: the transfer (перевод).

ALGORITHM of the plan (the dry run prints it student by student; `--apply` carries it out in one transaction):
1. The new year is the one in config.yaml (`academic_year.name` must be the name given); the old year is the
   latest year before it that has classes.
2. Every student of the old year's classes still enrolled on its last day is promoted one grade, same letter
   (7А → 8А); an 11th-grader graduates (leaves on the day after the old year's end).
3. The director's order's exceptions (a CSV) override step 2 for a student: `repeat` (the same grade, or the
   class given), `leave`, `change` (to the class given), or `join` (a new student into the class given).
4. Applied: the new year's calendar from config.yaml (periods, holidays), the new classes (a promoted class
   keeps its homeroom teacher), each student's enrolment closed in the old class and opened in the new one
   on the new year's first day (app/base/enrolment.py), leavers' `left_on` (their families lose the child's
   pages at the next site build), and classroom machines bound to an old class re-bound to the class it
   became.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import click
from sqlalchemy import delete, insert, select

from app.base import enrolment, settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import AcademicYear, SchoolClass, Student, device_class
from app.base.settings import Settings
from app.base.text import format_date
from app.cli.backup import fail
from static_site.paper import lookup
from static_site.paper.lookup import LATIN_LOOKALIKES, PaperError

ACTIONS = {"repeat": "repeat", "оставить": "repeat", "leave": "leave", "выбыть": "leave", "change": "change",
           "перевести": "change", "join": "join", "зачислить": "join"}
CLASS = re.compile(r"^\s*(\d{1,2})\s*([А-ЯЁA-Z])\s*$", re.IGNORECASE)


@dataclass
class Step:
    """What happens to one student."""

    file_no: str
    name: str
    action: str  # promote, repeat, change, leave, graduate, join
    old_class: str | None
    new_class: str | None
    student: Student | None = None
    birth_date: dt.date | None = None
    names: tuple[str, str, str] = ("", "", "")


@dataclass
class Exception_:
    line: int
    file_no: str
    action: str
    new_class: str | None
    names: tuple[str, str, str]
    birth_date: dt.date | None


def register(year_group: click.Group) -> None:
    """Add `open` and `move` to the `year` group."""
    year_group.add_command(open_command)
    year_group.add_command(move_command)


@click.command("open")
@click.argument("name")
@click.option("--order", "order", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV исключений из приказа о переводе: file_no;action;class[;last_name;first_name;middle_name;"
                   "birth_date].")
@click.option("--apply", "apply", is_flag=True, help="Выполнить перевод (без этого флага — только план).")
def open_command(name: str, order: Path | None, apply: bool) -> None:
    """Перевод на новый учебный год NAME: план по каждому ученику, с --apply — перевод одной транзакцией."""
    conf = settings()
    if conf.year_name != name:
        fail(f"в config.yaml учебный год «{conf.year_name}», а не «{name}»: сначала впишите новый год "
             "(academic_year: name, start, end, periods, holidays) и перезапустите сервер.")
    old = db.session.scalars(select(AcademicYear).where(AcademicYear.start < conf.year_start)
                             .order_by(AcademicYear.start.desc())).first()
    if old is None:
        fail("нет прошлого учебного года, из которого переводить.")
    if db.session.scalars(select(SchoolClass).join(AcademicYear).where(AcademicYear.name == name)).first() and apply:
        fail(f"в {name} учебном году уже есть классы: перевод уже сделан или классы импортированы.")
    exceptions = read_order(order) if order else []
    steps = plan(old, exceptions)
    click.echo(f"Перевод из {old.name} в {name}{'' if apply else ' — пробный запуск, ничего не изменено'}:")
    for step in steps:
        click.echo("  " + describe(step, old))
    counts = {a: sum(1 for s in steps if s.action == a) for a in
              ("promote", "repeat", "change", "leave", "graduate", "join")}
    click.echo(f"Итого: переводятся {counts['promote']}, остаются на второй год {counts['repeat']}, "
               f"переходят в другой класс {counts['change']}, выбывают {counts['leave']}, выпускаются "
               f"{counts['graduate']}, зачисляются {counts['join']}.")
    if not apply:
        click.echo("Проверьте план. Для перевода повторите команду с --apply.")
        return
    try:
        carry_out(steps, old, conf)
        db.session.commit()
    except ValueError as exc:
        db.session.rollback()
        fail(f"перевод не выполнен, ничего не изменено: {exc}")
    click.echo(f"Перевод выполнен: {name} учебный год открыт.")


@click.command("move")
@click.argument("file_no")
@click.argument("class_name")
@click.argument("day")
def move_command(file_no: str, class_name: str, day: str) -> None:
    """Перевести ученика (номер личного дела) в другой класс с указанного дня (20.03.2027)."""
    conf = settings()
    try:
        on = lookup.parse_day(day)
        year = lookup.find_year(conf.year_name)
        target = lookup.find_class(class_name, year)
    except PaperError as exc:
        fail(str(exc))
    student = db.session.scalars(select(Student).where(Student.file_no == file_no)).first()
    if student is None:
        fail(f"ученик с номером личного дела {file_no} не найден.")
    old = student.school_class.name
    try:
        enrolment.move(student, target.id, on)
    except ValueError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"{student.full_name}: {old} → {target.name} с {format_date(on)}.")


def read_order(path: Path) -> list[Exception_]:
    """The exceptions file, checked line by line; a wrong line stops everything with its number."""
    text = path.read_text(encoding="utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "a;b", delimiters=";,")
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    found: list[Exception_] = []
    problems: list[str] = []
    for number, row in enumerate(rows, start=2):
        cells = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        action = ACTIONS.get(cells.get("action", "").lower())
        target = cells.get("class") or None
        birth = None
        if not cells.get("file_no"):
            problems.append(f"строка {number}: нет номера личного дела (file_no)")
        if action is None:
            problems.append(f"строка {number}: действие «{cells.get('action', '')}» не из списка "
                            "repeat, leave, change, join")
        elif action in ("change", "join") and not target:
            problems.append(f"строка {number}: для {action} нужен класс (class)")
        if target and not CLASS.match(target):
            problems.append(f"строка {number}: класс «{target}» не понят (пример: 8Б)")
        if action == "join":
            try:
                birth = lookup.parse_day(cells.get("birth_date", ""))
            except PaperError:
                problems.append(f"строка {number}: для join нужна дата рождения (birth_date), например 02.04.2016")
            if not cells.get("last_name") or not cells.get("first_name"):
                problems.append(f"строка {number}: для join нужны фамилия и имя (last_name, first_name)")
        found.append(Exception_(number, cells.get("file_no", ""), action or "", _class_name(target),
                                (cells.get("last_name", ""), cells.get("first_name", ""),
                                 cells.get("middle_name", "")), birth))
    if problems:
        fail("файл исключений не принят, ничего не изменено:\n" + "\n".join(f"  – {p}" for p in problems))
    return found


def plan(old: AcademicYear, exceptions: list[Exception_]) -> list[Step]:
    """Every student's step, in the order of their old class and name; joiners last."""
    classes = lookup.school_classes(old)
    by_file: dict[str, Exception_] = {}
    for item in exceptions:
        if item.file_no in by_file:
            fail(f"файл исключений: номер личного дела {item.file_no} встречается дважды (строки "
                 f"{by_file[item.file_no].line} и {item.line}).")
        by_file[item.file_no] = item
    steps: list[Step] = []
    seen: set[str] = set()
    for school_class in classes:
        members = sorted((m for m in enrolment.roster(school_class.id, old.end, old.end)
                          if m.student.class_id == school_class.id),
                         key=lambda m: (m.last_name, m.first_name, m.middle_name, m.file_no))
        for member in members:
            student: Student = member.student
            seen.add(student.file_no)
            entry = by_file.get(student.file_no)
            step = Step(student.file_no, student.full_name, "promote", school_class.name, None, student)
            if entry is None or entry.action == "join":
                if entry is not None:
                    fail(f"строка {entry.line}: {student.full_name} уже учится в {school_class.name}; "
                         "join — только для новых учеников.")
                if school_class.grade == 11:
                    step.action = "graduate"
                else:
                    step.new_class = f"{school_class.grade + 1}{school_class.letter}"
            elif entry.action == "repeat":
                step.action, step.new_class = "repeat", entry.new_class or school_class.name
            elif entry.action == "change":
                step.action, step.new_class = "change", entry.new_class
            else:
                step.action = "leave"
            steps.append(step)
    for item in exceptions:
        if item.file_no in seen:
            continue
        if item.action != "join":
            fail(f"строка {item.line}: ученика с номером личного дела {item.file_no} нет среди учеников "
                 f"{old.name} учебного года.")
        if db.session.scalars(select(Student).where(Student.file_no == item.file_no)).first() is not None:
            fail(f"строка {item.line}: номер личного дела {item.file_no} уже занят другим учеником.")
        steps.append(Step(item.file_no, " ".join(p for p in item.names if p), "join", None, item.new_class,
                          birth_date=item.birth_date, names=item.names))
    return steps


def describe(step: Step, old: AcademicYear) -> str:
    """One line of the plan, in Russian."""
    who = f"{step.name} (ЛД {step.file_no})"
    leave_day = format_date(old.end + dt.timedelta(days=1))
    return {
        "promote": f"{who}: {step.old_class} → {step.new_class}",
        "repeat": f"{who}: оставлен(а) на второй год, {step.old_class} → {step.new_class}",
        "change": f"{who}: {step.old_class} → {step.new_class} (переход в другой класс)",
        "leave": f"{who}: выбывает из {step.old_class} с {leave_day}",
        "graduate": f"{who}: выпуск из {step.old_class}, выбывает с {leave_day}, доступ семьи закрывается",
        "join": f"{who}: зачисляется в {step.new_class}",
    }[step.action]


def carry_out(steps: list[Step], old: AcademicYear, conf: Settings) -> None:
    """Apply the plan: calendar, classes, enrolments, leavers, re-bound machines (the caller commits)."""
    new = ensure_calendar(conf)
    db.session.flush()
    old_classes = {c.name: c for c in lookup.school_classes(old)}
    new_classes: dict[str, SchoolClass] = {c.name: c for c in lookup.school_classes(new)}

    def class_named(name: str) -> SchoolClass:
        if name not in new_classes:
            match = CLASS.match(name)
            assert match is not None
            grade, letter = int(match[1]), match[2].upper().translate(LATIN_LOOKALIKES)
            if not 1 <= grade <= 11:
                raise ValueError(f"класса {name} не бывает")
            before = old_classes.get(f"{grade - 1}{letter}")
            new_classes[name] = SchoolClass(year_id=new.id, grade=grade, letter=letter,
                                            homeroom_teacher_id=before.homeroom_teacher_id if before else None)
            db.session.add(new_classes[name])
            db.session.flush()
        return new_classes[name]

    leave_day = old.end + dt.timedelta(days=1)
    for step in steps:
        if step.action in ("promote", "repeat", "change"):
            assert step.student is not None and step.new_class is not None
            reason = {"promote": "promoted", "repeat": "repeated", "change": "moved"}[step.action]
            enrolment.move(step.student, class_named(step.new_class).id, new.start, reason)
        elif step.action in ("leave", "graduate"):
            assert step.student is not None
            enrolment.leave(step.student, leave_day, "graduated" if step.action == "graduate" else "left")
        else:
            assert step.birth_date is not None
            last, first, middle = step.names
            db.session.add(Student(file_no=step.file_no, last_name=last, first_name=first, middle_name=middle,
                                   birth_date=step.birth_date, class_id=class_named(str(step.new_class)).id,
                                   enrolled_on=new.start))
    _rebind_devices(old_classes, new_classes)
    db.session.flush()


def _rebind_devices(old_classes: dict[str, SchoolClass], new_classes: dict[str, SchoolClass]) -> None:
    """A machine bound to last year's 7А is bound to this year's 8А (an 11th grade's binding ends)."""
    by_id = {c.id: c for c in old_classes.values()}
    rows = db.session.execute(select(device_class.c.device_id, device_class.c.class_id)
                              .where(device_class.c.class_id.in_(list(by_id)))).all()
    for device_id, class_id in rows:
        old = by_id[class_id]
        db.session.execute(delete(device_class).where(device_class.c.device_id == device_id,
                                                      device_class.c.class_id == class_id))
        successor = new_classes.get(f"{old.grade + 1}{old.letter}")
        if successor is not None:
            db.session.execute(insert(device_class).values(device_id=device_id, class_id=successor.id))


def _class_name(text: str | None) -> str | None:
    match = CLASS.match(text or "")
    return f"{int(match[1])}{match[2].upper().translate(LATIN_LOOKALIKES)}" if match else None
