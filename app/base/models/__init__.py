"""All tables, imported here so that Alembic and the app see one metadata."""

from app.base.models.access import AccessRequest, access_request_student
from app.base.models.base import Base, Counter, new_id
from app.base.models.enrolment import Enrolment
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
from app.base.models.notify import GuardianChannel, NotifyAttempt, NotifyMessage, TeacherEmail
from app.base.models.people import Consent, Family, Guardian, family_guardian, family_student
from app.base.models.reference import (
    AcademicYear,
    Assignment,
    Group,
    Holiday,
    Period,
    RemovedPeriod,
    School,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    TimetableChange,
    TimetableEntry,
    group_member,
)
from app.base.models.site import FamilyLink, InvitationCode, StudentWeekView, WeekAck, WeekView
from app.base.models.staff import AuditEntry, LoginAttempt, StaffJob, StaffUser
from app.base.models.sync import (
    Conflict,
    Device,
    DeviceRebase,
    DirtyFamily,
    HubEpoch,
    OpLog,
    device_class,
    device_teacher,
)

__all__ = [
    "AccessRequest", "access_request_student",
    "JOURNAL_MODELS", "AcademicYear", "Assignment", "Attendance", "AuditEntry", "Base", "Conflict", "Consent",
    "Counter", "Device", "DirtyFamily", "Family", "FamilyLink", "Group", "Guardian", "GuardianChannel", "Holiday",
    "JournalRecord", "Lesson", "LoginAttempt", "Mark", "NotifyAttempt", "NotifyMessage", "OpLog", "Period",
    "PeriodGrade", "Remark", "School", "SchoolClass", "StaffJob", "StaffUser", "Student", "Subject", "Teacher",
    "TeacherEmail", "TestPlan", "TimetableEntry", "WeekAck", "WeekView", "device_class", "family_guardian",
    "family_student", "group_member", "new_id",
    "InvitationCode", "StudentWeekView",
    "DeviceRebase", "Enrolment", "HubEpoch",
    "TimetableChange", "device_teacher", "RemovedPeriod",
]
