"""All tables, imported here so that Alembic and the app see one metadata."""

from app.models.base import Base, Counter, new_id
from app.models.journal import (
    JOURNAL_MODELS,
    Attendance,
    JournalRecord,
    Lesson,
    Mark,
    PeriodGrade,
    Remark,
    TestPlan,
)
from app.models.people import Consent, Family, Guardian, family_guardian, family_student
from app.models.reference import (
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
    TimetableEntry,
    group_member,
)
from app.models.sync import Conflict, Device, DirtyFamily, OpLog, device_class

__all__ = [
    "JOURNAL_MODELS", "AcademicYear", "Assignment", "Attendance", "Base", "Conflict", "Consent", "Counter",
    "Device", "DirtyFamily", "Family", "Group", "Guardian", "Holiday", "JournalRecord", "Lesson", "Mark",
    "OpLog", "Period", "PeriodGrade", "Remark", "School", "SchoolClass", "Student", "Subject", "Teacher",
    "TestPlan", "TimetableEntry", "device_class", "family_guardian", "family_student", "group_member",
    "new_id",
]
