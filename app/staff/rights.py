"""Who may do what: the one table of role × action, and the classes each account sees.

Every staff view names its action (`@requires("review.decide")`); nothing else in the package decides
rights. The table follows DOMAIN.md "Who uses it": the director sees everything and changes nothing, the
deputy approves corrections and settles conflicts, the administrator manages machines, accounts and links,
a class teacher sees every page of their own class, a subject teacher sees their own classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Assignment, SchoolClass, StaffUser

ADMIN, DIRECTOR, DEPUTY, CLASS_TEACHER, SUBJECT_TEACHER = (
    "administrator", "director", "deputy", "class_teacher", "subject_teacher",
)
ROLES = (ADMIN, DIRECTOR, DEPUTY, CLASS_TEACHER, SUBJECT_TEACHER)
EVERYONE = frozenset(ROLES)
LEADERS = frozenset({ADMIN, DIRECTOR, DEPUTY})  # see the whole school

# action → the roles allowed to take it. Actions ending in .view only read; the others change state.
RIGHTS: dict[str, frozenset[str]] = {
    "home.view": EVERYONE,
    "own.password": EVERYONE,
    "dashboard.view": LEADERS,
    "review.view": EVERYONE,
    "review.decide": frozenset({DEPUTY}),
    "review.replay": frozenset({DEPUTY, ADMIN}),
    "site.rebuild": frozenset({ADMIN}),
    "devices.view": LEADERS,
    "devices.manage": frozenset({ADMIN}),
    "timetable.view": LEADERS,
    "timetable.plan": frozenset({DEPUTY}),
    "calendar.view": LEADERS,
    "calendar.edit": frozenset({ADMIN}),  # periods and holidays (the database's win over config.yaml's)
    "families.view": LEADERS | {CLASS_TEACHER},
    "families.links": frozenset({ADMIN}),
    "monitoring.view": LEADERS | {CLASS_TEACHER},
    "reports.view": EVERYONE,
    "printing.view": LEADERS | {CLASS_TEACHER},
    "printing.sign": frozenset({ADMIN, DEPUTY, CLASS_TEACHER}),
    "accounts.view": frozenset({ADMIN, DIRECTOR}),
    "accounts.manage": frozenset({ADMIN}),  # add, role, new password, turn off
    "audit.view": LEADERS,
    "jobs.view": EVERYONE,
    "access.view": LEADERS | {CLASS_TEACHER},
    "access.record": frozenset({ADMIN, CLASS_TEACHER}),
    "access.decide": frozenset({ADMIN}),
    "imports.run": frozenset({ADMIN}),
    "year.manage": frozenset({ADMIN}),  # close the year, roll over to the next
    "classlist.view": LEADERS | {CLASS_TEACHER},
    "classlist.edit": frozenset({ADMIN, CLASS_TEACHER}),
    "notify.view": LEADERS,
    "notify.manage": frozenset({ADMIN}),
}


def allowed(role: str | None, action: str) -> bool:
    """Whether a role may take an action; unknown actions are refused."""
    return role is not None and role in RIGHTS.get(action, frozenset())


@dataclass(frozen=True)
class Scope:
    """The classes (and, per class, subjects) an account sees; None means the whole school or every subject."""

    classes: frozenset[str] | None
    subjects: dict[str, frozenset[str] | None] = field(default_factory=dict)
    homeroom: frozenset[str] | None = frozenset()

    def sees_class(self, class_id: str | None) -> bool:
        """Whether any page of this class is visible."""
        return self.classes is None or (class_id is not None and class_id in self.classes)

    def sees(self, class_id: str | None, subject_id: str | None) -> bool:
        """Whether this class's figures for this subject are visible (subject None: class-wide items)."""
        if self.classes is None:
            return True
        if class_id is None or class_id not in self.classes:
            return False
        subjects = self.subjects.get(class_id)
        return subjects is None or (subject_id is not None and subject_id in subjects)

    def sees_families(self, class_id: str | None) -> bool:
        """Whether the families of this class (personal data, parents' viewing) are visible."""
        return self.homeroom is None or (class_id is not None and class_id in self.homeroom)


def scope_for(user: StaffUser) -> Scope:
    """What this account may see: the whole school for leaders, own classes for teachers."""
    if user.role in LEADERS:
        return Scope(classes=None, homeroom=None)
    if user.teacher_id is None:
        return Scope(classes=frozenset())
    homeroom = set(db.session.scalars(select(SchoolClass.id).where(SchoolClass.homeroom_teacher_id == user.teacher_id)))
    if user.role != CLASS_TEACHER:
        homeroom = set()
    subjects: dict[str, set[str] | None] = {c: None for c in homeroom}
    taught = db.session.execute(
        select(Assignment.class_id, Assignment.subject_id).where(Assignment.teacher_id == user.teacher_id)
    )
    for class_id, subject_id in taught:
        current = subjects.setdefault(class_id, set())
        if current is not None:
            current.add(subject_id)
    frozen = {c: (None if s is None else frozenset(s)) for c, s in subjects.items()}
    return Scope(classes=frozenset(subjects), subjects=frozen, homeroom=frozenset(homeroom))
