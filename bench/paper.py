"""Paper slips as PDF on the demo school: one class's 30 slips (target ≤ 2 s) and a whole school's week.

The demo school (22 classes, 549 students, its three weeks of journal sent through the real sync path)
is written to a scratch SQLite database; the week printed is 16–21 ноября 2026. Timed from reading the
journal to the PDF's bytes, as `flask slips` does it. The baseline, measured in the same run: WeasyPrint
called the plain way (`HTML(string=…).write_pdf()`, its own font configuration per document) on the very
HTML the slips were laid out from, so the ratio shows what our side adds or saves around WeasyPrint.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app import create_app
from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import SchoolClass, Student
from app.cli.demo import push_journal
from app.demo import DEFAULT_SEED
from app.demo.school import build_school, write_school
from bench.timing import RUN, Samples, line, measure, migrate, repeat
from static_site.paper import pdf, slips
from static_site.paper.audience import enrolled_during
from static_site.paper.lookup import find_year, school_classes
from static_site.paper.snapshots import WeekSnapshot
from static_site.parallel import cores
from sync import clock

WEEK = dt.date(2026, 11, 16)
SLIPS = 30


def thirty_slips(into: Samples) -> tuple[int, int, list[str]]:
    """30 slips (the largest class, topped up from the next) laid out and written as PDF the way `flask slips
    --class` does (on this machine's cores, in halves when there are two or more), timed into `into`;
    the slips, the PDF's size and the HTML laid out (for the baseline)."""
    classes = sorted(db.session.scalars(select(SchoolClass)), key=lambda c: (c.grade, c.letter))
    students: list[Student] = []
    for school_class in sorted(classes, key=lambda c: -len(_students(c))):
        students += _students(school_class)
        if len(students) >= SLIPS:
            break
    db.session.expire_all()  # each pass reads the journal afresh, as a command does
    with measure(into):
        snap = WeekSnapshot(settings(), WEEK)
        batch = slips.SlipBatch("бенчмарк", WEEK, slips.make_slips(snap, students[:SLIPS], {}))
        data, _pages = slips.batches_pdf(snap, [batch], cores())  # as `flask slips --class` (halves: SPLIT)
    return len(batch.slips), len(data), [_final_html(snap, batch)]


def _final_html(snap: WeekSnapshot, batch: slips.SlipBatch) -> str:
    """The batch's HTML at the type sizes its slips were finally laid out in."""
    return slips.batch_html(snap, batch, {s.number: slips.estimate_level(s) for s in batch.slips})


def plain_weasyprint(htmls: list[str], into: Samples) -> None:
    """The baseline: each HTML laid out and written by WeasyPrint the plain way."""
    import weasyprint

    with measure(into):
        documents = [weasyprint.HTML(string=html, base_url=str(pdf.TEMPLATES)).render() for html in htmls]
        pages = [page for document in documents for page in document.pages]
        documents[0].copy(pages).write_pdf()


def _students(school_class: SchoolClass) -> list[Student]:
    found = db.session.scalars(select(Student).where(Student.class_id == school_class.id))
    return sorted((s for s in found if enrolled_during(s, WEEK, WEEK + dt.timedelta(days=5))),
                  key=lambda s: (s.last_name, s.first_name))


def school_week(everyone: bool, into: Samples, cache: Path | None = None) -> tuple[int, int, list[str]]:
    """The whole school's week as `flask slips --school` makes it (the classes laid out on every core), timed
    into `into`: slips, pages, HTMLs. With `cache`, the classes already in that folder are reused."""
    db.session.expire_all()
    with measure(into):
        conf, now = settings(), clock.now()
        snap = WeekSnapshot(conf, WEEK)
        classes = school_classes(find_year(conf.year_name))
        snap.classes({c.id for c in classes})
        batches: list[slips.SlipBatch] = []

        def made() -> Iterator[slips.SlipBatch]:  # one by one, as `flask slips --school` hands them over
            for school_class in classes:
                batch = slips.class_batch(snap, school_class, everyone, False, now)
                if batch.slips:
                    batches.append(batch)
                    yield batch

        _data, pages = slips.batches_pdf(snap, made(), cores(), pdf.PartCache(cache))
    htmls = [_final_html(snap, batch) for batch in batches]
    return sum(len(b.slips) for b in batches), pages, htmls


def run() -> None:
    """Print the paper slips' figures."""
    print(f"Paper slips as PDF (WeasyPrint), demo school, week 16–21.11.2026; median of {RUN.repeats}, [range], "
          "cpu = CPU seconds; baseline: plain WeasyPrint on the same HTML")
    missing = pdf.pdf_missing()
    if missing:
        print(f"  skipped: {missing}")
        return
    with tempfile.TemporaryDirectory(prefix="tetrad-bench-paper-") as folder:
        var = Path(folder)
        os.environ["DATABASE_URL"] = f"sqlite:///{var / 'hub.db'}"
        app = create_app({"SECRET_KEYS": ["bench-key"], "VAR_DIR": var})
        with app.app_context():
            migrate()
            year = ensure_calendar(settings())
            school = build_school(settings(), DEFAULT_SEED, year.id)
            write_school(school)
            db.session.commit()
            push_journal(school)
            ours, plain, whole_school, school_plain, again = Samples(), Samples(), Samples(), Samples(), Samples()
            found: dict[str, Any] = {}

            def thirty(_index: int) -> None:
                found["thirty"] = thirty_slips(ours)

            def whole(_index: int) -> None:
                found["school"] = school_week(False, whole_school)

            def reprint(_index: int) -> None:  # nothing changed since the last print: every class from the cache
                school_week(False, Samples(), var / "paper-cache")
                school_week(False, again, var / "paper-cache")

            steps = [thirty, lambda _i: plain_weasyprint(found["thirty"][2], plain)]
            if not RUN.quick:  # the whole school takes a minute or more: the full run only
                steps += [whole, lambda _i: plain_weasyprint(found["school"][2], school_plain), reprint]
            repeat(RUN.repeats, *steps)
            count, size, _ = found["thirty"]
            halves = f", in halves on {cores()} processes" if cores() > 1 else ""  # when they join (slips SPLIT)
            print(line(f"one class's {count} slips as one PDF{halves} ({size / 1024:.0f} KB)", ours, plain, "≤ 2 s"))
            if RUN.quick:
                print("  whole school: left out with --quick")
            else:
                count, pages, _ = found["school"]
                print(line(f"whole school, families on paper: {count} slips, {pages} pages, {cores()} processes, "
                           "nothing cached", whole_school, school_plain, "≤ 5 s"))
                print(line("the same reprinted, nothing changed (every class from the cache)", again, school_plain,
                           "≤ 5 s"))
            db.engine.dispose()
        os.environ.pop("DATABASE_URL", None)


if __name__ == "__main__":
    run()
