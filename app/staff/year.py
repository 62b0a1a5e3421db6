"""The administrator's year page: close the year and roll over to the next, the same code as `flask --app wsgi
year close` and `year open` (app/base/rollover.py, static_site/last_year.py).

Close: the page lists the missing final marks (the check runs on every visit); the button closes the year
(refused while marks are missing, unless the administrator ticks the box). Roll-over: upload the director's
order's exceptions (CSV, docs/operations.md), see the plan student by student (a dry run, nothing written),
then carry it out in one transaction. Both steps run as long actions (app.staff.jobs); the job page shows
the students to go while the roll-over's one transaction is open (as the import, the count is not advanced
student by student: writing it would commit half the roll-over).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.base import rollover, settings
from app.base.extensions import db
from app.base.models import AcademicYear
from app.base.rollover import RolloverError
from app.staff import jobs
from app.staff.access import requires
from app.staff.imports import UPLOAD_NAME, uploads
from static_site import last_year

bp = Blueprint("year", __name__, url_prefix="/year")


def _year() -> AcademicYear | None:
    return db.session.scalars(select(AcademicYear).where(AcademicYear.name == settings().year_name)).first()


@bp.route("/")
@requires("year.manage")
def index() -> str:
    """The year's state: missing final marks, what closing keeps, and the roll-over form."""
    conf = settings()
    year = _year()
    closing = last_year.close_year(conf, year, apply=False) if year is not None else None
    try:
        rollover.make_plan(conf, conf.year_name, None, applying=True)
        can_open, why_not = True, ""
    except RolloverError as exc:
        can_open, why_not = False, str(exc)
    return render_template("staff/year.html", conf=conf, closing=closing, can_open=can_open, why_not=why_not)


@bp.route("/close", methods=["POST"])
@requires("year.manage")
def close() -> Response:
    """Close the configured year (a long action)."""
    job = jobs.start("year_close", {"allow_missing": request.form.get("allow_missing") == "1"})
    return redirect(url_for("staff.jobs.show", job_id=job.id))


@bp.route("/plan", methods=["POST"])
@requires("year.manage")
def plan() -> Response:
    """Keep the uploaded order file (or none: promote everyone) and show the plan (a dry run)."""
    sent = request.files.get("file")
    stored = ""
    if sent is not None and sent.filename:
        stored = f"{secrets.token_hex(8)}.csv"
        descriptor = os.open(uploads() / stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            sent.save(out)
    job = jobs.start("rollover", {"stored": stored, "dry_run": True})
    return redirect(url_for("staff.jobs.show", job_id=job.id))


@bp.route("/open", methods=["POST"])
@requires("year.manage")
def open_year() -> Response:
    """Carry out the plan that was shown (the same file, planned again inside the run)."""
    stored = request.form.get("stored", "")
    if stored and (not UPLOAD_NAME.match(stored) or not (uploads() / stored).is_file()):
        flash(_("The checked file is no longer here: upload it again."), "error")
        return redirect(url_for("staff.year.index"))
    job = jobs.start("rollover", {"stored": stored, "dry_run": False})
    return redirect(url_for("staff.jobs.show", job_id=job.id))


def close_job(params: dict[str, Any], by: str, _progress: jobs.Progress) -> dict[str, Any]:
    """`year close --apply`; a refusal is the job's result, not a failure."""
    conf = settings()
    year = _year()
    if year is None:
        return {"error_text": f"учебный год {conf.year_name} ещё не открыт."}
    try:
        closing = last_year.close_year(conf, year, apply=True, allow_missing=bool(params.get("allow_missing")), by=by)
    except RolloverError as exc:
        return {"error_text": str(exc), "lines": last_year.close_year(conf, year, apply=False).missing}
    keep = (f"страницы {closing.kept} семей за {year.name} остаются доступны по их ссылкам только для чтения"
            if conf.site_keep_last_year else "страницы семей за год не сохраняются (site.keep_last_year: false)")
    return {"summary": f"Год {year.name} закрыт: {keep}; семей выпускников {closing.graduates}; журнал года в "
                       "архиве — решения сотрудников, меняющие его записи, отклоняются.",
            "lines": [f"нет итоговой отметки: {line}" for line in closing.missing]}


def rollover_job(params: dict[str, Any], _by: str, progress: jobs.Progress) -> dict[str, Any]:
    """`year open NAME --order FILE [--apply]`: the plan line by line, or the roll-over carried out."""
    conf = settings()
    stored = str(params.get("stored") or "")
    dry_run = bool(params.get("dry_run"))
    path = uploads() / stored if stored else None
    result: dict[str, Any] = {"dry_run": dry_run, "stored": stored}
    try:
        text = path.read_text(encoding="utf-8-sig") if path is not None else None
        the_plan = rollover.make_plan(conf, conf.year_name, text, applying=True)
        result["lines"], result["summary"] = the_plan.lines(), the_plan.total_line()
        if dry_run:
            return result
        progress.total(len(the_plan.steps))  # before the transaction opens: writing it commits
        rollover.carry_out(the_plan, conf)
        db.session.commit()
    except (RolloverError, UnicodeDecodeError) as exc:
        db.session.rollback()
        result["error_text"] = str(exc) if isinstance(exc, RolloverError) else "файл не в кодировке UTF-8"
        return result
    if path is not None:
        path.unlink(missing_ok=True)
    result["done"] = f"Перевод выполнен: {conf.year_name} учебный год открыт."
    return result


jobs.register("year_close", close_job)
jobs.register("rollover", rollover_job)
