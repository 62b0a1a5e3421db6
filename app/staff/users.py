"""Staff accounts: create, check a password, set a new one. Used by the CLI, the demo and the accounts page."""

from __future__ import annotations

import functools
import re
import secrets

from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.base.extensions import db
from app.base.models import StaffUser, Teacher
from app.staff.rights import CLASS_TEACHER, ROLES, SUBJECT_TEACHER
from sync import clock

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")
LOGIN_MAX = 60  # no login is longer (the column's length); a longer one is refused before any lookup
MIN_PASSWORD = 8

ROLE_NAMES = {
    "administrator": "администратор",
    "director": "директор",
    "deputy": "заместитель директора",
    "class_teacher": "классный руководитель",
    "subject_teacher": "учитель-предметник",
}


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the login is unknown, so that a wrong login takes as long as a wrong password."""
    return generate_password_hash("not-a-password")


class AccountError(Exception):
    """An account cannot be created or changed; the message is for staff."""


def normal_login(login: str) -> str:
    """Logins are compared without case and surrounding spaces."""
    return login.strip().lower()


def check_password_rules(password: str) -> None:
    """Refuse a password that is too short."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Пароль должен быть не короче {MIN_PASSWORD} символов.")


def find_teacher(code: str) -> Teacher:
    """The teacher with this табельный номер."""
    teacher = db.session.scalars(select(Teacher).where(Teacher.code == code.strip())).first()
    if teacher is None:
        raise AccountError(f"Учитель с табельным номером «{code}» не найден.")
    return teacher


def create_user(login: str, role: str, password: str | None = None, teacher_code: str | None = None,
                name: str = "") -> tuple[StaffUser, str]:
    """Add an account (flushed, not committed); return it and its password (generated when not given)."""
    login = normal_login(login)
    if not LOGIN.match(login):
        raise AccountError("Логин: от 2 до 60 символов — латинские буквы, цифры, точка, дефис, подчёркивание.")
    if role not in ROLES:
        raise AccountError(f"Неизвестная роль «{role}». Роли: {', '.join(ROLES)}.")
    if db.session.scalar(select(func.count()).select_from(StaffUser).where(StaffUser.login == login)):
        raise AccountError(f"Логин «{login}» уже занят.")
    teacher = find_teacher(teacher_code) if teacher_code else None
    if role in (CLASS_TEACHER, SUBJECT_TEACHER) and teacher is None:
        raise AccountError("Для учителя укажите табельный номер (--teacher): по нему видны его классы.")
    password = password or secrets.token_urlsafe(9)
    check_password_rules(password)
    if not name and teacher is not None:
        name = " ".join(p for p in (teacher.last_name, teacher.first_name, teacher.middle_name) if p)
    user = StaffUser(login=login, password_hash=generate_password_hash(password), role=role, name=name or login,
                     teacher_id=teacher.id if teacher else None, active=True, created_at=clock.now())
    db.session.add(user)
    db.session.flush()
    return user, password


def set_role(user: StaffUser, role: str, teacher_code: str | None) -> None:
    """Give the account another role (and teacher record); teachers' roles need the teacher."""
    if role not in ROLES:
        raise AccountError(f"Неизвестная роль «{role}». Роли: {', '.join(ROLES)}.")
    teacher = find_teacher(teacher_code) if teacher_code else None
    if role in (CLASS_TEACHER, SUBJECT_TEACHER) and teacher is None and user.teacher_id is None:
        raise AccountError("Для учителя укажите табельный номер: по нему видны его классы.")
    user.role = role
    if teacher is not None:
        user.teacher_id = teacher.id


def set_password(user: StaffUser, password: str) -> None:
    """Give the account a new password; its open sessions end."""
    check_password_rules(password)
    user.password_hash = generate_password_hash(password)


def authenticate(login: str, password: str) -> StaffUser | None:
    """The active account with this login and password, or None (in about the same time either way)."""
    user = db.session.scalars(select(StaffUser).where(StaffUser.login == normal_login(login))).first()
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user
