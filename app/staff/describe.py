"""Op log rows and conflicts in words staff know: whose record, which lesson, what value, by whom, from where."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from app.base import settings
from app.base.extensions import db
from app.base.models import (
    JOURNAL_MODELS,
    Conflict,
    Device,
    Lesson,
    OpLog,
    Period,
    SchoolClass,
    StaffUser,
    Student,
    Subject,
    Teacher,
)
from app.base.text import short_name
from app.staff.i18n import N_
from sync import hlc

ENTITY_LABELS = {
    "lesson": N_("Lesson"), "attendance": N_("Attendance"), "mark": N_("Mark"), "remark": N_("Remark"),
    "period_grade": N_("Period mark"), "test_plan": N_("Test plan"),
}
FIELD_LABELS = {
    "topic": N_("topic"), "homework": N_("homework"), "homework_due": N_("homework due"), "value": N_("mark"),
    "work_type": N_("work type"), "comment": N_("comment"), "status": N_("status"), "text": N_("text"),
    "deleted": N_("deleted"), "cancelled": N_("cancelled"), "teacher": N_("teacher"), "subject": N_("subject"),
    "date": N_("date"), "title": N_("title"), "kind": N_("kind"), "substitute": N_("substitute"),
}
ATTENDANCE = {"present": "был(а)", "absent_excused": "н (У)", "absent_unexcused": "н (Н)", "ill": "н (Б)",
              "late": "оп"}


@dataclass(frozen=True)
class Described:
    """What an op or conflict is about, and where it belongs (for the viewer's scope)."""

    entity: str
    what: str  # e.g. "Иванова Мария Петровна · Математика · 16.11.2026, урок 2"
    class_id: str | None
    subject_id: str | None


class Describer:
    """Looks up students, lessons, teachers and machines once per page."""

    def __init__(self) -> None:
        self._cache: dict[tuple[type, str], Any] = {}
        self._logins: dict[str, str] | None = None

    def _get(self, model: type, key: str | None) -> Any:
        if key is None:
            return None
        if (model, key) not in self._cache:
            self._cache[(model, key)] = db.session.get(model, key)
        return self._cache[(model, key)]

    def author(self, author_id: str) -> str:
        """A teacher's name (surname and initials), or a staff account's name for a hub decision."""
        teacher = self._get(Teacher, author_id)
        if teacher is not None:
            return short_name(teacher.first_name, teacher.middle_name, teacher.last_name)
        if self._logins is None:
            self._logins = {u.login: u.name for u in db.session.query(StaffUser)}
        return self._logins.get(author_id, author_id)

    def device(self, device_id: str) -> str:
        """A machine's name."""
        device = self._get(Device, device_id)
        return device.name if device is not None else device_id

    def value(self, entity: str, field: str, value: Any) -> str:
        """A field's value as the journal writes it."""
        if value is None or value == "":
            return "—"
        if field == "status" and entity == "attendance":
            return ATTENDANCE.get(str(value), str(value))
        if field == "deleted" or isinstance(value, bool):
            return str(_("yes") if value else _("no"))
        if field == "work_type":
            work = settings().work_type(str(value))
            return work.name if work else str(value)
        return str(value)

    def record(self, entity: str, record_id: str, fields: dict[str, Any]) -> Described:
        """Describe a journal record from its stored row, or from the op's fields when it does not exist."""
        model = JOURNAL_MODELS.get(entity)
        row = self._get(model, record_id) if model is not None else None

        def pick(name: str, column: str | None = None) -> Any:
            if row is not None:
                return getattr(row, column or name, None)
            return fields.get(name)

        parts: list[str] = []
        class_id = subject_id = None
        lesson: Lesson | None = None
        if entity == "lesson":
            class_id, subject_id = pick("class", "class_id"), pick("subject", "subject_id")
            parts.append(self._lesson_words(class_id, subject_id, pick("date"), pick("slot")))
        elif entity in ("attendance", "mark"):
            lesson = self._get(Lesson, pick("lesson", "lesson_id"))
            student = self._get(Student, pick("student", "student_id"))
            if student is not None:
                parts.append(student.full_name)
            if lesson is not None:
                class_id, subject_id = lesson.class_id, lesson.subject_id
                parts.append(self._lesson_words(class_id, subject_id, lesson.date, lesson.slot))
        elif entity in ("period_grade", "remark"):
            student = self._get(Student, pick("student", "student_id"))
            subject_id = pick("subject", "subject_id")
            if student is not None:
                parts.append(student.full_name)
                class_id = student.class_id
            subject = self._get(Subject, subject_id)
            if subject is not None:
                parts.append(subject.name)
            period = self._get(Period, pick("period", "period_id")) if entity == "period_grade" else None
            if period is not None:
                parts.append(period.name)
        elif entity == "test_plan":
            class_id, subject_id = pick("class", "class_id"), pick("subject", "subject_id")
            parts.append(self._lesson_words(class_id, subject_id, pick("date"), None))
        return Described(entity, " · ".join(p for p in parts if p), class_id, subject_id)

    def _lesson_words(self, class_id: str | None, subject_id: str | None, day: Any, slot: Any) -> str:
        school_class = self._get(SchoolClass, class_id)
        subject = self._get(Subject, subject_id)
        words = [school_class.name if school_class else "", subject.name if subject else ""]
        if isinstance(day, str):
            try:
                day = dt.date.fromisoformat(day)
            except ValueError:
                day = None
        if isinstance(day, dt.date):
            words.append(day.strftime("%d.%m.%Y") + (_(", lesson %(slot)s", slot=slot) if slot is not None else ""))
        return " · ".join(w for w in words if w)

    def op(self, row: OpLog) -> Described:
        """Describe an op log row."""
        fields = (row.payload or {}).get("fields") or {}
        if not isinstance(fields, dict):
            fields = {}
        return self.record(row.entity, row.record_id, fields)

    def conflict(self, conflict: Conflict) -> Described:
        """Describe a conflict's record."""
        return self.record(conflict.entity, conflict.record_id, {})


def entity_label(entity: str) -> str:
    """The kind of record in the page's language."""
    return _(ENTITY_LABELS[entity]) if entity in ENTITY_LABELS else entity


def field_label(field: str) -> str:
    """A field's name in the page's language."""
    return _(FIELD_LABELS[field]) if field in FIELD_LABELS else field


def hlc_moment(stamp: str | None) -> dt.datetime | None:
    """The moment an HLC names (UTC), for showing when an entry was made on its machine."""
    if not stamp or not hlc.is_valid(stamp):
        return None
    ms, _counter = hlc.parse(stamp)
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def changed_fields(row: OpLog) -> dict[str, Any]:
    """The fields an op sets (a delete sets `deleted`)."""
    payload = row.payload or {}
    if payload.get("action") == "delete":
        return {"deleted": True}
    fields = payload.get("fields") or {}
    return dict(fields) if isinstance(fields, dict) else {}


STATUS_LABELS = {
    "applied": N_("applied to the journal"), "superseded": N_("recorded; a later entry stands"),
    "conflict": N_("applied; a conflict recorded"), "held": N_("held for approval"), "queued": N_("queued"),
    "rejected": N_("rejected"), "declined": N_("declined"), "skipped": N_("skipped"),
    "families": N_("families built"), "pages": N_("pages written"), "removed": N_("page sets removed"),
}


def status_label(status: str) -> str:
    """An op's outcome in the page's language."""
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status
