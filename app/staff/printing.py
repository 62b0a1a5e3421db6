"""Printing: per class, the week's slips, the quarterly journal copy and the year-end summary sheet as downloads;
and recording a returned slip signed by a guardian.

The documents are made by static_site.paper (the same code as `flask slips` and `flask print`); this module
only picks the class, checks the account's scope and sends the file. Files are never written to disk: they go
to the browser as attachments, never cached. Without WeasyPrint's system libraries they come as print-ready HTML.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app.base import settings
from app.base.calendar import week_id
from app.base.extensions import db
from app.base.models import AcademicYear, Period, SchoolClass, Student
from app.staff.access import audit, current_scope, requires, school_classes
from static_site.paper import journal_copy, lookup, pdf, slips, summary
from static_site.paper.lookup import PaperError
from static_site.paper.options import qr_on_slips
from static_site.paper.signatures import record_signature
from static_site.paper.snapshots import WeekSnapshot
from sync import clock

bp = Blueprint("printing", __name__, url_prefix="/printing")


def _class_in_scope(class_id: str | None) -> SchoolClass:
    """The class asked for: 404 if unknown, 403 outside the account's classes."""
    school_class = db.session.get(SchoolClass, class_id or "")
    if school_class is None:
        abort(404)
    if not current_scope().sees_families(school_class.id):
        abort(403)
    return school_class


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


@bp.route("/")
@requires("printing.view")
def index() -> str:
    """One row per class: slips of a week, the journal copy of a period, the summary sheet; the signature form."""
    conf = settings()
    today = conf.today(clock.now())
    classes = school_classes(current_scope().sees_families, settings().year_name)
    periods = {c.id: list(db.session.scalars(select(Period).where(Period.year_id == c.year_id, Period.kind != "year")
                                             .order_by(Period.number))) for c in classes}
    current = next((p.number for p in conf.periods if p.start <= today <= p.end), None)
    students = {c.id: sorted(db.session.scalars(select(Student).where(Student.class_id == c.id)),
                             key=lambda s: (s.full_name, s.file_no)) for c in classes}
    return render_template("staff/printing.html", classes=classes, periods=periods, current_period=current,
                           students=students, week=week_id(lookup.parse_week(today.isoformat())), today=today,
                           pdf_missing=pdf.pdf_missing() is not None)


@bp.route("/slips")
@requires("printing.view")
def slips_file() -> BaseResponse:
    """The class's slips of a week: families on paper, or every student with `all=1`."""
    school_class = _class_in_scope(request.args.get("class"))
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
        as_pdf = pdf.pdf_missing() is None
        data = pdf.combine([slips.batch_document(snap, batch)]) if as_pdf else slips.batch_html(snap, batch).encode()
    except PaperError as exc:
        return _refused(exc)
    name = _("slips")
    return _download(data, as_pdf, f"{name} {school_class.name} {week_id(monday)}")


@bp.route("/journal")
@requires("printing.view")
def journal_file() -> BaseResponse:
    """The hard copy of the class journal for one period."""
    school_class = _class_in_scope(request.args.get("class"))
    conf, now = settings(), clock.now()
    try:
        year = db.session.get(AcademicYear, school_class.year_id)
        assert year is not None
        period = lookup.year_period(year, int(request.args.get("period", "0") or 0))
        context = journal_copy.journal_context(conf, school_class, period, request.args.get("by", "").strip(), now)
        as_pdf = pdf.pdf_missing() is None
        data = pdf.to_pdf(journal_copy.journal_document(context)[0]) if as_pdf \
            else journal_copy.journal_html(context, None).encode()
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
    school_class = _class_in_scope(request.args.get("class"))
    conf, now = settings(), clock.now()
    year = db.session.get(AcademicYear, school_class.year_id)
    assert year is not None
    try:
        context = summary.summary_context(conf, school_class, year, now)
        as_pdf = pdf.pdf_missing() is None
        data = pdf.to_pdf(summary.summary_document(context)) if as_pdf else summary.summary_html(context).encode()
    except PaperError as exc:
        return _refused(exc)
    name = _("summary sheet")
    return _download(data, as_pdf, f"{name} {school_class.name} {year.name}")


@bp.route("/sign", methods=["POST"])
@requires("printing.sign")
def sign() -> BaseResponse:
    """Record a returned slip signed by a guardian: the family's confirmation of that week."""
    student = db.session.get(Student, request.form.get("student", ""))
    if student is None:
        abort(404)
    _class_in_scope(student.class_id)
    conf, now = settings(), clock.now()
    try:
        week = lookup.parse_week(request.form.get("week", ""))
        signed_on = lookup.parse_day(request.form.get("signed_on", ""))
        guardian = request.form.get("guardian", "").strip() or None
        results = record_signature(conf, student, week, signed_on, guardian, now)
    except PaperError as exc:
        return _refused(exc)
    audit("paper.sign", f"student:{student.id}", f"{week_id(week)} {signed_on.isoformat()} "
          f"{'; '.join(r.guardian for r in results)}")
    db.session.commit()
    for result in results:
        flash(result.message, "info")
    return redirect(url_for("staff.printing.index"))
