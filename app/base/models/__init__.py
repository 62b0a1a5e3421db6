"""All tables, imported here so that Alembic and the app see one metadata."""

from app.base.models.base import Base, Counter, new_id
from app.base.models.journal import (
    JOURNAL_MODELS,
    Attendance,
    JournalRecord,
    Lesson,
    Mark,
    PeriodGrade,
    Remark,
    TestPlan,
)
from app.base.models.people import Consent, Family, Guardian, family_guardian, family_student
from app.base.models.reference import (
    AcademicYear,
    Assignment,
    Group,
    Holiday,
    Period,
    School,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    TimetableChange,
    TimetableEntry,
    group_member,
)
from app.base.models.site import FamilyLink, WeekAck, WeekView
from app.base.models.staff import AuditEntry, LoginAttempt, StaffJob, StaffUser
from app.base.models.sync import Conflict, Device, DirtyFamily, OpLog, device_class, device_teacher

__all__ = [
    "JOURNAL_MODELS", "AcademicYear", "Assignment", "Attendance", "AuditEntry", "Base", "Conflict", "Consent",
    "Counter", "Device", "DirtyFamily", "Family", "FamilyLink", "Group", "Guardian", "Holiday", "JournalRecord",
    "Lesson", "LoginAttempt", "Mark", "OpLog", "Period", "PeriodGrade", "Remark", "School", "SchoolClass", "StaffJob",
    "StaffUser", "Student", "Subject", "Teacher", "TestPlan", "TimetableChange", "TimetableEntry", "WeekAck",
    "WeekView", "device_class", "device_teacher", "family_guardian", "family_student", "group_member", "new_id",
]
