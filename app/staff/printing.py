"""Printing: one form (class, document, week or period) for the week's slips, the period's journal copy and the
year-end summary sheet; the whole school's slips in one file; recording a returned slip signed by a guardian.

The journal copy takes seconds: it is made as a staff job (app.staff.jobs) whose page shows the progress and,
when done, the download; the file waits in the job's record until it is downloaded once (then it is dropped).

The documents are made by static_site.paper (the same code as `flask slips` and `flask print`); this module
only picks the class, checks the account's scope and sends the file. Files are never written to disk: they go
to the browser as attachments, never cached. Without WeasyPrint's system libraries they come as print-ready HTML.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app.base import enrolment, settings
from app.base.calendar import week_id
from app.base.extensions import db
from app.base.models import AcademicYear, Period, SchoolClass, StaffJob, Student
from app.staff import jobs
from app.staff.access import audit, class_url, current_scope, current_user, family_class, requires, school_classes
from static_site.paper import journal_copy, lookup, pdf, slips, summary
from static_site.paper.audience import student_families
from static_site.paper.lookup import PaperError
from static_site.paper.options import qr_on_slips
from static_site.paper.signatures import record_signature
from static_site.paper.snapshots import WeekSnapshot
from sync import clock

bp = Blueprint("printing", __name__, url_prefix="/printing")



def _download(data: bytes, as_pdf: bool, filename: str) -> Response:
    """A document as an attachment (the name may be Cyrillic), never cached."""
    name = f"{filename}.{'pdf' if as_pdf else 'html'}"
    response = Response(data, mimetype="application/pdf" if as_pdf else "text/html")
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused(exc: PaperError) -> BaseResponse:
    """Back to the page with the paper module's reason (already in Russian)."""
    db.session.rollback()
    flash(str(exc), "error")
    return redirect(url_for("staff.printing.index"))


DOCUMENTS = ("slips", "journal", "summary")


def _page(form: dict[str, Any] | None = None, status: int = 200) -> tuple[str, int]:
    """The printing page: the one form, the school's slips, and the signature form of the chosen class."""
    conf = settings()
    today = conf.today(clock.now())
    classes = school_classes(current_scope().sees_families, conf.year_name)
    form = form or {}
    chosen_id = form.get("class") or request.args.get("class") or (classes[0].id if len(classes) == 1 else "")
    chosen = next((c for c in classes if c.id == chosen_id), None)
    year_id = classes[0].year_id if classes else None
    periods = list(db.session.scalars(select(Period).where(Period.year_id == year_id, Period.kind != "year")
                                      .order_by(Period.number))) if year_id else []
    period_now = conf.period_on(today)
    current = period_now.number if period_now else None
    students: list[enrolment.InClass] = []
    guardians: dict[str, list[Any]] = {}
    if chosen is not None:
        students = sorted(enrolment.in_year(chosen), key=lambda s: (s.full_name, s.file_no))
        families = student_families([s.id for s in students])
        for student in students:
            found = {g.id: g for f in families.get(student.id, []) for g in f.guardians}
            guardians[student.id] = sorted(found.values(), key=lambda g: g.full_name)
    week = week_id(lookup.parse_week(today.isoformat()))
    values = {"week": week, "sign_week": week, "signed_on": today.isoformat(), "student": "", "guardian": "",
              **{k: v for k, v in form.items() if isinstance(v, str)}}
    html = render_template("staff/printing.html", classes=classes, chosen=chosen, periods=periods,
                           current_period=current, students=students, guardians=guardians, values=values,
                           whole_school=current_scope().classes is None, documents=DOCUMENTS,
                           pdf_missing=pdf.pdf_missing() is not None)
    return html, status


@bp.route("/")
@requires("printing.view")
def index() -> tuple[str, int]:
    """One form for every document, the school's slips, and the signed-slip form of the chosen class."""
    return _page()


@bp.route("/document")
@requires("printing.view")
def document() -> BaseResponse:
    """The one form's answer: the slips or the summary sheet as a download, the journal copy as a job."""
    school_class = family_class(request.args.get("class"))
    kind = request.args.get("document", "")
    if kind == "slips":
        args: dict[str, Any] = {"class": school_class.id, "week": request.args.get("week", "")}
        if request.args.get("all") == "1":
            args["all"] = "1"
        return redirect(url_for("staff.printing.slips_file", **args))
    if kind == "summary":
        return redirect(class_url("staff.printing.summary_file", school_class.id))
    if kind != "journal":
        abort(404)
    try:
        period = int(request.args.get("period", "0") or 0)
    except ValueError:
        abort(404)
    job = jobs.start("journal_copy", {"class": school_class.id, "period": period,
                                      "by": request.args.get("by", "").strip()[:120]})
    return redirect(url_for("staff.jobs.show", job_id=job.id))


def journal_job(params: dict[str, Any], _by: str, progress: jobs.Progress) -> dict[str, Any]:
    """Make the journal copy in the background: data, layout, file; the file waits in the job's result."""
    conf, now = settings(), clock.now()
    progress.total(3)
    school_class = db.session.get(SchoolClass, params["class"])
    assert school_class is not None
    year = db.session.get(AcademicYear, school_class.year_id)
    assert year is not None
    try:
        period = lookup.year_period(year, int(params["period"]))
        context = journal_copy.journal_context(conf, school_class, period, params["by"], now)
    except PaperError as exc:
        raise RuntimeError(str(exc)) from None
    progress.step()
    progress.step()
    data, as_pdf = pdf.pdf_or_html(lambda: pdf.to_pdf(journal_copy.journal_document(context)[0]),
                                   lambda: journal_copy.journal_html(context, None))
    progress.step()
    name = f"{_('journal')} {school_class.name} {period.name} {year.name}.{'pdf' if as_pdf else 'html'}"
    return {"_file": base64.b64encode(data).decode(),
            "_name": name, "_pdf": as_pdf}


jobs.register("journal_copy", journal_job)


@bp.route("/jobs/<int:job_id>/file")
@requires("printing.view")
def job_file(job_id: int) -> BaseResponse:
    """The journal copy made by a job, downloaded once by the account that started it."""
    job = db.session.get(StaffJob, job_id)
    if job is None or job.kind != "journal_copy" or job.started_by != current_user().login:
        abort(404)
    result = dict(job.result or {})
    if "_file" not in result:
        flash(_("The file was downloaded already; make it again from the printing page."), "error")
        return redirect(url_for("staff.printing.index"))
    data = base64.b64decode(result.pop("_file"))
    job.result = result  # the document is personal data: it is not kept on the hub once downloaded
    db.session.commit()
    name = str(result.get("_name", "journal"))
    stem, _dot, _suffix = name.rpartition(".")
    return _download(data, bool(result.get("_pdf")), stem or name)


@bp.route("/slips")
@requires("printing.view")
def slips_file() -> BaseResponse:
    """The class's slips of a week (the whole school's with `school=1`): families on paper, or all with `all=1`."""
    if request.args.get("school") == "1":
        return _school_slips()
    school_class = family_class(request.args.get("class"))
    conf, now = settings(), clock.now()
    everyone = request.args.get("all") == "1"
    try:
        monday = lookup.parse_week(request.args.get("week") or conf.today(now).isoformat())
        snap = WeekSnapshot(conf, monday)
        snap.classes({school_class.id})
        batch = slips.class_batch(snap, school_class, everyone, qr_on_slips(conf), now)
        if not batch.slips:
            flash(_("No students of %(name)s get slips for that week (families on paper only); tick «every "
                    "student» to print them for everyone.", name=school_class.name), "error")
            return redirect(url_for("staff.printing.index"))
        data, as_pdf = pdf.pdf_or_html(lambda: slips.batches_pdf(snap, [batch], 1, slips.paper_cache())[0],
                                       lambda: slips.batch_html(snap, batch))
    except PaperError as exc:
        return _refused(exc)
    name = _("slips")
    return _download(data, as_pdf, f"{name} {school_class.name} {week_id(monday)}")


def _school_slips() -> BaseResponse:
    """Every class's slips of a week in one file, as `flask slips --school` makes them."""
    if current_scope().classes is not None:
        abort(403)
    conf, now = settings(), clock.now()
    everyone = request.args.get("all") == "1"
    try:
        monday = lookup.parse_week(request.args.get("week") or conf.today(now).isoformat())
        classes = school_classes(year=conf.year_name)
        snap = WeekSnapshot(conf, monday)
        snap.classes({c.id for c in classes})
        batches = [b for b in (slips.class_batch(snap, c, everyone, qr_on_slips(conf), now) for c in classes)
                   if b.slips]
        if not batches:
            flash(_("No student of the school gets slips for that week (families on paper only); tick «every "
                    "student» to print them for everyone."), "error")
            return redirect(url_for("staff.printing.index"))
        data, as_pdf = pdf.pdf_or_html(lambda: slips.batches_pdf(snap, batches, 1, slips.paper_cache())[0],
                                       lambda: slips.batches_html(snap, _("whole school"), batches))
    except PaperError as exc:
        return _refused(exc)
    name = _("slips")
    return _download(data, as_pdf, f"{name} {_('whole school')} {week_id(monday)}")


@bp.route("/journal")
@requires("printing.view")
def journal_file() -> BaseResponse:
    """The hard copy of the class journal for one period."""
    school_class = family_class(request.args.get("class"))
    conf, now = settings(), clock.now()
    try:
        year = db.session.get(AcademicYear, school_class.year_id)
        assert year is not None
        period = lookup.year_period(year, int(request.args.get("period", "0") or 0))
        context = journal_copy.journal_context(conf, school_class, period, request.args.get("by", "").strip(), now)
        data, as_pdf = pdf.pdf_or_html(lambda: pdf.to_pdf(journal_copy.journal_document(context)[0]),
                                       lambda: journal_copy.journal_html(context, None))
    except ValueError:
        abort(404)
    except PaperError as exc:
        return _refused(exc)
    name = _("journal")
    return _download(data, as_pdf, f"{name} {school_class.name} {period.name} {year.name}")


@bp.route("/summary")
@requires("printing.view")
def summary_file() -> BaseResponse:
    """The year-end summary sheet of the class's final marks."""
    school_class = family_class(request.args.get("class"))
    conf, now = settings(), clock.now()
    year = db.session.get(AcademicYear, school_class.year_id)
    assert year is not None
    try:
        context = summary.summary_context(conf, school_class, year, now)
        data, as_pdf = pdf.pdf_or_html(lambda: pdf.to_pdf(summary.summary_document(context)),
                                       lambda: summary.summary_html(context))
    except PaperError as exc:
        return _refused(exc)
    name = _("summary sheet")
    return _download(data, as_pdf, f"{name} {school_class.name} {year.name}")


@bp.route("/sign", methods=["POST"])
@requires("printing.sign")
def sign() -> BaseResponse | tuple[str, int]:
    """Record a returned slip signed by a guardian: the family's confirmation of that week."""
    student = db.session.get(Student, request.form.get("student", ""))
    if student is None:
        abort(404)
    family_class(student.class_id)
    conf, now = settings(), clock.now()
    form = {"class": student.class_id, "student": student.id, "sign_week": request.form.get("week", ""),
            "signed_on": request.form.get("signed_on", ""), "guardian": request.form.get("guardian", "")}
    try:
        week = lookup.parse_week(form["sign_week"])
        signed_on = lookup.parse_day(form["signed_on"])
        results = record_signature(conf, student, week, signed_on, form["guardian"].strip() or None, now)
    except PaperError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(form, 400)  # the form keeps what was chosen
    audit("paper.sign", f"student:{student.id}", f"{week_id(week)} {signed_on.isoformat()} "
          f"{'; '.join(r.guardian for r in results)}")
    db.session.commit()
    for result in results:
        flash(result.message, "info")
    return redirect(class_url("staff.printing.index", student.class_id) + "#sign")
