"""The dashboard: machines, today's held ops and conflicts, the family site builder's queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app.base import settings
from app.base.extensions import db
from app.base.models import Conflict, DirtyFamily, Family, OpLog
from app.base.text import aware
from app.notify.calls import SILENT_DAYS, silent_families
from app.notify.outbox import queue_state
from app.staff import jobs
from app.staff.access import requires, school_classes
from app.staff.consent import waiting_rows
from app.staff.machines import machine_states
from static_site.build import build_all, site_lock
from static_site.status import last_build
from sync import clock

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def school_midnight(now: dt.datetime) -> dt.datetime:
    """The start of today in the school's timezone."""
    tz = settings().timezone
    return dt.datetime.combine(now.astimezone(tz).date(), dt.time.min, tz)


def site_state() -> dict[str, Any]:
    """The site builder's queue: families waiting for a rebuild, the oldest mark, and the last build if known."""
    waiting = db.session.scalar(select(func.count()).select_from(DirtyFamily)) or 0
    oldest = db.session.scalar(select(func.min(DirtyFamily.marked_at)))
    state: dict[str, Any] = {"waiting": waiting, "oldest": aware(oldest) if oldest else None, "last_build": None}
    state["last_build"] = last_build()
    return state


def calls_by_class(now: dt.datetime) -> list[tuple[Any, int]]:
    """The classes with families to phone (no visit or confirmation for SILENT_DAYS days) and how many."""
    today = settings().today(now)
    counts = [(c, len(silent_families(c.id, today, now))) for c in school_classes()]
    return [(c, n) for c, n in counts if n]


@bp.route("/")
@requires("dashboard.view")
def index() -> str:
    """Machines with their flags, today's review work and the site builder's state."""
    now = clock.now()
    midnight = school_midnight(now)
    held_today = db.session.scalar(select(func.count()).select_from(OpLog)
                                   .where(OpLog.status == "held", OpLog.received_at >= midnight)) or 0
    held_all = db.session.scalar(select(func.count()).select_from(OpLog).where(OpLog.status == "held")) or 0
    conflicts_today = db.session.scalar(select(func.count()).select_from(Conflict)
                                        .where(Conflict.detected_at >= midnight)) or 0
    conflicts_open = db.session.scalar(select(func.count()).select_from(Conflict)
                                       .where(Conflict.resolved_at.is_(None))) or 0
    rejected_all = db.session.scalar(select(func.count()).select_from(OpLog).where(OpLog.status == "rejected")) or 0
    return render_template("staff/dashboard.html", machines=machine_states(now), held_today=held_today,
                           held_all=held_all, conflicts_today=conflicts_today, conflicts_open=conflicts_open,
                           rejected_all=rejected_all, site=site_state(), now=now,
                           waiting=waiting_rows(settings().today(now)), days=settings().access_decision_days,
                           messages=queue_state(), calls=calls_by_class(now), silent_days=SILENT_DAYS)


@bp.route("/rebuild-site", methods=["POST"])
@requires("site.rebuild")
def rebuild_site() -> Response:
    """Rebuild every family's pages, in the background with a progress page."""
    job = jobs.start("site_rebuild", {})
    return redirect(url_for("staff.jobs.show", job_id=job.id))


def rebuild_job(_params: dict[str, Any], _by: str, progress: jobs.Progress) -> dict[str, Any]:
    """The rebuild job: the site's own full build under its lock, counted in families."""
    conf = settings()
    progress.total(db.session.scalar(select(func.count()).select_from(Family)) or 0)
    with site_lock(conf.site_output_dir):
        report = build_all(conf, progress=progress.step)
    return {"families": report.families, "pages": report.pages, "removed": report.removed}


jobs.register("site_rebuild", rebuild_job)
