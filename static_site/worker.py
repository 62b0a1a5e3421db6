"""The build worker: a process beside the hub that keeps the family site fresh.

ALGORITHM, every `poll` seconds:
1. Take the output folder's lock without waiting (a hand-run `site build` may hold it: skip the round).
2. When the day or the stylesheet changed since the last full rebuild (a new week begins, holidays start,
   a child turns 18, a new release), rebuild everything.
3. Every `sweep_every` seconds, sweep: queue the families whose pages no longer match what they may see
   (consent withdrawn, a child left, a link expired) and delete unreferenced page sets.
4. Build the families on the DirtyFamily queue (filled by every committed sync batch, link change and
   confirmation); when some were built, look again at once.
Running in its own process, the worker never competes with the sync endpoint for the hub's interpreter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask

from app.base import settings
from app.base.extensions import db
from static_site import publish
from static_site.build import BuildReport, SiteLocked, build_all, build_dirty, site_lock, sweep
from static_site.parallel import cores
from static_site.status import full_rebuild_due

log = logging.getLogger(__name__)


def run_once(app: Flask, sweep_now: bool) -> BuildReport:
    """One round of the worker; an empty report when another builder holds the lock."""
    with app.app_context():
        conf = settings()
        try:
            with site_lock(conf.site_output_dir, wait=False):
                if full_rebuild_due(conf):
                    report = build_all(conf, processes=cores())
                    publish.collect_garbage(conf.site_output_dir)
                    return report
                if sweep_now:
                    sweep(conf)
                    publish.collect_garbage(conf.site_output_dir)
                return build_dirty(conf)
        except SiteLocked:
            return BuildReport()
        finally:
            db.session.remove()


def run(app: Flask, poll: float = 0.25, sweep_every: float = 30.0, stop: threading.Event | None = None,
        echo: Callable[[str], None] = log.info) -> None:
    """Keep building until `stop` is set (or forever)."""
    stop = stop or threading.Event()
    last_sweep = 0.0
    while not stop.is_set():
        sweep_now = time.monotonic() - last_sweep >= sweep_every
        try:
            report = run_once(app, sweep_now)
        except Exception:  # a bad family must not stop the site: report, wait, try again
            log.exception("site build failed")
            echo("Сборка сайта не удалась, повтор через 5 с.")
            _pause(stop, 5)
            continue
        if sweep_now:
            last_sweep = time.monotonic()
        if report.families:
            echo(f"Семей: {report.families}, ссылок: {report.links}, страниц: {report.pages}, "
                 f"убрано: {report.removed}, {report.seconds:.2f} с".replace(".", ","))
            continue
        _pause(stop, poll)


def _pause(stop: threading.Event, seconds: float) -> None:
    """Wait up to `seconds`, waking early when `stop` is set.

    Short sleeps rather than `Event.wait(timeout)`: a timed wait is an absolute deadline on the monotonic
    clock, which a faked system clock (libfaketime, as `make test` runs the suite) turns into weeks.
    """
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        time.sleep(min(0.05, seconds))
