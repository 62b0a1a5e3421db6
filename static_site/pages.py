"""Page contexts: what a family's week pages and child pages show, as ready-to-print Russian strings.

A family's content (its visible children's weeks and subjects) is computed once and shared by its links;
each link then adds its guardian's greeting and confirmation state. Only children that `access` lets the
family see are ever passed in, so nothing here can leak another family's child.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from app.base.calendar import monday, week_id
from app.base.forecast import forecast, marks_needed
from app.base.models import Guardian, Student
from app.base.text import format_date, format_datetime, format_day, format_decimal, greeting
from static_site import planned
from static_site.data import ClassJournal, Row, Snapshot, Stay
from static_site.weeks import nav_label, week_frame
from sync.enrolment import enrolled

ABSENCE = {"absent_excused": "н (У)", "absent_unexcused": "н (Н)", "ill": "н (Б)", "late": "оп"}
KINDS = {"remark": "Замечание", "recommendation": "Рекомендация", "praise": "Похвала"}
GRADE_STATUS = {"deferred": "отсрочка", "not_assessed": "н/а"}
PAGE_CURRENT = "index"


@dataclass
class ChildView:
    """One visible child with the parts of the class journal that concern them."""

    number: int
    student: Student
    journal: ClassJournal
    groups: frozenset[str]  # frozen: the keys of what classmates share (snap.cache) take it as it is
    lessons: dict[dt.date, list[Row]] = field(default_factory=lambda: defaultdict(list))
    marks: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))  # lesson id → the child's marks
    attendance: dict[str, Row] = field(default_factory=dict)  # lesson id → the child's absence or lateness
    stays: list[tuple[Stay, ChildView]] = field(default_factory=list)  # other classes of the shown dates
    own: frozenset[str] = frozenset()  # the lessons with a mark or an absence of the child's (`marks`, `attendance`)

    def at(self, day: dt.date) -> ChildView:
        """The child as a member of the class they were in on that day: this view, or the view of the class
        they were moved from (same child, marks and absences; that class's journal, groups and lessons)."""
        for stay, part in self.stays:
            if enrolled(stay.start, stay.end, day):
                return part
        return self

    @property
    def name(self) -> str:
        """Иванова Мария."""
        return f"{self.student.last_name} {self.student.first_name}"

    def sees(self, group_id: str | None) -> bool:
        """Whether a class-wide or group record concerns this child."""
        return group_id is None or group_id in self.groups


@dataclass
class FamilyContent:
    """A family's pages before the per-link parts: week bodies, child pages and week digests."""

    children: list[dict[str, Any]]
    weeks: dict[str, dict[str, Any]]  # week id → body
    digests: dict[str, str]  # week id → digest of the journal records the week shows
    fresh: list[dict[str, str | None]]  # "when" is None before the class's first sync
    pages: dict[str, str]  # page name → week id or child number ("child-1")


def family_content(snap: Snapshot, children: list[Student]) -> FamilyContent:
    """The content of a family's pages from its visible children."""
    journals = snap.classes(snap.class_ids(children), children)  # the children's own records, not classmates'
    views = []
    for number, student in enumerate(children, start=1):
        journal = journals[student.class_id]
        view = _class_view(snap, number, student, journal)
        for mark in journal.marks.get(student.id, ()):  # the child's marks in every class (data.py)
            view.marks[mark.lesson_id].append(mark)
        view.attendance = journal.attendance.get(student.id, {})
        view.own = frozenset(view.marks).union(view.attendance)
        for stay in snap.stays(student):  # a move: the days in the old class show the old class's journal
            if stay.class_id in journals:
                part = _class_view(snap, number, student, journals[stay.class_id])
                part.marks, part.attendance, part.own = view.marks, view.attendance, view.own
                view.stays.append((stay, part))
        views.append(view)
    current = monday(snap.today)
    weeks, digests, pages = {}, {}, {}
    for start in snap.weeks:
        wid = week_id(start)
        weeks[wid], digests[wid] = _week(snap, views, start, start == current)
        pages[PAGE_CURRENT if start == current else wid] = wid
    ahead = planned.week_ahead(snap, views) if getattr(snap, "week_ahead", True) else None
    if ahead is not None:  # the week ahead, when something is planned in it (static_site.planned)
        wid = week_id(ahead)
        weeks[wid], digests[wid] = _week(snap, views, ahead, False)
        weeks[wid]["ahead"] = True
        pages[wid] = wid
    child_pages = [_child_page(snap, view) for view in views]
    for view in views:
        pages[f"child-{view.number}"] = f"child-{view.number}"
    fresh = []
    for class_id in dict.fromkeys(s.class_id for s in children):
        journal = journals[class_id]
        when = format_datetime(journal.fresh, snap.conf.timezone) if journal.fresh else None
        fresh.append({"class": journal.school_class.name, "when": when})
    return FamilyContent(child_pages, weeks, digests, fresh, pages)


def _class_view(snap: Snapshot, number: int, student: Student, journal: ClassJournal) -> ChildView:
    """The child in one class's journal: their groups there and the index of the lessons they see."""
    groups = frozenset(g for g, members in journal.groups.items() if student.id in members)
    view = ChildView(number, student, journal, groups)
    key = (journal.school_class.id, "lessons", groups)
    if key not in snap.cache:  # classmates in the same groups share one index of their lessons
        by_day: dict[dt.date, list[Row]] = defaultdict(list)
        for lesson in journal.lessons:
            if view.sees(lesson.group_id):
                by_day[lesson.date].append(lesson)
        snap.cache[key] = by_day
    view.lessons = snap.cache[key]
    return view


class MarkView(NamedTuple):
    """A mark as a week page shows it."""

    value: str
    short: str
    title: str
    comment: str


class RowView(NamedTuple):
    """A lesson (or a planned one) in a day of a week page."""

    slot: int
    time: str
    subject: str
    topic: str
    homework: str
    due: str
    note: str
    cancelled: bool
    planned: bool
    marks: tuple[MarkView, ...] = ()
    absence: str = ""


class DayView(NamedTuple):
    """A school day of a child."""

    label: str
    weekday: int
    holiday: str | None
    rows: tuple[RowView, ...]
    today: bool


def _week(snap: Snapshot, views: list[ChildView], start: dt.date, current: bool) -> tuple[dict[str, Any], str]:
    """A week's body for every child and the digest of the records it shows."""
    records: list[tuple[str, str, int]] = []
    children = []
    end = start + dt.timedelta(days=6)
    wid, label, dates, holidays = week_frame(snap, start)
    for view in views:
        days = [_day(snap, view.at(day), day, records) for day in dates]  # the class of that day
        days = [d for d in days if d.rows or d.holiday or d.weekday < 5]
        remarks = []
        for remark in view.journal.remarks.get(view.student.id, ()):
            if start <= remark.date <= end:
                records.append(("r", remark.id, remark.rev))
                remarks.append({"date": format_date(remark.date), "kind": KINDS.get(remark.kind, remark.kind),
                                "subject": snap.subjects.get(remark.subject_id or "", ""), "text": remark.text})
        children.append({"number": view.number, "name": view.name, "class": view.journal.school_class.name,
                         "days": days, "remarks": remarks,
                         "no_marks": view.journal.school_class.grade in snap.conf.no_marks_grades})
    horizon = (snap.today, snap.today + dt.timedelta(days=14)) if current else (start, end)
    tests = _tests(snap, views, *horizon)
    body = {"id": wid, "label": label, "current": current, "ahead": False,
            "children": children, "tests": tests, "holidays": holidays}
    text = "\n".join(f"{kind}:{rid}:{rev}" for kind, rid, rev in sorted(set(records)))
    return body, hashlib.sha256(text.encode()).hexdigest()[:32]


class ClassDayView(NamedTuple):
    """A class's (or a group's) day as every classmate sees it before their own marks: shared by classmates."""

    rows: tuple[tuple[str | None, RowView], ...]  # (lesson id or None for a planned lesson, row)
    records: tuple[tuple[str, str, int], ...]  # the lessons shown, for the week's digest
    plain: DayView  # the day of a child with no mark and no absence on it
    lessons: frozenset[str]  # the journal lessons among the rows (a child's marks and absences are on these)


def _day(snap: Snapshot, view: ChildView, day: dt.date, records: list[tuple[str, str, int]]) -> DayView:
    """One school day of a child: the class's day (shared by classmates) with the child's marks and absences.

    `view` is the child in the class they were in on that day (`ChildView.at`), so the key names that class.
    """
    key = (view.journal.school_class.id, view.groups, day)
    shared = snap.cache.get(key)
    if shared is None:
        shared = snap.cache[key] = _class_day(snap, view, day)
    records.extend(shared.records)
    own = shared.lessons.intersection(view.own)
    if not own:
        return shared.plain  # most days of most children: nothing of their own
    rows = []
    for lesson_id, row in shared.rows:
        if lesson_id is not None and lesson_id in own:
            marks = view.marks.get(lesson_id)
            presence = view.attendance.get(lesson_id)
            if marks or presence is not None:
                for mark in marks or ():
                    records.append(("m", mark.id, mark.rev))
                if presence is not None:
                    records.append(("a", presence.id, presence.rev))
                row = row._replace(marks=tuple(_mark(snap, m) for m in marks or ()),
                                   absence=ABSENCE.get(presence.status, "") if presence is not None else "")
        rows.append(row)
    return shared.plain._replace(rows=tuple(rows))


def _mark(snap: Snapshot, mark: Row) -> MarkView:
    kind = snap.work_types.get(mark.work_type)
    return MarkView(mark.value, kind.short if kind else "", kind.name if kind else mark.work_type, mark.comment)


def _class_day(snap: Snapshot, view: ChildView, day: dt.date) -> ClassDayView:
    """A class's (or a group's) day: journal lessons merged with the timetable, before any child's marks."""
    holiday = (found.name if (found := snap.conf.holiday_on(day)) else None)
    timetable = {} if holiday else {
        (e.slot, e.group_id): e for e in _weekday_plan(snap, view, day.isoweekday())
        if e.valid_from <= day and (e.valid_to is None or day <= e.valid_to)
    }
    changed, arriving = planned.changes_on(snap, view, day)
    rows: list[tuple[str | None, RowView]] = []
    lessons = [("l", f"change:{c.id}", c.rev) for c in [*changed.values(), *arriving]]  # in the week's digest
    for lesson in view.lessons.get(day, ()):
        lessons.append(("l", lesson.id, lesson.rev))
        plan = timetable.pop((lesson.slot, lesson.group_id), None)
        change = changed.pop((lesson.slot, lesson.group_id), None)
        notes = []
        if change is not None:
            notes.append(planned.note(snap, change))
        if lesson.cancelled and (change is None or change.kind == "substitution"):
            notes.append("Урок отменён")
        elif not lesson.cancelled and (plan is None or plan.subject_id != lesson.subject_id) and change is None:
            notes.append("Изменение в расписании")
        if lesson.substitute and (change is None or change.kind != "substitution"):
            notes.append(f"Замена: {snap.teachers_short.get(lesson.teacher_id, '')}".strip())
        due = f"к {lesson.homework_due:%d.%m}" if lesson.homework and lesson.homework_due else ""
        off = lesson.cancelled or (change is not None and change.kind != "substitution")
        rows.append((lesson.id, RowView(lesson.slot, _time(snap, lesson.slot), _subject(snap, lesson), lesson.topic,
                                        lesson.homework, due, "; ".join(notes), off, False)))
    for plan in timetable.values():
        change = changed.pop((plan.slot, plan.group_id), None)
        off = change is not None and change.kind != "substitution"
        rows.append((None, RowView(plan.slot, _time(snap, plan.slot), _subject(snap, plan), "", "", "",
                                   planned.note(snap, change) if change else "", off, not off)))
    for change in changed.values():  # a change at a slot neither the journal nor the timetable has
        off = change.kind != "substitution"
        subject = snap.subjects.get(planned.subject_of(view, change) or "", "")
        rows.append((None, RowView(change.slot, _time(snap, change.slot), subject, "", "", "",
                                   planned.note(snap, change), off, not off)))
    taken = {r[1].slot for r in rows if not r[1].cancelled}
    for change in arriving:
        if change.to_slot in taken:  # the teacher recorded the moved lesson already: say where it came from
            rows = [(i, r._replace(note="; ".join(filter(None, (r.note, planned.arrival_note(change)))))
                     if r.slot == change.to_slot and not r.cancelled else r) for i, r in rows]
            continue
        subject = snap.subjects.get(planned.subject_of(view, change) or "", "")
        rows.append((None, RowView(change.to_slot, _time(snap, change.to_slot), subject, "", "", "",
                                   planned.arrival_note(change), False, True)))
    rows.sort(key=lambda r: (r[1].slot, r[1].cancelled))
    plain = DayView(format_day(day), day.weekday(), holiday, tuple(row for _id, row in rows), day == snap.today)
    return ClassDayView(tuple(rows), tuple(lessons), plain, frozenset(i for i, _row in rows if i is not None))


def _weekday_plan(snap: Snapshot, view: ChildView, weekday: int) -> list[Row]:
    """The timetable entries of a weekday that concern the child's class and groups, in slot order."""
    key = (view.journal.school_class.id, "timetable", view.groups)
    plan: dict[int, list[Row]] | None = snap.cache.get(key)
    if plan is None:  # classmates in the same groups share it
        plan = snap.cache[key] = defaultdict(list)
        for entry in view.journal.timetable:
            if view.sees(entry.group_id):
                plan[entry.weekday].append(entry)
    return plan.get(weekday, [])


def _time(snap: Snapshot, slot: int) -> str:
    bell = snap.bells.get(slot)
    return f"{bell.start.hour}:{bell.start.minute:02d}" if bell else ""


def _subject(snap: Snapshot, row: Row) -> str:
    return snap.subjects.get(row.subject_id, "")


def _tests(snap: Snapshot, views: list[ChildView], first: dt.date, last: dt.date) -> list[dict[str, str]]:
    """Planned tests of the children between two dates."""
    found = []
    for view in views:
        for part in [view, *(part for _stay, part in view.stays)]:
            key = (part.journal.school_class.id, "tests", part.groups, first, last)
            shown = snap.cache.get(key)
            if shown is None:  # classmates in the same groups share the list
                shown = snap.cache[key] = _class_tests(snap, part, first, last)
            if view.stays:  # a moved child: each class's tests of the days the child was in it
                shown = [t for t in shown if view.at(dt.date.fromisoformat(t["sort"])) is part]
            found += [{**test, "child": view.name} for test in shown]
    return sorted(found, key=lambda t: (t["sort"], t["child"]))


def _class_tests(snap: Snapshot, view: ChildView, first: dt.date, last: dt.date) -> list[dict[str, str]]:
    found = []
    for test in view.journal.tests:
        if first <= test.date <= last and view.sees(test.group_id):
            kind = snap.work_types.get(test.work_type)
            name = kind.name if kind else test.work_type
            # «Контрольная работа № 2», «Контрольная по дробям»: the title names the kind already
            said = name.split()[0].casefold() in test.title.casefold() if name.strip() else True
            found.append({"date": format_day(test.date), "sort": test.date.isoformat(),
                          "subject": _subject(snap, test), "title": test.title, "kind": "" if said else name})
    return found


def _child_page(snap: Snapshot, view: ChildView) -> dict[str, Any]:
    """A child's subjects with the period's marks, average and forecast, period marks, tests and teachers."""
    conf, journal, student = snap.conf, view.journal, view.student
    key = (journal.school_class.id, "staff", view.groups)
    if key not in snap.cache:
        snap.cache[key] = _class_staff(snap, view)
    hours, teacher_rows = snap.cache[key]
    in_period: dict[str, list[Row]] = defaultdict(list)
    for marks in view.marks.values():
        for mark in marks:
            if snap.period_start <= mark.date <= snap.period_end:
                in_period[mark.subject_id].append(mark)
    subjects = []
    for subject_id in sorted(set(hours) | set(in_period), key=lambda s: _name(snap, s)):
        marks = sorted(in_period.get(subject_id, []), key=lambda m: m.date)
        result = forecast([(m.value, m.work_type) for m in marks], snap.weights, conf.forecast_thresholds,
                          marks_needed(hours.get(subject_id, 1.0), conf.min_marks_one_hour, conf.min_marks_more_hours))
        subjects.append({
            "name": _name(snap, subject_id),
            "marks": [{"value": m.value, "short": _short(snap, m.work_type), "date": _day_month(m.date)}
                      for m in marks],
            "average": format_decimal(result.average) if result.average is not None else "—",
            "forecast": result.mark, "count": result.count, "needed": result.needed,
        })
    periods = [p for p in snap.periods if p.kind != "year"]
    year = next((p for p in snap.periods if p.kind == "year"), None)
    grades = {(g.subject_id, g.period_id): g for g in journal.grades.get(student.id, ())}
    grade_rows = []
    for subject_id in sorted({g.subject_id for g in grades.values()} | set(hours), key=lambda s: _name(snap, s)):
        cells = [_grade(grades.get((subject_id, p.id))) for p in periods]
        final = _grade(grades.get((subject_id, year.id))) if year else ""
        if any(cells) or final:
            grade_rows.append({"subject": _name(snap, subject_id), "cells": cells, "final": final})
    absences: dict[str, int] = defaultdict(int)
    for presence in view.attendance.values():
        absences[presence.status] += 1
    homeroom = snap.teachers.get(journal.school_class.homeroom_teacher_id or "", "")
    return {
        "number": view.number, "name": view.name, "full_name": student.full_name,
        "class": journal.school_class.name, "no_marks": journal.school_class.grade in conf.no_marks_grades,
        "period": snap.period_name, "subjects": subjects,
        "periods": [p.name for p in periods], "year": bool(year), "grades": grade_rows,
        "tests": _tests(snap, [view], snap.period_start, snap.period_end),
        "absences": {"ill": absences["ill"], "excused": absences["absent_excused"],
                     "unexcused": absences["absent_unexcused"], "late": absences["late"]},
        "teachers": teacher_rows, "homeroom": homeroom,
    }


def _class_staff(snap: Snapshot, view: ChildView) -> tuple[dict[str, float], list[dict[str, str]]]:
    """Hours a week per subject and the teachers of a class (or of the child's groups), shared by classmates."""
    hours: dict[str, float] = defaultdict(float)
    teachers: dict[str, set[str]] = defaultdict(set)
    for a in view.journal.assignments:
        if view.sees(a.group_id):
            hours[a.subject_id] = max(hours[a.subject_id], a.hours_per_week)
            if a.teacher_id in snap.teachers:
                teachers[a.subject_id].add(snap.teachers[a.teacher_id])
    rows = [{"subject": _name(snap, s), "names": ", ".join(sorted(n))}
            for s, n in sorted(teachers.items(), key=lambda item: _name(snap, item[0]))]
    return dict(hours), rows


@functools.cache
def _day_month(day: dt.date) -> str:
    """16.11 (formatted once per date in a process)."""
    return f"{day:%d.%m}"


def _name(snap: Snapshot, subject_id: str) -> str:
    return snap.subjects.get(subject_id, "")


def _short(snap: Snapshot, code: str) -> str:
    kind = snap.work_types.get(code)
    return kind.short if kind else ""


def _grade(row: Row | None) -> str:
    if row is None:
        return ""
    return GRADE_STATUS.get(row.status) or (row.value or "")


@dataclass(frozen=True)
class Confirmation:
    """A guardian's confirmation of a week, as the page needs it."""

    at: dt.datetime
    digest: str
    changed: bool


def common_context(snap: Snapshot, css: str, built: dt.datetime) -> dict[str, Any]:
    """What every page of every family shows alike."""
    conf = snap.conf
    weights = ", ".join(f"{w.name.lower()} ×{format_decimal(w.weight, 1).replace(',0', '')}" for w in conf.work_types)
    t = conf.forecast_thresholds
    rule = (f"Средний балл — взвешенный по видам работ ({weights}); зачёт не учитывается. Прогноз: "
            f"{format_decimal(t['5'])} и выше — 5, от {format_decimal(t['4'])} — 4, от {format_decimal(t['3'])} — 3, "
            f"ниже — 2. Если отметок меньше, чем нужно для четвертной ({conf.min_marks_one_hour} при одном часе "
            f"в неделю, {conf.min_marks_more_hours} при двух и более), прогноз не даётся.")
    return {"school": conf.school_name, "css": f"../../{css}", "action": "../../ack",
            "holidays": [{"name": h.name, "dates": f"{format_date(h.start)} – {format_date(h.end)}"}
                         for h in conf.holidays],
            "built": format_datetime(built, conf.timezone), "rule": rule,
            "legend": [(w.short, w.name) for w in conf.work_types]}


def link_pages(content: FamilyContent, common: dict[str, Any], guardian: Guardian, token: str,
               confirmations: dict[str, Confirmation], tz: Any,
               student: Student | None = None) -> dict[str, tuple[str, dict[str, Any]]]:
    """The pages of one link: its family's content with the guardian's greeting and confirmations, or, for a
    student's own link, the student's content addressed to them, with no confirmation (a guardian's act)."""
    weeks = [{"name": name, "href": f"{name}.html", "label": nav_label(wid)}
             for name, wid in content.pages.items() if not name.startswith("child-")]
    weeks.sort(key=lambda w: content.pages[w["name"]])
    hello = f"Здравствуйте, {student.first_name}" if student is not None else greeting(guardian)
    base = {**common, "greeting": hello, "token": token, "fresh": content.fresh, "weeks": weeks,
            "student": student is not None,
            "kids": [{"number": c["number"], "name": c["name"]} for c in content.children]}
    pages: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, target in content.pages.items():
        if name.startswith("child-"):
            child = content.children[int(name.removeprefix("child-")) - 1]
            pages[name] = ("child.html", {**base, "here": name, "child": child})
            continue
        digest = content.digests[target]
        mine = confirmations.get(target)
        ack: dict[str, str] = {"state": "none"}
        if mine is not None:
            state = "changed" if mine.changed or mine.digest != digest else "done"
            ack = {"state": state, "at": format_datetime(mine.at, tz)}
        pages[name] = ("week.html", {**base, "here": name, "week": content.weeks[target], "digest": digest,
                                     "ack": ack, "seen": f"seen-{target}.css"})
    return pages
