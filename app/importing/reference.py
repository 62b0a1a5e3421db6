"""Teachers, subjects and classes: the lists everything else refers to."""

from __future__ import annotations

from app.base.extensions import db
from app.base.models import SchoolClass, Subject, Teacher, new_id
from app.importing import values
from app.importing.context import INVALID, Context, assign


def import_teachers(ctx: Context) -> None:
    """Create or update teachers by табельный номер."""
    seen: dict[str, int] = {}
    tally = ctx.tally("учителя")
    for row in ctx.rows():
        code = row.get("code", values.text(40), required=True)
        fields = {
            "last_name": row.get("last_name", required=True),
            "first_name": row.get("first_name", required=True),
        }
        if ctx.has("middle_name"):
            fields["middle_name"] = row.get("middle_name") or ""
        if ctx.has("active"):
            active = row.get("active", values.yes_no)
            fields["active"] = True if active is None else active
        if code not in (None, INVALID):
            if code in seen:
                row.error(f"учитель с табельным номером {code} уже есть в строке {seen[code]}")
            seen.setdefault(code, row.line)
        if not row.ok:
            continue
        teacher = ctx.teachers.get(code)
        created = teacher is None
        if teacher is None:
            teacher = ctx.teachers[code] = Teacher(id=new_id(), code=code, middle_name="", active=True)
            db.session.add(teacher)
        tally.count(created, assign(teacher, **fields))


def short_name(name: str) -> str:
    """A subject's short name: the name itself when it fits, else its initials (ОБЖ)."""
    if len(name) <= 20:
        return name
    initials = "".join(word[0] for word in name.split() if word[0].isalpha()).upper()
    return initials[:20] or name[:20]


def import_subjects(ctx: Context) -> None:
    """Create or update subjects by name (case and ё ignored)."""
    seen: dict[str, int] = {}
    tally = ctx.tally("предметы")
    for row in ctx.rows():
        name = row.get("name", values.text(100), required=True)
        short = row.get("short", values.text(20))
        if name not in (None, INVALID):
            key = values.name_key(name)
            if key in seen:
                row.error(f"предмет «{name}» уже есть в строке {seen[key]}")
            seen.setdefault(key, row.line)
        if not row.ok:
            continue
        subject = ctx.subjects.get(values.name_key(name))
        created = subject is None
        if subject is None:
            subject = ctx.subjects[values.name_key(name)] = Subject(id=new_id(), short=short_name(name))
            db.session.add(subject)
        fields = {"name": name}
        if short:
            fields["short"] = short
        tally.count(created, assign(subject, **fields))


def import_classes(ctx: Context) -> None:
    """Create or update this year's classes, with their class teacher."""
    seen: dict[tuple[int, str], int] = {}
    tally = ctx.tally("классы")
    for row in ctx.rows():
        parsed = row.get("class", values.class_name, required=True)
        homeroom = row.teacher("homeroom", required=False) if ctx.has("homeroom") else None
        if parsed is not INVALID:
            if parsed in seen:
                row.error(f"класс {parsed[0]}{parsed[1]} уже есть в строке {seen[parsed]}")
            seen.setdefault(parsed, row.line)
        if not row.ok:
            continue
        school_class = ctx.classes.get(parsed)
        created = school_class is None
        if school_class is None:
            school_class = SchoolClass(id=new_id(), year_id=ctx.year.id, grade=parsed[0], letter=parsed[1])
            ctx.classes[parsed] = school_class
            db.session.add(school_class)
        changed = False
        if ctx.has("homeroom"):
            changed = assign(school_class, homeroom_teacher_id=homeroom.id if homeroom else None)
        tally.count(created, changed)

