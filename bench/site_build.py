"""The family site build against a raw Jinja render plus atomic write of the same page contexts.

Prints, for the demo school (its journal pushed through the real sync path, a link for every consenting
guardian): pages/s of a full rebuild and of an incremental build after one class's batch, the time from
that batch to its updated pages, and the baseline (the same contexts rendered straight with Jinja and
written atomically, .gz twin included, as the site serves) with the ratio; then the size budget figures.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import SchoolClass
from app.demo import DEFAULT_SEED
from app.demo.journal import demo_devices
from app.demo.school import build_school, write_school
from app.syncing.devices import register
from app.syncing.ingest import apply_batch, apply_in_batches
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
        upgrade()
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


def class_batch(app: Any) -> tuple[str, dict[str, Any]]:
    """One class's evening batch: a remark for every student of 7А, as its classroom machine sends it."""
    with app.app_context():
        cls = db.session.scalars(select(SchoolClass).where(SchoolClass.grade == 7, SchoolClass.letter == "А")).one()
        from app.base.models import Student, Teacher
        teacher = db.session.get(Teacher, cls.homeroom_teacher_id)
        students = db.session.scalars(select(Student.id).where(Student.class_id == cls.id)).all()
        device, _token = register("Бенчмарк 7А", [cls.id])
        db.session.commit()
        day = dt.date(2026, 11, 20)
        stamp = hlc.make(int(dt.datetime(2026, 11, 20, 18, tzinfo=settings().timezone).timestamp() * 1000))
        ops = [{"op": f"bench-{i}", "seq": i + 1, "hlc": stamp, "author": teacher.id if teacher else "",
                "entity": "remark", "id": f"bench-remark-{i}", "action": "upsert", "base": None,
                "fields": {"student": s, "date": day.isoformat(), "kind": "recommendation", "subject": None,
                           "text": "Повторить правила к контрольной"}} for i, s in enumerate(students)]
        return device.id, {"protocol": 1, "device": device.id, "ops": ops}


def contexts(app: Any) -> dict[str, dict[str, Any]]:
    """The page contexts of every live link, made the way a build makes them."""
    with app.app_context():
        conf = settings()
        now = clock.now()
        today = conf.today(now)
        snap = Snapshot(conf, today)
        common = common_context(snap, render.css_name(), now)
        pages: dict[str, dict[str, Any]] = {}
        for access in family_access(None, today, now).values():
            if not access.live:
                continue
            content = family_content(snap, access.children)
            guardians = {g.id: g for g in access.family.guardians}
            for link in access.live:
                pages[link.token] = link_pages(content, common, guardians[link.guardian_id], link.token, {},
                                               conf.timezone)
        return pages


def baseline(pages: dict[str, dict[str, Any]], folder: Path) -> tuple[int, float]:
    """Raw Jinja render and atomic write (html and .gz) of the same contexts; pages and seconds."""
    site_app, _ = render.site_app()
    env = site_app.jinja_env
    count, started = 0, time.perf_counter()
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
    return count, time.perf_counter() - started


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
        print("Family site build, demo school (SQLite)")
        app = prepare(folder)
        with app.app_context():
            conf = settings()
            with site_lock(conf.site_output_dir):
                build_all(conf)  # the first publication of every link: the timed rebuilds replace page sets
                single = build_all(conf)
                full = build_all(conf, processes=cores())
        device, body = class_batch(app)
        with app.app_context():
            conf = settings()
            started = time.perf_counter()
            apply_batch(device, parse_batch(body, max_ops=10**6, max_pull=1))
            with site_lock(conf.site_output_dir):
                incremental = build_dirty(conf)
            to_pages = time.perf_counter() - started
        pages = contexts(app)
        count, seconds = baseline(pages, folder / "baseline")
        full_rate, base_rate = full.pages / full.seconds, count / seconds
        print(f"  full rebuild, 1 process: {single.families} families, {single.links} links, {single.pages} pages in "
              f"{single.seconds:.2f} s: {single.pages / single.seconds:,.0f} pages/s")
        print(f"  full rebuild, {cores()} processes: {full.pages} pages in {full.seconds:.2f} s: {full_rate:,.0f} "
              f"pages/s, {full.families / full.seconds:,.0f} families/s")
        print(f"  incremental after one class's batch: {incremental.families} families, {incremental.pages} pages in "
              f"{incremental.seconds:.2f} s: {incremental.pages / incremental.seconds:,.0f} pages/s")
        print(f"  a class's batch ({len(body['ops'])} ops) to updated pages: {to_pages:.2f} s   (target ≤ 1 s)")
        print(f"  baseline raw Jinja render + atomic write of the same {count} page contexts: {base_rate:,.0f} pages/s")
        print(f"  ratio full rebuild / baseline: {full_rate / base_rate:.2f} with {cores()} processes, "
              f"{single.pages / single.seconds / base_rate:.2f} with one   (target ≥ 0.8)")
        print(f"  10,000 families fully, at this rate: {10_000 / (full.families / full.seconds):.0f} s   "
              f"(target ≤ 60 s)")
        week, css = budget(folder / "site")
        print(f"  largest two-child week page gzipped: {week / 1024:.1f} KB (≤ 14 KB); "
              f"CSS {css / 1024:.1f} KB (≤ 8 KB)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
