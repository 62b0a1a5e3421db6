"""Parents' viewing of the diary (DOMAIN.md "Monitoring parents"): students × school weeks, and silent families.

RULES:
1. The weeks of a period run from the Monday of its first day to the week before the one in which the next
   period starts (to the year's last week for the last period), so the holidays after a period are in it.
2. A student's cell joins every family the student belongs to: *confirmed* (green with the date) when a
   guardian confirmed the week and nothing changed since; *changed* (orange) when every confirmation of
   the week was followed by a change; *opened* (green) when the family's pages of that week were opened;
   otherwise *none* (white). Weeks after the current one are *future*.
3. A confirmation without a link (recorded by staff from a returned paper slip) counts as confirmed, on paper.
4. A family is *silent* when it holds a live link and neither opened any page nor confirmed anything in the
   last SILENT_DAYS days (counted from its first link's issue when it never did).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from app.base.calendar import monday, week_id
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import Family, Student, WeekAck, WeekView, family_student
from app.base.settings import Period, Settings
from app.base.text import aware
from static_site.access import family_access

SILENT_DAYS = 14


@dataclass(frozen=True)
class Week:
    """One school week of the table."""

    monday: dt.date
    key: str  # 2026-W47
    holiday: bool  # every school day of it is a holiday
    future: bool

    @property
    def saturday(self) -> dt.date:
        """The week's last school day (six-day weeks; a five-day school simply has no lessons then)."""
        return self.monday + dt.timedelta(days=5)


def period_weeks(conf: Settings, period: Period, today: dt.date) -> list[Week]:
    """The weeks of a period, holidays after it included."""
    later = [p for p in conf.periods if p.start > period.end]
    stop = monday(later[0].start) if later else monday(conf.year_end) + dt.timedelta(days=7)
    weeks, day = [], monday(period.start)
    while day < stop:
        school_days = [day + dt.timedelta(days=i) for i in range(conf.school_days)]
        holiday = all(any(h.start <= d <= h.end for h in conf.holidays) for d in school_days)
        weeks.append(Week(day, week_id(day), holiday, day > monday(today)))
        day += dt.timedelta(days=7)
    return weeks


@dataclass
class Cell:
    """A student's week: none, opened, confirmed, changed or future; the confirmation's date; paper or not."""

    state: str
    confirmed_at: dt.datetime | None = None
    paper: bool = False


@dataclass
class StudentRow:
    """A student's line: the cells and the counts."""

    student: Student
    channels: set[str] = field(default_factory=set)
    cells: list[Cell] = field(default_factory=list)

    def count(self, state: str, paper: bool | None = None) -> int:
        """How many weeks are in this state (confirmed on paper or by link when `paper` is given)."""
        return sum(1 for c in self.cells if c.state == state and (paper is None or c.paper == paper))


def class_table(conf: Settings, class_id: str, weeks: list[Week], today: dt.date) -> list[StudentRow]:
    """Every student of the class enrolled during the weeks, with a cell per week."""
    first, last = weeks[0].monday, weeks[-1].saturday
    students = [s for s in db.session.scalars(select(Student).where(Student.class_id == class_id))
                if s.enrolled_on <= last and (s.left_on is None or s.left_on > first)]
    students.sort(key=lambda s: (s.last_name, s.first_name, s.middle_name, s.id))
    families: dict[str, set[str]] = defaultdict(set)  # student → families
    for part in chunks([s.id for s in students]):
        for family_id, student_id in db.session.execute(select(family_student.c.family_id, family_student.c.student_id)
                                                        .where(family_student.c.student_id.in_(part))):
            families[student_id].add(family_id)
    all_families = sorted({f for fs in families.values() for f in fs})
    keys = [w.key for w in weeks]
    viewed: set[tuple[str, str]] = set()
    acks: dict[tuple[str, str], list[WeekAck]] = defaultdict(list)
    channels: dict[str, str] = {}
    for part in chunks(all_families):
        viewed |= set(db.session.execute(select(WeekView.family_id, WeekView.week)
                                         .where(WeekView.family_id.in_(part), WeekView.week.in_(keys))).all())
        for ack in db.session.scalars(select(WeekAck).where(WeekAck.family_id.in_(part), WeekAck.week.in_(keys))):
            acks[(ack.family_id, ack.week)].append(ack)
        channels.update(db.session.execute(select(Family.id, Family.channel).where(Family.id.in_(part))).all())
    rows = []
    for student in students:
        row = StudentRow(student, {channels[f] for f in families[student.id] if f in channels})
        for week in weeks:
            row.cells.append(_cell(week, [a for f in families[student.id] for a in acks[(f, week.key)]],
                                   any((f, week.key) in viewed for f in families[student.id])))
        rows.append(row)
    return rows


def _cell(week: Week, acks: list[WeekAck], opened: bool) -> Cell:
    """One week's state from its confirmations and views."""
    standing = [a for a in acks if a.changed_at is None]
    if standing:
        latest = max(standing, key=lambda a: aware(a.confirmed_at))
        return Cell("confirmed", aware(latest.confirmed_at), paper=latest.link_id is None)
    if acks:
        latest = max(acks, key=lambda a: aware(a.confirmed_at))
        return Cell("changed", aware(latest.confirmed_at), paper=latest.link_id is None)
    if week.future:
        return Cell("future")
    return Cell("opened" if opened else "none")


@dataclass
class SilentFamily:
    """A family to phone: its guardians and children, and since when nothing was seen of it."""

    family: Family
    since: dt.datetime
    ever: bool  # whether it ever opened or confirmed anything


def _sightings(class_id: str, today: dt.date, now: dt.datetime) -> list[SilentFamily]:
    """Every family of the class's children with a live link, with its last view or confirmation (or the
    moment its first live link was issued, when nothing was seen of it yet)."""
    student_ids = list(db.session.scalars(select(Student.id).where(Student.class_id == class_id)))
    family_ids: set[str] = set()
    for part in chunks(student_ids):
        family_ids |= set(db.session.scalars(select(family_student.c.family_id)
                                             .where(family_student.c.student_id.in_(part))))
    result = []
    for access in family_access(family_ids, today, now).values():
        if not access.live:
            continue
        seen = [aware(m) for m in db.session.scalars(select(WeekView.last_at)
                                                      .where(WeekView.family_id == access.family.id))]
        seen += [aware(m) for m in db.session.scalars(select(WeekAck.confirmed_at)
                                                       .where(WeekAck.family_id == access.family.id))]
        since = max(seen) if seen else min(aware(link.issued_at) for link in access.live)
        result.append(SilentFamily(access.family, since, bool(seen)))
    return sorted(result, key=lambda s: (s.since, s.family.name))


def silent_families(class_id: str, today: dt.date, now: dt.datetime) -> list[SilentFamily]:
    """Families of the class's children with a live link and no view or confirmation for SILENT_DAYS days."""
    limit = now - dt.timedelta(days=SILENT_DAYS)
    return [s for s in _sightings(class_id, today, now) if s.since < limit]


@dataclass(frozen=True)
class LinkedFamilies:
    """What can truly be said when no family is to be phoned: how many have links, and how many are new."""

    live: int  # families with a live link
    fresh: int  # of them: nothing seen yet, links younger than SILENT_DAYS
    newest: dt.datetime | None  # when the newest of those fresh links was issued


def linked_families(class_id: str, today: dt.date, now: dt.datetime) -> LinkedFamilies:
    """Families with links, and those whose links are too new to be silent (nothing opened yet)."""
    limit = now - dt.timedelta(days=SILENT_DAYS)
    sightings = _sightings(class_id, today, now)
    fresh = [s for s in sightings if not s.ever and s.since >= limit]
    return LinkedFamilies(len(sightings), len(fresh), max((s.since for s in fresh), default=None))
