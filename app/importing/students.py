"""Students with their guardians and families.

A row is one student. «Семья» is the family code (kept as Family.name): siblings and their guardians
share it, and the student then belongs to that family alone. A row with guardians but no code gets a
family of its own, «ЛД <номер личного дела>». A guardian is the same person when surname, name,
patronymic and phone match, or when the family already has a guardian of that name (a new phone then
updates theirs). Empty guardian cells never erase what the hub knows.

Consent columns (date, basis, channel) record a guardian's consent given on paper (app.base.consent, with
«import: FILE» as who recorded it); it counts at once. A consent the hub already has with the same date and
basis is not added again, so a file can be imported twice. A withdrawal is never imported: it is a written
statement recorded by staff (`flask consent withdraw` or the staff pages).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.base import enrolment
from app.base.consent import history, record_consent
from app.base.extensions import db
from app.base.models import Family, Guardian, SchoolClass, Student, new_id
from app.importing import values
from app.importing.context import INVALID, Context, RowView, assign

GUARDIAN_FIELDS = {
    "last_name": values.text(100), "first_name": values.text(100), "middle_name": values.text(100),
    "phone": values.phone, "email": values.email, "relation": values.text(30),
}
CONSENT_FIELDS = {"consent_on": values.date, "consent_basis": values.text(200), "consent_channel": values.channel}
CHANNEL_NAMES = {"link": "ссылка", "paper": "бумага", "both": "оба"}


@dataclass
class GuardianRow:
    """A guardian as one row gives them."""

    line: int
    last_name: str
    first_name: str
    middle_name: str
    phone: str
    email: str
    relation: str
    consent_on: Any = None
    consent_basis: str = ""
    consent_channel: str | None = None

    @property
    def full_name(self) -> str:
        """Surname first."""
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    def name_key(self) -> tuple[str, str, str]:
        """The name, compared with case and ё ignored."""
        return (values.name_key(self.last_name), values.name_key(self.first_name),
                values.name_key(self.middle_name))


@dataclass
class StudentRow:
    """A student row that passed every check."""

    line: int
    file_no: str
    fields: dict[str, Any]
    family: str | None
    channel: str | None
    guardians: list[GuardianRow]


@dataclass
class FamilyPlan:
    """A family as the whole file describes it."""

    code: str
    file_nos: list[str] = field(default_factory=list)
    channel: str | None = None
    channel_line: int = 0
    guardians: dict[tuple[str, str, str], GuardianRow] = field(default_factory=dict)


def import_students(ctx: Context) -> None:
    """Create or update students by номер личного дела, then their families and guardians."""
    numbers = _guardian_numbers(ctx)
    seen: dict[str, int] = {}
    rows = [plan for row in ctx.rows() if (plan := _read_student(ctx, row, numbers, seen))]
    families = _plan_families(ctx, rows)
    if ctx.problems:
        return
    tally = ctx.tally("ученики")
    for plan in rows:
        student = ctx.students.get(plan.file_no)
        created = student is None
        if student is None:
            student = ctx.students[plan.file_no] = Student(id=new_id(), file_no=plan.file_no, middle_name="")
            db.session.add(student)
        elif plan.fields["class_id"] != student.class_id:
            _record_move(ctx, student, plan.fields["class_id"])
        tally.count(created, assign(student, **plan.fields))
    if families:
        _save_families(ctx, families)


def _record_move(ctx: Context, student: Student, class_id: str) -> None:
    """A student imported into another class keeps the old one in their history (app/base/enrolment.py).

    Into a class of a later year the move is on that year's first day; within the year, on the school's
    today (but never on or before the day the student entered the old class).
    """
    old = db.session.get(SchoolClass, student.class_id)
    on = ctx.year.start if old is not None and old.year_id != ctx.year.id else ctx.settings.today()
    start = enrolment.current(student).start
    enrolment.move(student, class_id, max(on, start + dt.timedelta(days=1)), set_class=False)


def _guardian_numbers(ctx: Context) -> list[int]:
    """The guardian numbers the header has columns for; a problem when surname or name is missing."""
    numbers = sorted({int(key.split(".")[1]) for key in ctx.header.index if key.startswith("guardian.")})
    usable = []
    for n in numbers:
        missing = [f"Представитель {n}: {name}" for key, name in (("last_name", "Фамилия"), ("first_name", "Имя"))
                   if not ctx.has(f"guardian.{n}.{key}")]
        if missing:
            ctx.error(ctx.header.line, "нет обязательного столбца " + " и ".join(f"«{m}»" for m in missing))
        else:
            usable.append(n)
    return usable


def _read_student(ctx: Context, row: RowView, numbers: list[int], seen: dict[str, int]) -> StudentRow | None:
    """Check one student row; None when it has problems (recorded)."""
    file_no = row.get("file_no", values.text(40), required=True)
    fields: dict[str, Any] = {
        "last_name": row.get("last_name", required=True),
        "first_name": row.get("first_name", required=True),
        "birth_date": row.get("birth_date", values.date, required=True),
    }
    if ctx.has("middle_name"):
        fields["middle_name"] = row.get("middle_name") or ""
    school_class = row.school_class()
    enrolled = row.get("enrolled_on", values.date)
    left = row.get("left_on", values.date)
    family = row.get("family", values.text(200))
    channel = row.get("channel", values.channel)
    guardians = [g for n in numbers if (g := _read_guardian(row, n))]
    if file_no is not INVALID and file_no is not None:
        if file_no in seen:
            row.error(f"ученик с номером личного дела {file_no} уже есть в строке {seen[file_no]}")
        seen.setdefault(file_no, row.line)
    if not row.ok or school_class is None:
        return None
    existing = ctx.students.get(file_no)
    if enrolled is None:
        enrolled = existing.enrolled_on if existing else ctx.year.start
    if not ctx.has("left_on"):
        left = existing.left_on if existing else None
    if left is not None and left < enrolled:
        row.error(f"дата выбытия {values.show_date(left)} раньше даты зачисления {values.show_date(enrolled)}")
    if fields["birth_date"] >= enrolled:
        row.error(f"дата рождения {values.show_date(fields['birth_date'])} не раньше даты зачисления "
                  f"{values.show_date(enrolled)}")
    if not row.ok:
        return None
    fields.update(class_id=school_class.id, enrolled_on=enrolled, left_on=left)
    if family is None and guardians:
        family = f"ЛД {file_no}"
    return StudentRow(row.line, file_no, fields, family, channel, guardians)


def _read_guardian(row: RowView, n: int) -> GuardianRow | None:
    """Guardian number `n` of a row, None when all their cells are empty."""
    keys = {name: f"guardian.{n}.{name}" for name in (*GUARDIAN_FIELDS, *CONSENT_FIELDS)}
    if all(row.raw(key) is None for key in keys.values()):
        return None
    cells = {name: row.get(keys[name], parse, required=name in ("last_name", "first_name"))
             for name, parse in GUARDIAN_FIELDS.items()}
    consent = {name: row.get(keys[name], parse) for name, parse in CONSENT_FIELDS.items()}
    if any(v is INVALID for v in (*cells.values(), *consent.values())):
        return None
    on = consent["consent_on"]
    if on is None and (consent["consent_basis"] or consent["consent_channel"]):
        row.error(f"представитель {n}: у согласия нет даты (столбец «Представитель {n}: Согласие (дата)»)")
        return None
    if on is not None and on > row.ctx.settings.today():
        row.error(f"представитель {n}: дата согласия {values.show_date(on)} ещё не наступила")
        return None
    return GuardianRow(row.line, **{name: value or "" for name, value in cells.items()}, consent_on=on,
                       consent_basis=consent["consent_basis"] or "", consent_channel=consent["consent_channel"])


def _plan_families(ctx: Context, rows: list[StudentRow]) -> dict[str, FamilyPlan]:
    """Gather each family's students and guardians from all rows; conflicting rows are problems."""
    families: dict[str, FamilyPlan] = {}
    for plan in rows:
        if plan.family is None:
            continue
        family = families.setdefault(values.name_key(plan.family), FamilyPlan(plan.family))
        family.file_nos.append(plan.file_no)
        if plan.channel and family.channel and plan.channel != family.channel:
            ctx.error(plan.line, f"семья {family.code}: «Дневник семьи» здесь «{CHANNEL_NAMES[plan.channel]}», "
                                 f"а в строке {family.channel_line} — «{CHANNEL_NAMES[family.channel]}»")
        elif plan.channel and not family.channel:
            family.channel, family.channel_line = plan.channel, plan.line
        for guardian in plan.guardians:
            known = family.guardians.setdefault(guardian.name_key(), guardian)
            if known is guardian:
                continue
            if guardian.phone and known.phone and guardian.phone != known.phone:
                ctx.error(plan.line, f"у представителя {guardian.full_name} (семья {family.code}) здесь телефон "
                                     f"{guardian.phone}, а в строке {known.line} — {known.phone}")
            if guardian.consent_on and known.consent_on and guardian.consent_on != known.consent_on:
                ctx.error(plan.line, f"у представителя {guardian.full_name} (семья {family.code}) здесь согласие от "
                                     f"{values.show_date(guardian.consent_on)}, а в строке {known.line} — от "
                                     f"{values.show_date(known.consent_on)}")
            known.phone = known.phone or guardian.phone
            known.email = known.email or guardian.email
            known.relation = known.relation or guardian.relation
            if not known.consent_on:
                known.consent_on, known.consent_basis = guardian.consent_on, guardian.consent_basis
                known.consent_channel = guardian.consent_channel
    return families


class FamilyBook:
    """Existing families, their memberships and all guardians, loaded once."""

    def __init__(self) -> None:
        query = select(Family).options(selectinload(Family.students), selectinload(Family.guardians))
        self.by_code: dict[str, Family] = {}
        self.of_student: dict[str, list[Family]] = defaultdict(list)
        for family in db.session.scalars(query.order_by(Family.id)):
            self.by_code.setdefault(values.name_key(family.name), family)
            for student in family.students:
                self.of_student[student.id].append(family)
        self.guardians = {_key(g): g for g in db.session.scalars(select(Guardian))}


def _key(guardian: Guardian | GuardianRow) -> tuple[str, str, str, str]:
    """A guardian's natural key: surname, name, patronymic (case ignored) and phone."""
    return (values.name_key(guardian.last_name), values.name_key(guardian.first_name),
            values.name_key(guardian.middle_name), guardian.phone)


def _save_families(ctx: Context, plans: dict[str, FamilyPlan]) -> None:
    """Create or update the families named in the file, moving students and adding guardians."""
    book = FamilyBook()
    created: set[str] = set()
    changed: set[str] = set()
    guardians: dict[str, tuple[bool, bool]] = {}
    consents = 0
    for key, plan in plans.items():
        family = book.by_code.get(key)
        if family is None:
            family = book.by_code[key] = Family(id=new_id(), name=plan.code, channel=plan.channel or "link")
            db.session.add(family)
            created.add(family.id)
        if plan.channel and family.channel != plan.channel:
            family.channel = plan.channel
            changed.add(family.id)
        for file_no in plan.file_nos:
            student = ctx.students[file_no]
            for other in book.of_student[student.id]:
                if other is not family:
                    other.students.remove(student)
                    changed.add(other.id)
            if student not in family.students:
                family.students.append(student)
                changed.add(family.id)
            book.of_student[student.id] = [family]
        for row in plan.guardians.values():
            guardian, was_created, was_changed = _save_guardian(book, family, row)
            before = guardians.get(guardian.id, (False, False))
            guardians[guardian.id] = (before[0] or was_created, before[1] or was_changed)
            if guardian not in family.guardians:
                family.guardians.append(guardian)
                changed.add(family.id)
            if row.consent_on:
                consents += _save_consent(ctx, guardian, row, plan.channel or family.channel)
    tally = ctx.tally("семьи")
    for family_id in {f.id for f in book.by_code.values() if values.name_key(f.name) in plans} | changed:
        tally.count(family_id in created, family_id in changed)
    tally_guardians = ctx.tally("представители")
    for was_created, was_changed in guardians.values():
        tally_guardians.count(was_created, was_changed)
    if consents:
        ctx.tally("согласия").created += consents


def _save_consent(ctx: Context, guardian: Guardian, row: GuardianRow, family_channel: str) -> int:
    """Record the row's consent unless the guardian has one with that date and basis already (1 if added)."""
    basis = row.consent_basis or f"согласие от {values.show_date(row.consent_on)}"
    if guardian.id and any(c.state == "given" and c.on == row.consent_on and c.basis == basis
                           for c in history(guardian.id)):
        return 0
    db.session.flush()  # the guardian (and its id) exists before its consent points at it
    record_consent(guardian, row.consent_on, basis, row.consent_channel or family_channel,
                   f"import: {ctx.sheet.file}"[:60])
    return 1


def _save_guardian(book: FamilyBook, family: Family, row: GuardianRow) -> tuple[Guardian, bool, bool]:
    """The guardian this row means (found or created, then updated), and whether created or changed."""
    guardian = book.guardians.get(_key(row))
    if guardian is None:
        guardian = next((g for g in family.guardians if _key(g)[:3] == row.name_key()), None)
    created = guardian is None
    if guardian is None:
        guardian = Guardian(id=new_id(), phone="", email="", relation="")
        db.session.add(guardian)
    else:
        book.guardians.pop(_key(guardian), None)
    fields: dict[str, Any] = {"last_name": row.last_name, "first_name": row.first_name,
                              "middle_name": row.middle_name}
    fields.update({name: getattr(row, name) for name in ("phone", "email", "relation") if getattr(row, name)})
    changed = assign(guardian, **fields)
    book.guardians[_key(guardian)] = guardian
    return guardian, created, changed
