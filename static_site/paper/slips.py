"""Weekly slips (выписки из дневника): for each student, what the family's week page and child page show.

The content comes from static_site.pages.family_content called with the one student, over a WeekSnapshot:
the same days, lessons, marks, absences, remarks and forecasts as the site, and nothing of anyone else.
Paper adds the week's absences counted, next week's tests, the signature lines and, where allowed, a QR
code of the family's link (static_site.paper.audience).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import segno
from flask import current_app

from app.base.calendar import week_id
from app.base.enrolment import Member
from app.base.models import SchoolClass, Student
from app.base.text import format_date, week_label
from static_site.pages import ABSENCE, GRADE_STATUS, RowView, common_context, family_content
from static_site.paper import pdf
from static_site.paper.audience import QrLink, qr_links, slip_students
from static_site.paper.pdf import kept_whole, render_html
from static_site.paper.snapshots import WeekSnapshot
from sync import clock

ABSENCE_WORDS = {"ill": "по болезни", "absent_excused": "по уважительной причине",
                 "absent_unexcused": "без уважительной причины"}
STATUS_OF = {text: status for status, text in ABSENCE.items()}
LEVELS = 4  # 0 roomy … 2 small type; 3: smallest type, starting on the front of a sheet (printed on both sides)
LEVEL_TYPE = ((8.5, 1.25), (7.8, 1.25), (7.0, 1.18))  # type size (pt) and leading of levels 0–2 (paper.css)
CHARS_PER_LINE = 95  # characters of a lesson line in the roomiest type
PAGE_LINES = 64  # lines of the roomiest type that surely fit a page (about 70 do): a second layout costs more


@dataclass
class Slip:
    """One student's week on paper."""

    number: int
    student_id: str
    name: str  # Иванова Мария Петровна
    class_name: str
    week: str  # 16–21 ноября 2026
    days: list[dict[str, Any]]
    remarks: list[dict[str, str]]
    tests: list[dict[str, str]]
    next_week: str
    holidays: list[dict[str, str]]
    no_marks: bool
    period: str
    as_of: str
    subjects: list[dict[str, Any]]
    absences: str
    enrolment: str  # "зачислен(а) 18.11.2026", "выбыл(а) 19.11.2026" or ""
    homeroom: str
    qr: str | None = None  # an SVG data URI
    qr_url: str = ""
    qr_guardian: str = ""
    level: int = 0


def qr_svg(url: str) -> str:
    """A QR code of the address as an SVG data URI (vector: sharp at any printed size)."""
    return str(segno.make(url, error="m").svg_data_uri(border=2, dark="#000"))


def make_slips(snap: WeekSnapshot, students: Sequence[Member], qr: dict[str, QrLink],
               first_number: int = 1) -> list[Slip]:
    """A slip per student, in the given order; the students' class journals are read once."""
    slips = []
    for number, student in enumerate(students, start=first_number):
        # A member of a class reads as its student, with that class and dates (app/base/enrolment.py).
        slips.append(make_slip(snap, cast(Student, student), number, qr.get(student.id)))
    return slips


def make_slip(snap: WeekSnapshot, student: Student, number: int, link: QrLink | None = None) -> Slip:
    """The slip of one student for the snapshot's week."""
    conf = snap.conf
    content = family_content(snap, [student])  # this student alone: nobody else's data can come in
    week = snap.week
    body = content.weeks[week_id(week)]
    child, page = body["children"][0], content.children[0]
    journal = snap.classes({student.class_id})[student.class_id]
    school_class: SchoolClass = journal.school_class
    no_marks = bool(child["no_marks"])
    days = [_day(day, week, student, no_marks) for day in child["days"]]
    first, last = snap.next_week
    tests = [t for t in body["tests"] if first.isoformat() <= t["sort"] <= last.isoformat()]
    period_marks = _period_marks(snap, student)
    subjects = [] if no_marks else [
        {"name": s["name"], "average": s["average"], "forecast": s["forecast"], "count": s["count"],
         "needed": s["needed"], "period_mark": period_marks.get(s["name"], ""),
         "week_marks": _week_marks(days, s["name"])}
        for s in page["subjects"]]
    saturday = week + dt.timedelta(days=5)
    return Slip(
        number=number, student_id=student.id, name=student.full_name, class_name=school_class.name,
        week=week_label(week), days=days,
        remarks=child["remarks"], tests=tests, next_week=week_label(first), holidays=body["holidays"],
        no_marks=no_marks, period=snap.period_name, as_of=format_date(min(snap.period_end, saturday)),
        subjects=subjects, absences=_absences(days), enrolment=_enrolment(student, week, conf.school_days),
        homeroom=snap.teachers_short.get(school_class.homeroom_teacher_id or "", ""),
        qr=qr_svg(link.url) if link else None, qr_url=link.url if link else "",
        qr_guardian=link.guardian if link else "",
    )



def _day(day: Any, week: dt.date, student: Student, no_marks: bool) -> dict[str, Any]:
    """A day of the site's week body as the slip prints it; days outside the enrolment carry no lessons."""
    date = week + dt.timedelta(days=day.weekday)
    rows: tuple[RowView, ...] = day.rows
    enrolled = student.active_on(date)
    if no_marks:
        rows = tuple(r._replace(marks=()) for r in rows)
    return {"label": day.label, "date": date, "holiday": day.holiday, "enrolled": enrolled,
            "rows": rows if enrolled else ()}


def _week_marks(days: list[dict[str, Any]], subject: str) -> list[str]:
    return [f"{m.value}{m.short}" for d in days for r in d["rows"] if r.subject == subject for m in r.marks]


def _absences(days: list[dict[str, Any]]) -> str:
    """Пропущено уроков: 3 (по болезни 2, без уважительной причины 1); опозданий: 1."""
    counts = Counter(STATUS_OF.get(r.absence, "") for d in days for r in d["rows"] if r.absence)
    missed = sum(n for status, n in counts.items() if status in ABSENCE_WORDS)
    parts = []
    if missed:
        reasons = ", ".join(f"{words} {counts[s]}" for s, words in ABSENCE_WORDS.items() if counts[s])
        parts.append(f"пропущено уроков: {missed} ({reasons})")
    if counts["late"]:
        parts.append(f"опозданий: {counts['late']}")
    return "; ".join(parts).capitalize() if parts else "Пропусков и опозданий нет"


def _enrolment(student: Student, week: dt.date, school_days: int) -> str:
    last = week + dt.timedelta(days=school_days - 1)
    notes = []
    if week < student.enrolled_on <= last:
        notes.append(f"зачислен(а) в класс {format_date(student.enrolled_on)}")
    if student.left_on is not None and week < student.left_on <= last:
        notes.append(f"выбыл(а) {format_date(student.left_on)}")
    return "; ".join(notes).capitalize()


def _period_marks(snap: WeekSnapshot, student: Student) -> dict[str, str]:
    """Subject name → the mark of the shown period, when one is set (a deferred one reads «отсрочка»)."""
    if snap.period_id is None:
        return {}
    journal = snap.classes({student.class_id})[student.class_id]
    marks = {}
    for grade in journal.grades.get(student.id, ()):
        subject = snap.subjects.get(grade.subject_id)
        if grade.period_id == snap.period_id and subject is not None:
            marks[subject] = GRADE_STATUS.get(grade.status) or (grade.value or "")
    return marks


def estimate_level(slip: Slip) -> int:
    """A first guess of the type size that keeps the slip on one page (never the last resort, level 3).

    Only a guess: the PDF is laid out and any slip that still spills over is shrunk (pdf.kept_whole)."""
    for level, (size, leading) in enumerate(LEVEL_TYPE):
        width = CHARS_PER_LINE * LEVEL_TYPE[0][0] / size
        lines = 9.0 + 1.2 * len(slip.days) + 0.6 * len(slip.subjects) + len(slip.tests) + len(slip.holidays)
        lines += 3.0 if slip.no_marks else 4.0  # the legend and the forecast rule
        lines += sum(1 + len(r["text"]) // width for r in slip.remarks)
        for day in slip.days:
            for row in day["rows"]:
                text = len(row.subject) + len(row.topic) + len(row.homework) + len(row.note) + 20
                lines += 1 + text // width + sum(1 for m in row.marks if m.comment)
        if lines * size * leading <= PAGE_LINES * LEVEL_TYPE[0][0] * LEVEL_TYPE[0][1]:
            return level
    return len(LEVEL_TYPE) - 1


@dataclass
class SlipBatch:
    """The slips of one class (or a whole school) for one week: one printable document."""

    title: str  # 7А
    week: dt.date
    slips: list[Slip]


def class_batch(snap: WeekSnapshot, school_class: SchoolClass, everyone: bool, qr_allowed: bool,
                now: dt.datetime) -> SlipBatch:
    """The slips of a class for the snapshot's week: paper families' children, or every student."""
    students = slip_students([school_class.id], snap.week, snap.conf, everyone)
    links = qr_links(snap.conf, students, snap.conf.today(now), now) if qr_allowed and students else {}
    return SlipBatch(school_class.name, snap.week, make_slips(snap, students, links))


def batch_html(snap: WeekSnapshot, batch: SlipBatch, levels: dict[int, int] | None = None) -> str:
    """The batch as one printable HTML page (A4, each slip whole, two to a sheet when they fit)."""
    common = common_context(snap, "", clock.now())
    label = week_label(batch.week)
    levels = levels if levels is not None else {s.number: estimate_level(s) for s in batch.slips}
    return render_html("slips.html", school=snap.conf.school_name, title=batch.title, week=label,
                       slips=batch.slips, levels=levels, legend=common["legend"], rule=common["rule"],
                       footer=f"{batch.title} · неделя {label} · выписки из дневника · стр. ")


def batches_html(snap: WeekSnapshot, title: str, batches: list[SlipBatch]) -> str:
    """Several classes' slips as one printable HTML page, numbered through (a whole school's week)."""
    merged = SlipBatch(title, batches[0].week, [s for b in batches for s in b.slips])
    for number, slip in enumerate(merged.slips, start=1):
        slip.number = number
    return batch_html(snap, merged)


def batch_document(snap: WeekSnapshot, batch: SlipBatch) -> Any:
    """The batch laid out by WeasyPrint with no slip split across pages."""
    levels = {s.number: estimate_level(s) for s in batch.slips}
    return kept_whole(lambda current: batch_html(snap, batch, current), levels, LEVELS - 1)


def paper_cache() -> pdf.PartCache:
    """The hub's cache of class documents already laid out (var/paper-cache)."""
    return pdf.PartCache(Path(current_app.config["VAR_DIR"]) / "paper-cache")


def batches_pdf(snap: WeekSnapshot, batches: list[SlipBatch], processes: int = 1,
                cache: pdf.PartCache | None = None) -> tuple[bytes, int]:
    """Several classes' slips as one PDF, each class its own document (its own page numbers), joined in order;
    the PDF and its pages. A class whose HTML is in the cache is taken from it (pdf.PartCache); the others are
    laid out, with `processes` > 1 by that many forked processes, a class at a time (pdf.in_processes)."""
    cache = cache or pdf.PartCache(None)
    batches = [b for b in batches if b.slips]
    keys = [pdf.PartCache.key(batch_html(snap, b)) for b in batches]
    found = [cache.get(key) for key in keys]
    missing = [i for i, hit in enumerate(found) if hit is None]

    def task(index: int) -> pdf.PartTask:
        def make() -> tuple[bytes, int]:
            document = batch_document(snap, batches[index])
            data, pages = pdf.to_pdf(document), len(document.pages)
            cache.put(keys[index], data, pages)
            return data, pages
        return make

    made = pdf.in_processes([task(i) for i in missing], processes) if missing else []
    for index, part in zip(missing, made, strict=True):
        found[index] = part
    parts = [part for part in found if part is not None]
    return pdf.join([data for data, _ in parts]), sum(pages for _, pages in parts)
