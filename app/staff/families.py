"""Families: guardians, children, contacts, consent and channel; issuing, rotating and revoking links.

Who may see a family's pages and whether a link may be issued is decided by static_site.access and
static_site.links (the family site's one place for it); this module only shows and asks them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable

import segno
from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.base import enrolment, settings
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import (
    Consent,
    Family,
    FamilyLink,
    Guardian,
    SchoolClass,
    Student,
    StudentWeekView,
    family_student,
)
from app.base.settings import is_loopback
from app.base.text import greeting
from app.staff.access import audit, class_url, current_scope, current_user, family_in_scope, requires, school_classes
from static_site.access import FamilyAccess, family_access, student_link_allowed
from static_site.invitations import issue_code, spoken
from static_site.links import LinkRefused, active, issue, issue_student, link_url, revoke, rotate
from sync import clock

bp = Blueprint("families", __name__, url_prefix="/families")


def may_hand_out(access: FamilyAccess) -> bool:
    """A letter hands out the family's link, i.e. every child it shows: only to an account that sees the
    families of all those children's classes (a class teacher of 7А not a family with a sibling in 11А)."""
    scope = current_scope()
    return all(scope.sees_families(s.class_id) for s in [*access.children, *access.family.students])


def consents_of(guardian_ids: list[str]) -> dict[str, list[Consent]]:
    """Each guardian's consent records, newest first."""
    result: dict[str, list[Consent]] = defaultdict(list)
    for part in chunks(guardian_ids):
        for consent in db.session.scalars(select(Consent).where(Consent.guardian_id.in_(part))):
            result[consent.guardian_id].append(consent)
    for records in result.values():
        records.sort(key=lambda c: (c.on, c.state == "withdrawn"), reverse=True)
    return result


@bp.route("/")
@requires("families.view")
def index() -> str:
    """The families of a class: who, how to reach them, consent, channel and links."""
    classes = school_classes(current_scope().sees_families)
    class_id = request.args.get("class") or (classes[0].id if len(classes) == 1 else None)
    if class_id is None:
        return render_template("staff/families_index.html", classes=classes)
    school_class = db.session.get(SchoolClass, class_id)
    if school_class is None:
        abort(404)
    if not current_scope().sees_families(school_class.id):
        abort(403)
    conf, now = settings(), clock.now()
    today = conf.today(now)
    student_ids = [s.id for s in enrolment.in_year(school_class)]
    family_ids: set[str] = set()
    for part in chunks(student_ids):
        family_ids |= set(db.session.scalars(select(family_student.c.family_id)
                                             .where(family_student.c.student_id.in_(part))))
    accesses = sorted(family_access(family_ids, today, now).values(), key=lambda a: (a.family.name, a.family.id))
    consents = consents_of([g.id for a in accesses for g in a.family.guardians])
    return render_template("staff/families.html", school_class=school_class, classes=classes, accesses=accesses,
                           consents=consents, now=now, active=active, base_url=conf.site_base_url,
                           live_ids={link.id for a in accesses for link in a.live}, may_hand_out=may_hand_out,
                           own_link_ok={s.id for a in accesses for s in a.children
                                        if student_link_allowed(s, today, conf.student_min_age)},
                           student_views=student_views([s.id for a in accesses for s in a.family.students]))


def student_views(student_ids: list[str]) -> dict[str, int]:
    """How many times each student opened their own link's pages (counted apart from the family's)."""
    views: dict[str, int] = defaultdict(int)
    for part in chunks(student_ids):
        for student_id, count in db.session.execute(select(StudentWeekView.student_id, StudentWeekView.views)
                                                    .where(StudentWeekView.student_id.in_(part))):
            views[student_id] += count
    return dict(views)


def _back(family: Family) -> Response:
    class_id = request.form.get("class") or (family.students[0].class_id if family.students else "")
    return redirect(class_url("staff.families.index", class_id) + f"#family-{family.id}")


def _access(family_id: str) -> tuple[FamilyAccess, dt.date, dt.datetime]:
    conf, now = settings(), clock.now()
    today = conf.today(now)
    access = family_access([family_id], today, now).get(family_id)
    if access is None:
        abort(404)
    family_in_scope(access.family)
    return access, today, now


@bp.route("/<family_id>/links", methods=["POST"])
@requires("families.links")
def issue_link(family_id: str) -> Response:
    """Issue a link to a guardian of the family (refused without consent, link channel or a child to show)."""
    access, _today, now = _access(family_id)
    guardian = db.session.get(Guardian, request.form.get("guardian", ""))
    if guardian is None:
        abort(404)
    return _issued(access, lambda: issue(access, guardian, now), "link.issue", guardian.full_name,
                   _("A link is issued to %(name)s; it works after the next build of the site.",
                     name=guardian.full_name))


@bp.route("/<family_id>/student-links", methods=["POST"])
@requires("families.links")
def issue_student_link(family_id: str) -> Response:
    """Issue a student of the family a link to their own diary only (refused under the age, without consent)."""
    access, today, now = _access(family_id)
    student = db.session.get(Student, request.form.get("student", ""))
    if student is None:
        abort(404)
    return _issued(access, lambda: issue_student(access, student, now, today, settings().student_min_age),
                   "link.issue_student", student.full_name,
                   _("A link of their own is issued to %(name)s; it shows only their diary after the next build "
                     "of the site.", name=student.full_name))


def _issued(access: FamilyAccess, make: Callable[[], FamilyLink], action: str, holder: str, done: str) -> Response:
    """Issue a link by `make`: a refusal flashed with nothing changed, else audited, committed and flashed."""
    try:
        link = make()
    except LinkRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(access.family)
    db.session.flush()
    audit(action, f"family_link:{link.id}", f"{access.family.name}: {holder}")
    db.session.commit()
    flash(done, "info")
    return _back(access.family)


def _link(link_id: str) -> FamilyLink:
    link = db.session.get(FamilyLink, link_id)
    if link is None:
        abort(404)
    family = db.session.get(Family, link.family_id)
    assert family is not None
    family_in_scope(family)
    return link


@bp.route("/links/<link_id>/rotate", methods=["POST"])
@requires("families.links")
def rotate_link(link_id: str) -> Response:
    """Replace a link with a new one for the same guardian; the old one stops at the next build."""
    link = _link(link_id)
    conf, now = settings(), clock.now()
    try:
        new = rotate(link, conf.today(now), now)
    except LinkRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.flush()
        audit("link.rotate", f"family_link:{link.id}", f"→ family_link:{new.id}")
        db.session.commit()
        flash(_("The link is replaced; print the new invitation letter."), "info")
    family = db.session.get(Family, link.family_id)
    assert family is not None
    return _back(family)


@bp.route("/links/<link_id>/revoke", methods=["POST"])
@requires("families.links")
def revoke_link(link_id: str) -> Response:
    """Revoke a link: its pages answer 404 after the next build."""
    link = _link(link_id)
    if link.revoked_at is None:
        revoke(link, clock.now())
        audit("link.revoke", f"family_link:{link.id}")
        db.session.commit()
        flash(_("The link is revoked."), "info")
    family = db.session.get(Family, link.family_id)
    assert family is not None
    return _back(family)


@bp.route("/links/<link_id>/code", methods=["POST"])
@requires("families.links")
def invitation_code(link_id: str) -> tuple[str, int] | Response:
    """Issue an invitation code for a live link, to read out by phone; it is shown on this page only, once."""
    link = _link(link_id)
    conf, now = settings(), clock.now()
    access = family_access([link.family_id], conf.today(now), now)[link.family_id]
    family = access.family
    if link not in access.live:
        flash(_("This link shows nothing now, so no code can open it."), "error")
        return _back(family)
    code = issue_code(link, current_user().login, now, conf.code_hours)
    audit("link.code", f"family_link:{link.id}")  # the code itself is never written anywhere
    db.session.commit()
    holder = db.session.get(Guardian, link.guardian_id)
    return render_template("staff/invitation_code.html", code=spoken(code), family=family, holder=holder,
                           expires=now + dt.timedelta(hours=conf.code_hours),
                           address=conf.site_base_url + "/code", class_id=request.form.get("class", "")), 200


def qr_svg(text: str) -> Markup:
    """A QR code of the text as inline SVG (no image file, no outside service)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", xmldecl=False, svgns=True, scale=5, border=2,
                                     title=_("QR code of the link"))
    return Markup(buffer.getvalue().decode())  # noqa: S704 - segno's own SVG, no user text but the escaped title


@bp.route("/links/<link_id>/letter")
@requires("families.view")
def letter(link_id: str) -> str:
    """A printable invitation letter for the link's guardian, with the link and its QR code."""
    link = _link(link_id)
    conf, now = settings(), clock.now()
    if not active(link, now):
        abort(404)
    guardian = db.session.get(Guardian, link.guardian_id)
    family = db.session.get(Family, link.family_id)
    assert guardian is not None and family is not None
    access = family_access([family.id], conf.today(now), now)[family.id]
    if not may_hand_out(access):
        abort(403)
    url = link_url(conf, link.token)
    student = db.session.get(Student, link.student_id) if link.student_id else None
    hello = f"Здравствуйте, {student.first_name}" if student else greeting(guardian)
    return render_template("staff/letter.html", guardian=guardian, greeting=hello, url=url, student=student,
                           qr=qr_svg(url), children=access.shown(link), live=link in access.live, family=family,
                           today=conf.today(now), loopback=is_loopback(url), base_url=conf.site_base_url)
