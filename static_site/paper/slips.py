"""Weekly slips (выписки из дневника): for each student, what the family's week page and child page show.

The content comes from static_site.pages.family_content called with the one student, over a WeekSnapshot:
the same days, lessons, marks, absences, remarks and forecasts as the site, and nothing of anyone else.
Paper adds the week's absences counted, next week's tests, the signature lines and, where allowed, a QR
code of the family's link (static_site.paper.audience).

SPLIT (one class on several cores, `flask slips --class` on a machine with 2 cores or more): a class's slips are
one WeasyPrint layout, one core. When fewer classes than processes are to be laid out, each is laid out in two
halves at once in forked processes and the halves' PDFs joined (pdf.join). The halves are the whole document's
pages when the second half's first slip starts a page in the whole document too: the first half's last slip
ends too low for it to fit (checked on the laid-out boxes; a hair's breadth counts as fitting) and no slip of the
second half takes the last resort (level 3 depends on the side of the sheet) unless its first page is a front.
The footers «стр. N из M» cannot count pages across the halves, so each half states them: its first page number
by `counter-increment` of its first page and M as text, first guessed as a page per slip (a usual week); when
the guess was wrong the halves are laid out once more with the counts found (the footers change no layout).
When the halves do not join, the class is laid out whole. The first slip of the second half carries the dashed
line of a slip that follows another (`.continued`), so every page looks as in the whole document
(tests/test_paper_slips.py compares them page by page).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from multiprocessing.pool import AsyncResult
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
SPLIT_MIN = 4  # a class of fewer than twice this many slips is laid out whole (two processes cost more)
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


def batch_html(snap: WeekSnapshot, batch: SlipBatch, levels: dict[int, int] | None = None,
               part: Part | None = None) -> str:
    """The batch as one printable HTML page (A4, each slip whole, two to a sheet when they fit); with `part`,
    only the slips of that part, their pages numbered as in the whole batch (SPLIT)."""
    common = common_context(snap, "", clock.now())
    label = week_label(batch.week)
    levels = levels if levels is not None else {s.number: estimate_level(s) for s in batch.slips}
    shown = batch.slips[part.start:part.stop] if part else batch.slips
    context = None if part is None else {
        "first_page": part.first_page, "pages": part.pages,
        "before": batch.slips[part.start - 1] if part.start else None}
    return render_html("slips.html", school=snap.conf.school_name, title=batch.title, week=label,
                       slips=shown, levels=levels, legend=common["legend"], rule=common["rule"], part=context,
                       footer=f"{batch.title} · неделя {label} · выписки из дневника · стр. ")


def batches_html(snap: WeekSnapshot, title: str, batches: list[SlipBatch]) -> str:
    """Several classes' slips as one printable HTML page, numbered through (a whole school's week)."""
    merged = SlipBatch(title, batches[0].week, [s for b in batches for s in b.slips])
    for number, slip in enumerate(merged.slips, start=1):
        slip.number = number
    return batch_html(snap, merged)


def batch_document(snap: WeekSnapshot, batch: SlipBatch, part: Part | None = None) -> Any:
    """The batch (or one part of it) laid out by WeasyPrint with no slip split across pages."""
    shown = batch.slips[part.start:part.stop] if part else batch.slips
    levels = {s.number: estimate_level(s) for s in shown}
    return kept_whole(lambda current: batch_html(snap, batch, current, part), levels, LEVELS - 1)


@dataclass(frozen=True)
class Part:
    """Slips start…stop of a batch laid out as their own document, as pages first_page + 1… of `pages` in all."""

    start: int
    stop: int
    first_page: int
    pages: int


@dataclass
class PartLayout:
    """What laying out a part found: its PDF (None when its page count was not the one guessed), its pages,
    whether a slip takes the last resort (level 3, which depends on the side of the sheet), where its last slip
    ends and how tall its first one is (CSS px: see `_joins`)."""

    data: bytes | None
    pages: int
    last_resort: bool
    last_bottom: float
    page_bottom: float
    first_height: float


def _part_layout(snap: WeekSnapshot, batch: SlipBatch, part: Part, pages: int) -> PartLayout:
    """Lay out a part; its PDF only when it has the `pages` guessed (its footers are then right)."""
    document = batch_document(snap, batch, part)
    boxes = [pdf.slip_boxes(page) for page in document.pages]
    page_box = document.pages[-1]._page_box
    if not boxes[0] or not boxes[-1]:  # a page without a slip where a slip was expected: never joined
        return PartLayout(None, len(document.pages), True, 0.0, 0.0, 0.0)
    first, last = boxes[0][0], boxes[-1][-1]
    return PartLayout(
        data=pdf.to_pdf(document) if len(document.pages) == pages else None, pages=len(document.pages),
        last_resort=any("level-3" in box.element.get("class", "") for page in boxes for box in page),
        last_bottom=last.position_y + last.margin_height(),
        page_bottom=page_box.content_box_y() + page_box.height,
        first_height=first.margin_height())


GAP = 2 * 96 / 25.4  # the margin above a slip that follows another on its page (2 mm in CSS px, paper.css)


def _joins(front: PartLayout, back: PartLayout) -> bool:
    """Whether the two parts joined are the whole document's pages: the back's first slip would not have fitted
    on the front's last page (so the whole document starts a page with it too; a hair's breadth counts as
    fitting), and no slip of the back depends on the side of the sheet its page falls on."""
    if (back.last_resort and front.pages % 2) or not front.page_bottom or not back.page_bottom:
        return False
    return front.last_bottom + GAP + back.first_height > front.page_bottom + 1.0


def paper_cache() -> pdf.PartCache:
    """The hub's cache of class documents already laid out (var/paper-cache)."""
    return pdf.PartCache(Path(current_app.config["VAR_DIR"]) / "paper-cache")


def batches_pdf(snap: WeekSnapshot, batches: Iterable[SlipBatch], processes: int = 1,
                cache: pdf.PartCache | None = None) -> tuple[bytes, int]:
    """Several classes' slips as one PDF, each class its own document (its own page numbers), joined in order;
    the PDF and its pages. A class whose HTML is in the cache is taken from it (pdf.PartCache); the others are
    laid out, with `processes` > 1 by that many forked processes, a class at a time, or, when fewer classes than
    processes are left, each class in halves (SPLIT).

    SPEED: `batches` may be a generator making the classes' slips one by one: as soon as `processes` classes are
    to be laid out, the processes are forked and lay them out while the next classes' slips are made (each
    class sent to them pickled), and the PDFs are joined as they come back, in order, while the last ones are
    still being laid out. With fewer classes to lay out than processes nothing is forked until the end (SPLIT)."""
    cache = cache or pdf.PartCache(None)
    found: list[tuple[bytes, int] | AsyncResult[tuple[bytes, int]] | None] = []
    missing: list[tuple[int, SlipBatch, str]] = []  # classes to lay out, not yet sent to the processes
    with contextlib.ExitStack() as stack:
        pool: Any = None
        for batch in batches:
            if not batch.slips:
                continue
            key = pdf.PartCache.key(batch_html(snap, batch))
            found.append(cache.get(key))
            if found[-1] is None:
                missing.append((len(found) - 1, batch, key))
            if pool is None and processes > 1 and len(missing) >= processes:
                _made_with[:] = [(snap, cache)]  # inherited by the processes forked now
                pool = stack.enter_context(pdf.forked_pool(processes))
            if pool is not None:
                for index, waiting, waiting_key in missing:
                    found[index] = pool.apply_async(_class_pdf, (waiting, waiting_key))
                missing.clear()
        if 0 < len(missing) < processes:
            for index, batch, key in list(missing):
                part = split_pdf(snap, batch, processes)
                if part is not None:
                    cache.put(key, *part)
                    found[index] = part
                    missing.remove((index, batch, key))
        _made_with[:] = [(snap, cache)]
        try:
            made = pdf.in_processes([partial(_class_pdf, batch, key) for _, batch, key in missing], processes)
        finally:
            _made_with.clear()
        for (index, _, _), part in zip(missing, made, strict=True):
            found[index] = part
        pages = [0]

        def in_order() -> Iterator[bytes]:
            for item in found:
                part = item.get() if isinstance(item, AsyncResult) else item
                assert part is not None
                pages[0] += part[1]
                yield part[0]

        data = pdf.join(in_order())
    return data, pages[0]


_made_with: list[tuple[WeekSnapshot, pdf.PartCache]] = []  # what the forked processes lay classes out with


def _class_pdf(batch: SlipBatch, key: str) -> tuple[bytes, int]:
    """Lay out one class's slips and write them as PDF (in a forked process or this one), kept in the cache."""
    snap, cache = _made_with[0]
    document = batch_document(snap, batch)
    data, pages = pdf.to_pdf(document), len(document.pages)
    cache.put(key, data, pages)
    return data, pages


def split_pdf(snap: WeekSnapshot, batch: SlipBatch, processes: int) -> tuple[bytes, int] | None:
    """One class's slips laid out in two halves at once and joined (SPLIT), or None when the halves would not
    be the whole document's pages (the caller then lays it out whole)."""
    count = len(batch.slips)
    if processes < 2 or count < 2 * SPLIT_MIN:
        return None
    half = (count + 1) // 2
    guess = (Part(0, half, 0, count), Part(half, count, half, count))  # a page per slip, the usual week
    front, back = _halves(snap, batch, guess)
    if not _joins(front, back):
        return None
    if front.data is None or back.data is None or front.pages + back.pages != count:  # guessed wrong: again,
        total = front.pages + back.pages  # now with the page numbers known (the footers change no layout)
        front, back = _halves(snap, batch, (Part(0, half, 0, total), Part(half, count, front.pages, total)))
        if front.data is None or back.data is None or not _joins(front, back):
            return None
    return pdf.join([front.data, back.data]), front.pages + back.pages


def _halves(snap: WeekSnapshot, batch: SlipBatch, parts: tuple[Part, Part]) -> tuple[PartLayout, PartLayout]:
    """Both halves laid out at once, each in its own process; each expected to fill the pages its numbers say."""
    front, back = parts
    tasks: list[Callable[[], PartLayout]] = [lambda: _part_layout(snap, batch, front, back.first_page),
                                             lambda: _part_layout(snap, batch, back, back.pages - back.first_page)]
    made = pdf.in_processes(tasks, 2)
    return made[0], made[1]
