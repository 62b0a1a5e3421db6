"""A full rebuild on several cores: the families split by class into parts built by forked processes.

The parts are cut in class order (a class's journal is then mostly read by one process) where the families'
estimated costs add up to equal shares, not to equal numbers of families: the families with no live link
(nothing shown, or no consent) cost next to nothing and sort first, so equal counts gave the first process
about 60 % of the pages of the second (745 against 1,154 of the demo school's 1,899), and the rebuild's
wall-clock time was the second's. The templates are compiled before the fork, once for all the processes.

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
from static_site import render
from static_site.access import FamilyAccess, family_access
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


def cost(access: FamilyAccess) -> int:
    """About what building a family costs: its content once per shown child, and each live link's pages, which
    grow with the children they show (a week page holds every child's week); a family with no live link, 0."""
    if not access.live:
        return 0
    return len(access.children) + sum(len(access.shown(link)) for link in access.live)


def parts_by_class(now: dt.datetime | None, count: int) -> list[list[str]]:
    """All families in class order, cut into at most `count` parts of about equal cost (`cost`), so that a
    class is mostly read by one process and the processes finish together."""
    conf = settings()
    moment = now or clock.now()
    accesses = family_access(None, conf.today(moment), moment).values()
    ordered = sorted(accesses, key=lambda a: (min((s.class_id for s in a.children), default=""), a.family.id))
    costs = [cost(a) for a in ordered]
    total = sum(costs) or 1
    parts: list[list[str]] = [[] for _ in range(count)]
    before = 0  # the cost of the families placed so far
    for access, own in zip(ordered, costs, strict=True):  # a family goes to the share its cost's middle falls in
        parts[min(count - 1, (2 * before + own) * count // (2 * total))].append(access.family.id)
        before += own
    return [part for part in parts if part]


def build_in_parallel(processes: int, now: dt.datetime | None = None,
                      progress: Callable[[int], None] | None = None) -> BuildReport:
    """Build every family with `processes` forked workers; the caller holds the lock, saves and commits."""
    started = time.perf_counter()
    parts = parts_by_class(now, processes)  # one part each: every part re-reads access, reference data, classes
    db.session.rollback()  # no transaction of the parent's is open across the fork
    render.compile_templates()  # inherited by every process instead of compiled in each
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

