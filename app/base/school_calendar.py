"""The school's calendar in force: periods and holidays, from config.yaml or from the administrator's changes.

RULE (one, for every reader): config.yaml gives the defaults. Once the administrator saves the year's periods
and holidays on the staff page («Календарь»), the database holds the school's calendar for that year
(`academic_year.calendar_edited_at` is set) and it wins over the file; `flask calendar` then leaves that
year's periods and holidays alone, and «Вернуть из config.yaml» hands the year back to the file.

The one lookup is `app.base.settings()`: it returns the file's settings with `periods` and `holidays`
replaced by the database's when the school changed them, so the calendar, reports, forecasts, the family site,
the paper and the sync reference (machines pull the database's `period` and `holiday` rows, which the
staff page writes) all read the same calendar. The answer is kept for the app context (a request, one round
of the site worker) and read on a connection of its own, so a missing table (before `flask db upgrade`)
never breaks a caller's transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import g
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from app.base.extensions import db
from app.base.models import AcademicYear, Holiday, Period, PeriodGrade, RemovedPeriod
from app.base.settings import Holiday as HolidayDay
from app.base.settings import Period as PeriodDays
from app.base.settings import Settings
from sync import clock

CACHE = "tetrad_calendar"


def in_force(conf: Settings) -> Settings:
    """The settings with the calendar in force (the database's where the school changed it)."""
    cached = g.get(CACHE)
    if cached is not None and cached[0] is conf:
        return cached[1]  # type: ignore[no-any-return]
    result = _read(conf)
    setattr(g, CACHE, (conf, result))
    return result


def forget() -> None:
    """Drop the answer kept for this app context (after the calendar was changed)."""
    g.pop(CACHE, None)


def _read(conf: Settings) -> Settings:
    try:
        with db.engine.connect() as connection:
            year = connection.execute(select(AcademicYear.id, AcademicYear.calendar_edited_at)
                                      .where(AcademicYear.name == conf.year_name)).first()
            if year is None or year.calendar_edited_at is None:
                return conf
            periods = connection.execute(
                select(Period.number, Period.name, Period.start, Period.end)
                .where(Period.year_id == year.id, Period.kind != "year").order_by(Period.number)).all()
            holidays = connection.execute(select(Holiday.name, Holiday.start, Holiday.end)
                                          .where(Holiday.year_id == year.id, Holiday.removed_at.is_(None))
                                          .order_by(Holiday.start)).all()
    except SQLAlchemyError:  # no such table or column yet: the file's calendar
        return conf
    if not periods:
        return conf
    return dataclasses.replace(
        conf, periods=tuple(PeriodDays(p.number, p.name, p.start, p.end) for p in periods),
        holidays=tuple(HolidayDay(h.name, h.start, h.end) for h in holidays))


def edited(conf: Settings) -> AcademicYear | None:
    """The configured year's row when the school changed its calendar (the database wins), else None."""
    year = db.session.scalars(select(AcademicYear).filter_by(name=conf.year_name)).first()
    return year if year is not None and year.calendar_edited_at is not None else None


class CalendarError(ValueError):
    """A calendar that cannot be saved: `errors` maps a form field to its Russian message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def check(conf: Settings, periods: list[PeriodDays], holidays: list[HolidayDay]) -> dict[str, str]:
    """The problems of a calendar, by form field (`period-1-start`, `holiday-2-name` …), in Russian."""
    errors: dict[str, str] = {}
    previous: dt.date | None = None
    for p in periods:
        key = f"period-{p.number}"
        if not p.name.strip():
            errors[f"{key}-name"] = "Укажите название периода."
        if p.start > p.end:
            errors[f"{key}-end"] = "Период кончается раньше, чем начинается."
        elif p.start < conf.year_start or p.end > conf.year_end:
            errors[f"{key}-start"] = (f"Период выходит за учебный год ({conf.year_start:%d.%m.%Y} – "
                                      f"{conf.year_end:%d.%m.%Y}).")
        elif previous is not None and p.start <= previous:
            errors[f"{key}-start"] = "Период начинается раньше, чем кончается предыдущий."
        previous = p.end
    for number, h in enumerate(holidays, start=1):
        key = f"holiday-{number}"
        if not h.name.strip():
            errors[f"{key}-name"] = "Укажите название каникул."
        if h.start > h.end:
            errors[f"{key}-end"] = "Каникулы кончаются раньше, чем начинаются."
        elif h.end < conf.year_start or h.start > conf.year_end + dt.timedelta(days=92):
            errors[f"{key}-start"] = "Каникулы не относятся к этому учебному году."
    return errors


def save(conf: Settings, periods: list[PeriodDays], holidays: list[HolidayDay], by: str, now: dt.datetime,
         ) -> AcademicYear:
    """Write the school's calendar for the configured year (the caller commits); CalendarError if it is wrong."""
    from app.base.calendar import current_year  # it builds on this module's rule

    errors = check(conf, periods, holidays)
    if errors:
        raise CalendarError(errors)
    year = current_year(conf)
    write(year, conf.period_kind, periods, holidays)
    year.calendar_edited_at, year.calendar_edited_by = now, by
    db.session.flush()
    forget()
    return year


def reset(file_conf: Settings) -> AcademicYear:
    """Hand the configured year back to config.yaml's periods and holidays (the caller commits)."""
    from app.base.calendar import current_year

    year = current_year(file_conf)
    year.calendar_edited_at = year.calendar_edited_by = None
    write(year, file_conf.period_kind, list(file_conf.periods), list(file_conf.holidays))
    db.session.flush()
    forget()
    return year


def write(year: AcademicYear, kind: str, periods: list[PeriodDays], holidays: list[HolidayDay]) -> None:
    """Make the year's period and holiday rows these (rows kept where they match, so devices pull only changes)."""
    rows = {p.number: p for p in db.session.scalars(select(Period).where(Period.year_id == year.id,
                                                                          Period.kind != "year"))}
    _keep_graded(rows, kind, {p.number for p in periods})
    for conf in periods:
        period = rows.pop(conf.number, None) or Period(year_id=year.id, number=conf.number)
        period.name, period.kind, period.start, period.end = conf.name.strip(), kind, conf.start, conf.end
        db.session.add(period)
    # A removed period (none of its marks exist: _keep_graded) leaves the table, and a copy of it stays behind for
    # machines to pull as deleted. A period of the same number added again is a new row.
    for stale in rows.values():
        db.session.add(RemovedPeriod(id=stale.id, year_id=stale.year_id, number=stale.number, name=stale.name,
                                     kind=stale.kind, start=stale.start, end=stale.end, removed_at=clock.now()))
        db.session.delete(stale)
    # A removed holiday keeps its row, marked removed (a new rev): machines pull it as deleted. Adding the same
    # start again brings that row back.
    days = {h.start: h for h in db.session.scalars(select(Holiday).where(Holiday.year_id == year.id))}
    for rest in holidays:
        holiday = days.pop(rest.start, None) or Holiday(year_id=year.id, start=rest.start)
        holiday.name, holiday.end, holiday.removed_at = rest.name.strip(), rest.end, None
        db.session.add(holiday)
    for gone in days.values():
        if gone.removed_at is None:
            gone.removed_at = clock.now()


def _keep_graded(rows: dict[int, Period], kind: str, numbers: set[int]) -> None:
    """Refuse (CalendarError, nothing written) to remove a period, or make it another kind (a quarter a trimester),
    once period marks were given for it: they would be lost, or silently become marks of another period."""
    changed = {number: row for number, row in rows.items() if number not in numbers or row.kind != kind}
    if not changed:
        return
    # A deleted period mark keeps its row (and so the foreign key): it counts, but is not called given.
    graded: dict[str, dict[bool, int]] = {}
    for period_id, deleted, count in db.session.execute(
            select(PeriodGrade.period_id, PeriodGrade.deleted, func.count())
            .where(PeriodGrade.period_id.in_([r.id for r in changed.values()]))
            .group_by(PeriodGrade.period_id, PeriodGrade.deleted)):
        graded.setdefault(period_id, {})[bool(deleted)] = count
    errors = {f"period-{number}-name": _kept(row.name, graded[row.id])
              for number, row in sorted(changed.items()) if row.id in graded}
    if errors:
        raise CalendarError(errors)


def _kept(name: str, counts: dict[bool, int]) -> str:
    """Why a period stays, with its period marks counted (`counts`: deleted or not → how many)."""
    deleted = f" (и удалённых, которые журнал хранит: {counts[True]})" if counts.get(True) else ""
    return (f"Период «{name}» нельзя убрать или сделать периодом другого вида: по нему выставлено итоговых "
            f"отметок: {counts.get(False, 0)}{deleted}. Верните его в config.yaml (period_kind и periods).")
