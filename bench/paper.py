"""Paper slips as PDF on the demo school: one class's 30 slips (target ≤ 2 s) and a whole school's week.

The demo school (22 classes, 549 students, its three weeks of journal sent through the real sync path)
is written to a scratch SQLite database; the week printed is 16–21 ноября 2026. Timed from reading the
journal to the PDF's bytes, as `flask slips` does it.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import SchoolClass, Student
from app.cli.demo import push_journal
from app.demo import DEFAULT_SEED
from app.demo.school import build_school, write_school
from static_site.paper import pdf, slips
from static_site.paper.audience import enrolled_during
from static_site.paper.lookup import find_year, school_classes
from static_site.paper.snapshots import WeekSnapshot
from sync import clock

WEEK = dt.date(2026, 11, 16)
SLIPS = 30


def thirty_slips() -> tuple[float, int, int]:
    """Seconds for 30 slips (the largest class, topped up from the next) laid out and written as PDF."""
    classes = sorted(db.session.scalars(select(SchoolClass)), key=lambda c: (c.grade, c.letter))
    students: list[Student] = []
    for school_class in sorted(classes, key=lambda c: -len(_students(c))):
        students += _students(school_class)
        if len(students) >= SLIPS:
            break
    started = time.perf_counter()
    snap = WeekSnapshot(settings(), WEEK)
    batch = slips.SlipBatch("бенчмарк", WEEK, slips.make_slips(snap, students[:SLIPS], {}))
    data = pdf.to_pdf(slips.batch_document(snap, batch))
    seconds = time.perf_counter() - started
    return seconds, len(batch.slips), len(data)


def _students(school_class: SchoolClass) -> list[Student]:
    found = db.session.scalars(select(Student).where(Student.class_id == school_class.id))
    return sorted((s for s in found if enrolled_during(s, WEEK, WEEK + dt.timedelta(days=5))),
                  key=lambda s: (s.last_name, s.first_name))


def school_week(everyone: bool) -> tuple[float, int, int]:
    """Seconds for the whole school's week as `flask slips --school` makes it: slips, pages."""
    started = time.perf_counter()
    conf, now = settings(), clock.now()
    snap = WeekSnapshot(conf, WEEK)
    classes = school_classes(find_year(conf.year_name))
    snap.classes({c.id for c in classes})
    documents, count = [], 0
    for school_class in classes:
        batch = slips.class_batch(snap, school_class, everyone, False, now)
        if batch.slips:
            documents.append(slips.batch_document(snap, batch))
            count += len(batch.slips)
    pdf.combine(documents)
    return time.perf_counter() - started, count, sum(len(d.pages) for d in documents)


def run() -> None:
    """Print the paper slips' figures."""
    print("Paper slips as PDF (WeasyPrint), demo school, week 16–21.11.2026")
    missing = pdf.pdf_missing()
    if missing:
        print(f"  skipped: {missing}")
        return
    with tempfile.TemporaryDirectory(prefix="tetrad-bench-paper-") as folder:
        var = Path(folder)
        os.environ["DATABASE_URL"] = f"sqlite:///{var / 'hub.db'}"
        app = create_app({"SECRET_KEYS": ["bench-key"], "VAR_DIR": var})
        with app.app_context():
            upgrade()
            year = ensure_calendar(settings())
            school = build_school(settings(), DEFAULT_SEED, year.id)
            write_school(school)
            db.session.commit()
            push_journal(school)
            seconds, count, size = thirty_slips()
            print(f"  one class's {count} slips: {seconds:.2f} s, {size / 1024:.0f} KB   (target ≤ 2 s)")
            seconds, count, pages = school_week(everyone=False)
            print(f"  whole school, families on paper: {count} slips, {pages} pages in {seconds:.1f} s")
            db.engine.dispose()
        os.environ.pop("DATABASE_URL", None)


if __name__ == "__main__":
    run()
