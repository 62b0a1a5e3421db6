"""A closed school year's journal is archived: staff on the hub change none of its records.

RULE: `year close --apply` marks the year closed (`academic_year.closed_at`, static_site/last_year.close_year).
From then on the sync rules refuse every journal op a classroom machine sends for it (`year_closed`: kept in the
op log like any rejected op, to be replayed should the year be reopened), and a staff decision that would write
a journal record of that year (approving a held correction, replaying a rejected op, choosing a conflict's other
value: app/syncing/review.py) is refused with `YearClosed`, and nothing changes. A record belongs to the year
whose days hold its date: a lesson's, a remark's or a test's own date, a mark's or an attendance row's lesson
date, a period mark's period end. An op that would move a record (a remark's date) is refused when either its
old or its new date is in a closed year. `year reopen NAME` opens the year again, by the administration's
decision, for a correction; closing it again copies the families' pages afresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.journal_store import load
from app.base.models import AcademicYear, Period
from app.base.text import aware
from sync.protocol import JOURNAL
from sync.schema import parse_date


class YearClosed(Exception):
    """A change refused because its record belongs to a closed year; the message is for staff, in Russian."""


def year_closed(name: str) -> bool:
    """Whether the year of this name is closed: the sync rules then refuse every journal op (`year_closed`)."""
    return db.session.scalar(select(AcademicYear.closed_at).where(AcademicYear.name == name)) is not None


def closed_year_on(day: dt.date) -> AcademicYear | None:
    """The closed year whose days hold `day`, or None."""
    return db.session.scalars(select(AcademicYear).where(AcademicYear.closed_at.is_not(None),
                                                         AcademicYear.start <= day, AcademicYear.end >= day)).first()


def record_day(entity: str, values: Mapping[str, Any]) -> dt.date | None:
    """The day that places a journal record in a school year (None when its values do not say)."""
    if entity in ("mark", "attendance"):
        lesson = load("lesson", [str(values.get("lesson"))]).get(str(values.get("lesson")))
        return parse_date(lesson.values.get("date")) if lesson is not None else None
    if entity == "period_grade":
        period = db.session.get(Period, str(values.get("period")))
        return period.end if period is not None else None
    return parse_date(values.get("date"))


def check_open(entity: str, record_id: str, fields: Mapping[str, Any]) -> None:
    """Raise YearClosed when writing `fields` to this record would change a closed year's journal."""
    if entity not in JOURNAL:
        return
    current = load(entity, [record_id]).get(record_id)
    before = dict(current.values) if current is not None else {}
    for values in (before, {**before, **fields}):
        day = record_day(entity, values) if values else None
        year = closed_year_on(day) if day is not None else None
        if year is not None:
            assert year.closed_at is not None
            closed = aware(year.closed_at).astimezone(settings().timezone)
            raise YearClosed(
                f"Учебный год {year.name} закрыт {closed:%d.%m.%Y}: его журнал в архиве, запись не изменена. "
                f"Исправить её можно, только снова открыв год (flask --app wsgi year reopen {year.name}) по решению "
                "администрации; после исправления закройте год ещё раз.")
