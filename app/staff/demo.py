"""Demo accounts: one per role on the demo school, with known passwords that `flask urls` prints."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.base.extensions import db
from app.base.models import Assignment, SchoolClass, StaffUser, Teacher
from app.staff.users import ROLE_NAMES, create_user

# login → (role, password). The teachers are chosen from the demo school when the accounts are made.
DEMO = {
    "admin": ("administrator", "admin-demo"),
    "director": ("director", "director-demo"),
    "zavuch": ("deputy", "zavuch-demo"),
    "klass": ("class_teacher", "klass-demo"),
    "uchitel": ("subject_teacher", "uchitel-demo"),
}
NAMES = {"admin": "Администратор (демо)", "director": "Директор (демо)", "zavuch": "Завуч (демо)"}


def _teachers() -> tuple[Teacher | None, Teacher | None]:
    """A class teacher of a middle-school class, and a subject teacher of that class who leads no class."""
    classes = sorted(db.session.scalars(select(SchoolClass).where(SchoolClass.homeroom_teacher_id.is_not(None))),
                     key=lambda c: (abs(c.grade - 7), c.letter))
    homerooms = {c.homeroom_teacher_id for c in classes}
    for school_class in classes:
        teaching = db.session.scalars(select(Assignment.teacher_id).where(Assignment.class_id == school_class.id))
        others = sorted({t for t in teaching if t not in homerooms})
        if others:
            return (db.session.get(Teacher, school_class.homeroom_teacher_id), db.session.get(Teacher, others[0]))
    return None, None


def create_demo_accounts() -> list[str]:
    """Create the demo accounts that are missing (teachers' ones only when the school has teachers)."""
    class_teacher, subject_teacher = _teachers()
    teachers = {"klass": class_teacher, "uchitel": subject_teacher}
    made = []
    for login, (role, password) in DEMO.items():
        if db.session.scalar(select(StaffUser.id).where(StaffUser.login == login)) is not None:
            continue
        teacher = teachers.get(login)
        if login in teachers and teacher is None:
            continue
        create_user(login, role, password, teacher.code if teacher else None, NAMES.get(login, ""))
        made.append(login)
    db.session.commit()
    return made


def credential_lines(base: str) -> list[str]:
    """What `flask urls` prints about the staff pages: the address and the demo accounts still as made."""
    lines = [f"  Страницы сотрудников:        {base}/staff/"]
    users = {u.login: u for u in db.session.scalars(select(StaffUser).where(StaffUser.login.in_(list(DEMO))))}
    for login, (role, password) in DEMO.items():
        user = users.get(login)
        if user is not None and user.active and check_password_hash(user.password_hash, password):
            lines.append(f"    {login:<9} / {password:<14} {ROLE_NAMES[role]}: {user.name}")
    return lines
