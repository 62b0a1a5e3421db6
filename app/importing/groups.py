"""Groups (подгруппы) of a class: made by the groups layout with their members, or by name in нагрузка and расписание.

The groups layout lists members one per row; each group named in the file gets exactly the students
listed. Assignments and timetable rows may name a group the class does not have yet: it is created
empty, for the row's subject, and its members come from a groups file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm.attributes import flag_modified

from app.base.extensions import db
from app.base.models import Group, SchoolClass, Student, Subject, new_id
from app.importing import values
from app.importing.context import INVALID, Context, RowView, assign


@dataclass
class GroupPlan:
    """A group as the file lists it."""

    school_class: SchoolClass
    name: str
    subject: Subject | None = None
    subject_line: int = 0
    members: dict[str, tuple[Student, int]] = field(default_factory=dict)


def ensure_group(ctx: Context, school_class: SchoolClass, name: str, subject: Subject | None) -> Group:
    """The class's group of this name (case ignored), created for `subject` when it does not exist."""
    key = (school_class.id, values.name_key(name))
    group = ctx.groups.get(key)
    if group is None:
        group = ctx.groups[key] = Group(id=new_id(), class_id=school_class.id, name=name,
                                        subject_id=subject.id if subject else None)
        db.session.add(group)
        # Assignment and timetable rows refer to the group by a foreign key without a relationship, so the
        # unit of work would not know to insert the group first.
        db.session.flush()
        ctx.tally("группы").count(created=True, changed=False)
    return group


def import_groups(ctx: Context) -> None:
    """Create groups and set their members to exactly the students listed."""
    plans: dict[tuple[str, str], GroupPlan] = {}
    class_names = {c.id: c.name for c in ctx.classes.values()}
    for row in ctx.rows():
        school_class = row.school_class()
        name = row.get("group", values.text(60), required=True)
        subject = row.subject(required=False) if ctx.has("subject") else None
        student = _student(row, class_names, school_class)
        if not row.ok or school_class is None or student is None:
            continue
        plan = plans.setdefault((school_class.id, values.name_key(name)), GroupPlan(school_class, name))
        if student.file_no in plan.members:
            row.error(f"ученик {student.file_no} уже есть в группе «{name}» {school_class.name} "
                      f"в строке {plan.members[student.file_no][1]}")
        elif subject is not None and plan.subject is not None and subject is not plan.subject:
            row.error(f"группа «{name}» {school_class.name}: предмет здесь «{subject.name}», "
                      f"а в строке {plan.subject_line} — «{plan.subject.name}»")
        else:
            plan.members[student.file_no] = (student, row.line)
            if subject is not None and plan.subject is None:
                plan.subject, plan.subject_line = subject, row.line
    if ctx.problems:
        return
    tally = ctx.tally("группы")
    for plan in plans.values():
        existing = ctx.groups.get((plan.school_class.id, values.name_key(plan.name)))
        group = ensure_group(ctx, plan.school_class, plan.name, plan.subject)
        changed = assign(group, name=plan.name)
        if plan.subject is not None:
            changed = assign(group, subject_id=plan.subject.id) or changed
        members = [student for student, _line in plan.members.values()]
        if {s.id for s in group.students} != {s.id for s in members}:
            group.students = members
            # Members are not a column: mark the group changed so that it gets a new rev and devices pull it.
            flag_modified(group, "name")
            changed = True
        if existing is not None:
            tally.count(created=False, changed=changed)


def _student(row: RowView, class_names: dict[str, str], school_class: SchoolClass | None) -> Student | None:
    """The student of the row, checked against the class and the names written beside the number."""
    file_no = row.get("file_no", values.text(40), required=True)
    if file_no is None or file_no is INVALID:
        return None
    student = row.ctx.students.get(file_no)
    if student is None:
        row.error(f"{row.header('file_no')}: нет ученика с номером личного дела {file_no} "
                  "(сначала импортируйте учеников)")
        return None
    if school_class is not None and student.class_id != school_class.id:
        where = class_names.get(student.class_id, "другом классе")
        row.error(f"ученик {file_no} ({student.full_name}) учится в {where}, а не в {school_class.name}")
    written = [row.get(key) for key in ("last_name", "first_name", "middle_name")]
    recorded = [student.last_name, student.first_name, student.middle_name]
    if any(w and w is not INVALID and values.name_key(w) != values.name_key(r) for w, r in zip(written, recorded,
                                                                                                   strict=True)):
        shown = " ".join(w for w in written if w and w is not INVALID)
        row.error(f"в личном деле {file_no} записан(а) {student.full_name}, а в файле — {shown}")
    return student
