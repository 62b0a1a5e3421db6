"""The year's roll-over (перевод) and its close: one code path for `flask --app wsgi year …` and the
administrator's page (app/staff/year.py). Every refusal is a RolloverError with a Russian message.

ALGORITHM of the plan (`plan()`; the dry run shows it student by student, `carry_out()` applies it in the
caller's one transaction):
1. The new year is the one in config.yaml (`academic_year.name` must be the name given); the old year is the
   latest year before it that has classes.
2. Every student of the old year's classes still enrolled on its last day is promoted one grade, same letter
   (7А → 8А); an 11th-grader graduates (leaves on the day after the old year's end).
3. The director's order's exceptions (a CSV) override step 2 for a student: `repeat` (the same grade, or the
   class given), `leave`, `change` (to the class given), or `join` (a new student into the class given).
4. Applied: the new year's calendar from config.yaml (periods, holidays), the new classes (a promoted class
   keeps its homeroom teacher), each student's enrolment closed in the old class and opened in the new one
   on the new year's first day (app/base/enrolment.py), leavers' `left_on` (their families lose the child's
   pages at the next site build: every family of the old year is queued for it), and classroom machines
   bound to an old class re-bound to the class it became (an 11th grade's binding ends).

ALGORITHM of the close (`final_marks_missing()`, run by `year close` before the family pages are archived):
every student enrolled in a class of the year on its last day needs a final mark (a `period_grade` of the
year's period of kind "year", else of its last period; `deferred` and `not_assessed` count as given) in every
subject the class is taught (a group's subject: its members only); grades in `marks.no_marks_grades` need none.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select

from app.base import enrolment
from app.base.calendar import ensure_calendar
from app.base.classes import LATIN_LOOKALIKES, sorted_classes
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import (
    AcademicYear,
    Assignment,
    Period,
    PeriodGrade,
    SchoolClass,
    Student,
    Subject,
    device_class,
    family_student,
    group_member,
)
from app.base.rebuild_queue import mark_families_dirty
from app.base.settings import Settings
from app.base.text import format_date

ACTIONS = {"repeat": "repeat", "оставить": "repeat", "leave": "leave", "выбыть": "leave", "change": "change",
           "перевести": "change", "join": "join", "зачислить": "join"}
CLASS = re.compile(r"^\s*(\d{1,2})\s*([А-ЯЁA-Z])\s*$", re.IGNORECASE)
KINDS = ("promote", "repeat", "change", "leave", "graduate", "join")


class RolloverError(Exception):
    """The roll-over or the close cannot go on; the message says why, in Russian. Nothing was changed."""


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
class OrderLine:
    """One line of the director's order's exceptions."""

    line: int
    file_no: str
    action: str
    new_class: str | None
    names: tuple[str, str, str]
    birth_date: dt.date | None


@dataclass
class Plan:
    """The whole roll-over: from which year to which, and every student's step."""

    old: AcademicYear
    new_name: str
    steps: list[Step] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {kind: sum(1 for s in self.steps if s.action == kind) for kind in KINDS}

    def lines(self) -> list[str]:
        """The plan student by student, in Russian."""
        return [describe(step, self.old) for step in self.steps]

    def total_line(self) -> str:
        c = self.counts()
        return (f"Итого: переводятся {c['promote']}, остаются на второй год {c['repeat']}, переходят в другой класс "
                f"{c['change']}, выбывают {c['leave']}, выпускаются {c['graduate']}, зачисляются {c['join']}.")


def make_plan(conf: Settings, name: str, order_text: str | None, *, applying: bool) -> Plan:
    """The roll-over into the year NAME (the one config.yaml now names), with the order's exceptions."""
    if conf.year_name != name:
        raise RolloverError(f"в config.yaml учебный год «{conf.year_name}», а не «{name}»: сначала впишите новый "
                            "год (academic_year: name, start, end, periods, holidays) и перезапустите сервер.")
    old = db.session.scalars(select(AcademicYear).where(AcademicYear.start < conf.year_start)
                             .order_by(AcademicYear.start.desc())).first()
    if old is None:
        raise RolloverError("нет прошлого учебного года, из которого переводить.")
    if applying and db.session.scalars(select(SchoolClass).join(AcademicYear)
                                       .where(AcademicYear.name == name)).first():
        raise RolloverError(f"в {name} учебном году уже есть классы: перевод уже сделан или классы импортированы.")
    exceptions = read_order(order_text) if order_text else []
    return Plan(old, name, plan(old, exceptions))


def read_order(text: str) -> list[OrderLine]:
    """The exceptions file, checked line by line; a wrong line stops everything with its number."""
    text = text.removeprefix("\ufeff")
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text.strip() else "a;b", delimiters=";,")
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    found: list[OrderLine] = []
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
            birth = _day(cells.get("birth_date", ""))
            if birth is None:
                problems.append(f"строка {number}: для join нужна дата рождения (birth_date), например 02.04.2016")
            if not cells.get("last_name") or not cells.get("first_name"):
                problems.append(f"строка {number}: для join нужны фамилия и имя (last_name, first_name)")
        found.append(OrderLine(number, cells.get("file_no", ""), action or "", _class_name(target),
                               (cells.get("last_name", ""), cells.get("first_name", ""),
                                cells.get("middle_name", "")), birth))
    if problems:
        raise RolloverError("файл исключений не принят, ничего не изменено:\n"
                            + "\n".join(f"  – {p}" for p in problems))
    return found


def plan(old: AcademicYear, exceptions: list[OrderLine]) -> list[Step]:
    """Every student's step, in the order of their old class and name; joiners last."""
    classes = year_classes(old)
    by_file: dict[str, OrderLine] = {}
    for item in exceptions:
        if item.file_no in by_file:
            raise RolloverError(f"файл исключений: номер личного дела {item.file_no} встречается дважды (строки "
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
                    raise RolloverError(f"строка {entry.line}: {student.full_name} уже учится в {school_class.name}; "
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
            raise RolloverError(f"строка {item.line}: ученика с номером личного дела {item.file_no} нет среди "
                                f"учеников {old.name} учебного года.")
        if db.session.scalars(select(Student).where(Student.file_no == item.file_no)).first() is not None:
            raise RolloverError(f"строка {item.line}: номер личного дела {item.file_no} уже занят другим учеником.")
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


def carry_out(the_plan: Plan, conf: Settings, progress: Callable[[int], None] | None = None) -> None:
    """Apply the plan: calendar, classes, enrolments, leavers, re-bound machines (the caller commits)."""
    steps, old = the_plan.steps, the_plan.old
    new = ensure_calendar(conf)
    db.session.flush()
    old_classes = {c.name: c for c in year_classes(old)}
    new_classes: dict[str, SchoolClass] = {c.name: c for c in year_classes(new)}

    def class_named(name: str) -> SchoolClass:
        if name not in new_classes:
            match = CLASS.match(name)
            assert match is not None
            grade, letter = int(match[1]), match[2].upper().translate(LATIN_LOOKALIKES)
            if not 1 <= grade <= 11:
                raise RolloverError(f"перевод не выполнен, ничего не изменено: класса {name} не бывает")
            before = old_classes.get(f"{grade - 1}{letter}")
            new_classes[name] = SchoolClass(year_id=new.id, grade=grade, letter=letter,
                                            homeroom_teacher_id=before.homeroom_teacher_id if before else None)
            db.session.add(new_classes[name])
            db.session.flush()
        return new_classes[name]

    leave_day = old.end + dt.timedelta(days=1)
    try:
        for step in steps:
            if step.action in ("promote", "repeat", "change"):
                assert step.student is not None and step.new_class is not None
                reason = {"promote": "promoted", "repeat": "repeated", "change": "moved"}[step.action]
                enrolment.move(step.student, class_named(step.new_class).id, new.start, reason, queue=False)
            elif step.action in ("leave", "graduate"):
                assert step.student is not None
                enrolment.leave(step.student, leave_day, "graduated" if step.action == "graduate" else "left",
                                queue=False)
            else:
                assert step.birth_date is not None
                last, first, middle = step.names
                db.session.add(Student(file_no=step.file_no, last_name=last, first_name=first, middle_name=middle,
                                       birth_date=step.birth_date, class_id=class_named(str(step.new_class)).id,
                                       enrolled_on=new.start))
            if progress:
                progress(1)
    except ValueError as exc:
        raise RolloverError(f"перевод не выполнен, ничего не изменено: {exc}") from None
    _rebind_devices(old_classes, new_classes)
    student_ids = [s.student.id for s in steps if s.student is not None]
    families: set[str] = set()
    for part in chunks(student_ids):
        families |= set(db.session.scalars(select(family_student.c.family_id)
                                           .where(family_student.c.student_id.in_(part))))
    if families:
        mark_families_dirty(families)  # leavers' pages go, the others show the new class, at the next build
    db.session.flush()


def year_classes(year: AcademicYear) -> list[SchoolClass]:
    """Every class of the year in the school's order."""
    return sorted_classes(db.session.scalars(select(SchoolClass).where(SchoolClass.year_id == year.id)))


def final_marks_missing(year: AcademicYear, conf: Settings) -> list[str]:
    """Each missing final mark of the year as «7А, Иванова Мария Петровна: Математика», in class order."""
    periods = list(db.session.scalars(select(Period).where(Period.year_id == year.id).order_by(Period.number)))
    final = next((p for p in periods if p.kind == "year"), periods[-1] if periods else None)
    if final is None:
        return []
    subjects = {s.id: s.name for s in db.session.scalars(select(Subject))}
    missing: list[str] = []
    for school_class in year_classes(year):
        if school_class.grade in conf.no_marks_grades:
            continue
        members = sorted(enrolment.roster(school_class.id, year.end, year.end),
                         key=lambda m: (m.last_name, m.first_name, m.middle_name, m.file_no))
        taught = list(db.session.execute(select(Assignment.subject_id, Assignment.group_id)
                                         .where(Assignment.class_id == school_class.id)))
        groups = {g for _s, g in taught if g}
        in_group = set(db.session.execute(select(group_member.c.group_id, group_member.c.student_id)
                                          .where(group_member.c.group_id.in_(groups)))) if groups else set()
        given = set(db.session.execute(
            select(PeriodGrade.student_id, PeriodGrade.subject_id).where(
                PeriodGrade.period_id == final.id, PeriodGrade.deleted.is_(False),
                PeriodGrade.student_id.in_([m.student.id for m in members]))))
        for member in members:
            needed = sorted({subjects.get(s, s) for s, g in taught
                             if (g is None or (g, member.student.id) in in_group)
                             and (member.student.id, s) not in given})
            missing += [f"{school_class.name}, {member.full_name}: {name}" for name in needed]
    return missing


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


def _day(text: str) -> dt.date | None:
    """A date as staff write it (02.04.2016) or in ISO form, or None."""
    text = text.strip()
    for form in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, form).date()  # noqa: DTZ007 - a date, not a moment
        except ValueError:
            continue
    return None
