"""A full rebuild on several cores: the families split by class into parts built by forked processes.

Each part is a plain `build_families` in a child process with its own database connections (the pool
inherited through fork is dropped unclosed, so the parent's connections stay intact). A child publishes
its page sets itself (each publication is atomic on its own) and hands back its report; the parent, which
holds the build lock for all of them, writes the reports' database changes in one transaction. Used by
`site build --all` and the worker's daily rebuild; anything running inside a threaded server (the staff
UI's rebuild) builds in its own process instead, as fork and threads do not mix.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
from collections.abc import Callable

from flask import Flask, current_app

from app.base import settings
from app.base.extensions import db
from static_site.access import family_access
from static_site.build import BuildReport, build_families
from sync import clock

_app: list[Flask] = []


def _start(app: Flask) -> None:
    """In a fresh child: forget the parent's pooled connections without closing them."""
    _app[:] = [app]
    with app.app_context():
        db.engine.dispose(close=False)


def _build(task: tuple[list[str], dt.datetime | None]) -> BuildReport:
    """Build one part of the families in a child process."""
    family_ids, now = task
    with _app[0].app_context():
        try:
            return build_families(settings(), family_ids, now)
        finally:
            db.session.remove()


def parts_by_class(now: dt.datetime | None, count: int) -> list[list[str]]:
    """All families in class order, cut into `count` parts, so that a class is mostly read by one process."""
    conf = settings()
    moment = now or clock.now()
    accesses = family_access(None, conf.today(moment), moment).values()
    ordered = sorted(accesses, key=lambda a: (min((s.class_id for s in a.children), default=""), a.family.id))
    ids = [a.family.id for a in ordered]
    size = max(1, -(-len(ids) // count))
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def build_in_parallel(processes: int, now: dt.datetime | None = None,
                      progress: Callable[[int], None] | None = None) -> BuildReport:
    """Build every family with `processes` forked workers; the caller holds the lock, saves and commits."""
    started = time.perf_counter()
    parts = parts_by_class(now, processes)  # one part each: every part re-reads access, reference data, classes
    db.session.rollback()  # no transaction of the parent's is open across the fork
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    total = BuildReport()
    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=_start, initargs=(app,)) as pool:
        for part, report in zip(parts, pool.imap(_build, [(part, now) for part in parts]), strict=True):
            _merge(total, report)
            if progress:
                progress(len(part))
    total.seconds = time.perf_counter() - started
    return total


def _merge(total: BuildReport, report: BuildReport) -> None:
    for name in ("families", "links", "pages", "removed"):
        setattr(total, name, getattr(total, name) + getattr(report, name))
    total.digests.update(report.digests)
    total.changed |= report.changed


def cores() -> int:
    """How many processes a full rebuild may use: every core but never more than four."""
    return max(1, min(4, multiprocessing.cpu_count()))

