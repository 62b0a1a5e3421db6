"""The family site build against a raw Jinja render plus atomic write of the same page contexts.

The demo school (its journal pushed through the real sync path, a link for every consenting guardian) on the
school clock fixed at 22.11.2026 12:00, so the pages are the same on any day. Prints, each beside its baseline
(the same page contexts rendered straight with Jinja and written atomically, .gz twin included, as the site
serves them) measured in the same run, with the ratio of rates: a full rebuild in one process and in
`cores()` processes, the incremental build after one class's evening batch, the time from that batch to its
updated pages, the full rebuild of 10,000 families extrapolated (not built: the demo school's CPU seconds
per family in one process times 10,000, divided by the cores, and the parallel run's wall-clock seconds per
family times 10,000); then the size budget figures.

Nothing is deleted between the timed runs: neither the page sets a rebuild supersedes (a hub's garbage
collection deletes them 10–40 s later) nor the baseline's pages; all go when the benchmark ends. Keeping them
costs a build nothing measurable, but this machine's ext4 creates files about twice as slowly for a while
after many were deleted (most likely its allocator passing over inodes freed in the last 30 s), so a deletion
just before a timed run, of either kind, charges that run for it: when the baseline deleted its pages after
each run, the one-process rebuild that followed it measured 0.50–0.57 of the baseline; when every build's
superseded sets were deleted too, 0.86–1.43; with no deletion in between, 0.72–0.82 (docs/benchmarks.md,
2 December 2026, fourth round).
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app import create_app
from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import SchoolClass, Student, Teacher, family_student
from app.demo import DEFAULT_SEED
from app.demo.journal import demo_devices
from app.demo.school import build_school, write_school
from app.syncing.devices import register
from app.syncing.ingest import apply_batch, apply_in_batches
from bench.timing import RUN, Samples, line, measure, migrate, repeat
from static_site import render
from static_site.access import family_access
from static_site.build import build_all, build_dirty, site_lock
from static_site.data import Snapshot
from static_site.links import issue_missing
from static_site.pages import common_context, family_content, link_pages
from static_site.parallel import cores
from sync import clock, hlc
from sync.schema import parse_batch

KEYS = ["bench-key"]
ROOT = Path(__file__).resolve().parent.parent


def prepare(folder: Path) -> Any:
    """A migrated SQLite hub with the demo school, its journal, links, and a site folder of its own."""
    config = folder / "config.yaml"
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config.write_text(text.replace("output_dir: var/site", f"output_dir: {folder / 'site'}"), encoding="utf-8")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'hub.db'}"
    app = create_app({"SECRET_KEYS": KEYS, "VAR_DIR": folder, "TETRAD_CONFIG": config})
    with app.app_context():
        migrate()
        year = ensure_calendar(settings())
        school = build_school(settings(), DEFAULT_SEED, year.id)
        write_school(school)
        db.session.commit()
        for machine in demo_devices(school, settings()):
            device, _token = register(machine.name, machine.class_ids)
            db.session.commit()
            apply_in_batches(device.id, parse_batch({"protocol": 1, "device": device.id, "ops": machine.ops},
                                                    max_ops=10**9, max_pull=1))
        now = clock.now()
        issue_missing(settings().today(now), now)
        db.session.commit()
    return app


def class_batch(app: Any, round_: int) -> tuple[str, dict[str, Any], set[str]]:
    """One class's evening batch: a remark for every student of 7А, as its classroom machine sends it, and
    the families it concerns (a new batch each round: new op and record ids)."""
    with app.app_context():
        cls = db.session.scalars(select(SchoolClass).where(SchoolClass.grade == 7, SchoolClass.letter == "А")).one()
        teacher = db.session.get(Teacher, cls.homeroom_teacher_id)
        students = db.session.scalars(select(Student.id).where(Student.class_id == cls.id)).all()
        families = set(db.session.scalars(select(family_student.c.family_id).where(
            family_student.c.student_id.in_(students))))
        device, _token = register(f"Бенчмарк 7А, проход {round_ + 1}", [cls.id])
        db.session.commit()
        day = dt.date(2026, 11, 20)
        stamp = hlc.make(int(dt.datetime(2026, 11, 20, 18, round_, tzinfo=settings().timezone).timestamp() * 1000))
        ops = [{"op": f"bench-{round_}-{i}", "seq": i + 1, "hlc": stamp, "author": teacher.id if teacher else "",
                "entity": "remark", "id": f"bench-remark-{round_}-{i}", "action": "upsert", "base": None,
                "fields": {"student": s, "date": day.isoformat(), "kind": "recommendation", "subject": None,
                           "text": "Повторить правила к контрольной"}} for i, s in enumerate(students)]
        return device.id, {"protocol": 1, "device": device.id, "ops": ops}, families


def contexts(app: Any, family_ids: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """The page contexts of every live link (of these families), made the way a build makes them."""
    with app.app_context():
        conf = settings()
        now = clock.now()
        today = conf.today(now)
        snap = Snapshot(conf, today)
        common = common_context(snap, render.css_name(), now)
        pages: dict[str, dict[str, Any]] = {}
        for access in family_access(family_ids, today, now).values():
            if not access.live:
                continue
            content = family_content(snap, access.children)
            guardians = {g.id: g for g in access.family.guardians}
            for link in access.live:
                pages[link.token] = link_pages(content, common, guardians[link.guardian_id], link.token, {},
                                               conf.timezone)
        return pages


def baseline(pages: dict[str, dict[str, Any]], folder: Path) -> int:
    """Raw Jinja render and atomic write (html and .gz) of the same contexts; the pages written."""
    site_app, _ = render.site_app()
    env = site_app.jinja_env
    count = 0
    with site_app.app_context():
        for token, set_ in pages.items():
            out = folder / token
            out.mkdir(parents=True)
            for name, (template, context) in set_.items():
                html = env.get_template(template).render(context).encode()
                for path, data in ((out / f"{name}.html", html), (out / f"{name}.html.gz", gzip.compress(html, 6))):
                    tmp = path.with_name(f".{path.name}.tmp")
                    tmp.write_bytes(data)
                    os.replace(tmp, path)
                count += 1
    return count


def budget(site: Path) -> tuple[int, int]:
    """The largest gzipped week page of a two-child family and the stylesheet's size, in bytes."""
    largest = 0
    for folder in (site / "d").iterdir():
        index = folder / "index.html"
        if len(re.findall(r'<section class="child">', index.read_text(encoding="utf-8"))) == 2:
            largest = max(largest, (folder / "index.html.gz").stat().st_size)
    css = next(site.glob("site-*.css")).stat().st_size
    return largest, css


def run() -> None:
    """Print the site build figures."""
    folder = Path(tempfile.mkdtemp(prefix="tetrad-bench-site-"))
    try:
        print(f"Family site build, demo school (SQLite), school clock {clock.now():%d.%m.%Y %H:%M} UTC; "
              f"median of {RUN.repeats}, [range], cpu = CPU seconds")
        app = prepare(folder)
        with app.app_context():
            conf = settings()
            with site_lock(conf.site_output_dir):
                build_all(conf)  # the first publication of every link: the timed rebuilds replace page sets
        everything = contexts(app)
        single, parallel, base = Samples(), Samples(), Samples()
        reports: dict[str, Any] = {}
        counts: dict[str, int] = {}

        def raw(index: int) -> None:
            with measure(base):
                counts["base"] = baseline(everything, folder / f"baseline-{index}")  # kept: see the docstring

        def full(processes: int, into: Samples) -> Any:
            def step(_index: int) -> None:
                with app.app_context():
                    conf = settings()
                    with site_lock(conf.site_output_dir), measure(into):
                        reports[processes] = build_all(conf, processes=processes)
            return step

        repeat(RUN.repeats, raw, full(1, single), full(cores(), parallel))
        one, many = reports[1], reports[cores()]
        incremental, to_pages, inc_base = Samples(), Samples(), Samples()
        for round_ in range(RUN.repeats):
            device, body, families = class_batch(app, round_)
            with app.app_context():
                conf = settings()
                with measure(to_pages):
                    apply_batch(device, parse_batch(body, max_ops=10**6, max_pull=1))
                    with site_lock(conf.site_output_dir), measure(incremental):
                        reports["incremental"] = build_dirty(conf)
            some = contexts(app, families)
            with measure(inc_base):
                counts["inc_base"] = baseline(some, folder / f"inc-baseline-{round_}")
        inc = reports["incremental"]
        print(f"  {one.families} families, {one.links} links, {one.pages} pages; baseline: the same "
              f"{counts['base']} page contexts rendered with Jinja and written atomically with the .gz twin")
        print(line(f"full rebuild, 1 process, {one.pages / single.wall:,.0f} pages/s", single, base, "≥ 0.8",
                   one.pages, counts["base"]))
        print(line(f"full rebuild, {cores()} processes, {many.pages / parallel.wall:,.0f} pages/s", parallel, base,
                   "≥ 0.8", many.pages, counts["base"]))
        print(line(f"incremental after one class's batch, {inc.families} families, {inc.pages} pages",
                   incremental, inc_base, "≥ 0.8", inc.pages, counts["inc_base"]))
        print(line(f"a class's batch ({len(body['ops'])} ops) to its families' updated pages", to_pages, inc_base,
                   "≤ 0.3 s", inc.pages, counts["inc_base"]))
        scale = 10_000 / one.families  # extrapolated, not built: the demo school's cost per family, times 10,000
        print(f"  10,000 families fully, extrapolated (not built) from the demo school's {one.families} families: "
              f"{scale * single.cpu:.0f} CPU s in 1 process, so {scale * single.cpu / cores():.0f} s on {cores()} "
              f"free cores; {scale * parallel.wall:.0f} s wall-clock at this run's load ({cores()} processes); "
              f"baseline {scale * base.cpu:.0f} CPU s   target ≤ 30 s")
        week, css = budget(folder / "site")
        print(f"  largest two-child week page gzipped: {week / 1024:.1f} KB (≤ 14 KB); "
              f"CSS {css / 1024:.1f} KB (≤ 8 KB)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
