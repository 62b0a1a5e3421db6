"""Access requests and consent (002 reg. §2.6–2.17): record a guardian's request and consent, decide it, print.

Recording and deciding go through app.base.consent and static_site.requests (the same code as the
`consent` commands); who may then see what stays static_site.access's decision. Every form is checked
whole before anything changes, each bad field gets its Russian message beside it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from app.base import settings
from app.base.consent import (
    CHANNELS,
    REFUSAL_REASONS,
    ConsentRefused,
    due_on,
    history,
    record_consent,
    record_request,
    waiting_requests,
    withdraw_consent,
    working_days_after,
)
from app.base.extensions import db
from app.base.models import AccessRequest, Family, FamilyLink, Guardian
from app.staff.access import audit, current_scope, current_user, family_in_scope, requires
from static_site.links import LinkRefused, link_url
from static_site.paper import access_forms, pdf
from static_site.paper.lookup import PaperError, parse_day
from static_site.requests import decide_issue, decide_refuse, invitation_code
from sync import clock

bp = Blueprint("access", __name__, url_prefix="/access")


def _family(family_id: str) -> Family:
    family = db.session.get(Family, family_id)
    if family is None:
        abort(404)
    family_in_scope(family)
    return family


def _request(request_id: str) -> AccessRequest:
    found = db.session.get(AccessRequest, request_id)
    if found is None:
        abort(404)
    _family(found.family_id)
    return found


def waiting_rows(today: dt.date) -> list[dict[str, Any]]:
    """The requests waiting for a decision that the account sees: waited working days, due day, overdue."""
    days = settings().access_decision_days
    scope = current_scope()
    rows = []
    for item in waiting_requests():
        family = db.session.get(Family, item.family_id)
        if family is None or not any(scope.sees_families(s.class_id) for s in family.students):
            continue
        waited = working_days_after(item.received_on, today)
        rows.append({"request": item, "family": family, "guardian": db.session.get(Guardian, item.guardian_id),
                     "waited": waited, "due": due_on(item.received_on, days), "overdue": waited > days})
    return sorted(rows, key=lambda r: (not r["overdue"], r["request"].received_on))


@bp.route("/")
@requires("access.view")
def index() -> str:
    """Requests waiting for a decision, oldest and overdue first, and the latest decided ones."""
    today = settings().today()
    scope = current_scope()
    decided = [r for r in db.session.scalars(select(AccessRequest).where(AccessRequest.state != "pending")
                                             .order_by(AccessRequest.decided_on.desc()).limit(100))
               if (f := db.session.get(Family, r.family_id)) and any(scope.sees_families(s.class_id)
                                                                     for s in f.students)]
    guardians = {g.id: g for g in db.session.scalars(select(Guardian))}
    return render_template("staff/access.html", waiting=waiting_rows(today), decided=decided, guardians=guardians,
                           days=settings().access_decision_days, reasons=REFUSAL_REASONS)


def _form_page(family: Family, form: dict[str, Any], errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return render_template("staff/access_new.html", family=family, form=form, errors=errors, channels=CHANNELS,
                           today=settings().today()), status


@bp.route("/new")
@requires("access.record")
def new() -> tuple[str, int]:
    """The form of a guardian's request, with the consent signed with it."""
    family = _family(request.args.get("family", ""))
    today = settings().today()
    form = {"guardian": family.guardians[0].id if len(family.guardians) == 1 else "",
            "students": [s.id for s in family.students], "received_on": today.strftime("%d.%m.%Y"),
            "channel": family.channel, "consent": "1", "consent_on": today.strftime("%d.%m.%Y")}
    return _form_page(family, form, {})


def _date(form: dict[str, Any], name: str, errors: dict[str, str], today: dt.date) -> dt.date | None:
    text = str(form.get(name, "")).strip()
    if not text:
        errors[name] = _("Enter the date, e.g. 16.11.2026.")
        return None
    try:
        day = parse_day(text)
    except PaperError as exc:
        errors[name] = str(exc)
        return None
    if day > today:
        errors[name] = _("The date has not come yet.")
        return None
    return day


@bp.route("/new", methods=["POST"])
@requires("access.record")
def create() -> BaseResponse | tuple[str, int]:
    """Record the request (and the consent with it); nothing is saved while a field is wrong."""
    family = _family(request.form.get("family", ""))
    today = settings().today()
    form: dict[str, Any] = {k: request.form.get(k, "") for k in ("guardian", "received_on", "basis", "channel",
                                                                  "contact", "consent", "consent_on",
                                                                  "consent_basis")}
    form["students"] = request.form.getlist("students")
    errors: dict[str, str] = {}
    guardian = next((g for g in family.guardians if g.id == form["guardian"]), None)
    if guardian is None:
        errors["guardian"] = _("Choose the guardian who made the request.")
    students = [s for s in family.students if s.id in form["students"]]
    if not students:
        errors["students"] = _("Tick at least one child.")
    received = _date(form, "received_on", errors, today)
    if not form["basis"].strip():
        errors["basis"] = _("Name the documents shown (identity document, birth certificate …).")
    if form["channel"] not in CHANNELS:
        errors["channel"] = _("Choose how the family gets the diary.")
    if form["channel"] in ("link", "both") and not form["contact"].strip() and guardian is not None \
            and not (guardian.phone or guardian.email):
        errors["contact"] = _("Give a phone or e-mail to deliver the link to.")
    consent_on = None
    if form["consent"] == "1":
        consent_on = _date(form, "consent_on", errors, today)
    if errors or guardian is None or received is None:
        return _form_page(family, form, errors, 400)
    by = current_user().login
    try:
        item = record_request(family, guardian, students, received, form["basis"], form["channel"],
                              form["contact"] or ", ".join(p for p in (guardian.phone, guardian.email) if p), by)
        if consent_on is not None:
            record_consent(guardian, consent_on, form["consent_basis"] or f"согласие к запросу от {received:%d.%m.%Y}",
                           form["channel"], by, item)
    except ConsentRefused as exc:
        db.session.rollback()
        errors["guardian"] = str(exc)
        return _form_page(family, form, errors, 400)
    audit("access.request", f"access_request:{item.id}",
          f"{family.name}: {guardian.full_name}; {', '.join(s.full_name for s in students)}"
          + ("; согласие" if consent_on else ""))
    db.session.commit()
    flash(_("The request is recorded; decide it within %(n)s working days.", n=settings().access_decision_days),
          "info")
    return redirect(url_for("staff.access.show", request_id=item.id))


@bp.route("/<request_id>")
@requires("access.view")
def show(request_id: str) -> str:
    """One request: who, which children, the decision; the link, its invitation code or the refusal to print."""
    item = _request(request_id)
    conf = settings()
    guardian = db.session.get(Guardian, item.guardian_id)
    family = db.session.get(Family, item.family_id)
    link = db.session.get(FamilyLink, item.link_id) if item.link_id else None
    url = link_url(conf, link.token) if link else None
    return render_template("staff/access_request.html", item=item, guardian=guardian, family=family, link=link,
                           url=url, code=invitation_code(link.token) if link else None, reasons=REFUSAL_REASONS,
                           channels=CHANNELS, base_url=conf.site_base_url,
                           due=due_on(item.received_on, conf.access_decision_days))


@bp.route("/<request_id>/issue", methods=["POST"])
@requires("access.decide")
def issue(request_id: str) -> BaseResponse:
    """Decide: access issued (a link when the channel includes it)."""
    item = _request(request_id)
    conf, now = settings(), clock.now()
    try:
        link = decide_issue(item, current_user().login, conf.today(now), now)
    except (ConsentRefused, LinkRefused) as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("staff.access.show", request_id=request_id))
    audit("access.issue", f"access_request:{item.id}", f"family_link:{link.id}" if link else item.channel)
    db.session.commit()
    flash(_("Access is issued; the family's pages appear at the next build of the site."), "info")
    return redirect(url_for("staff.access.show", request_id=request_id))


@bp.route("/<request_id>/refuse", methods=["POST"])
@requires("access.decide")
def refuse(request_id: str) -> BaseResponse:
    """Decide: access refused for one of the regulation's reasons; the decision is then printed and signed."""
    item = _request(request_id)
    reason = request.form.get("reason", "")
    if reason not in REFUSAL_REASONS:
        flash(_("Choose the reason of the refusal (002 reg. §2.12)."), "error")
        return redirect(url_for("staff.access.show", request_id=request_id))
    try:
        decide_refuse(item, reason, current_user().login, settings().today())
    except ConsentRefused as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("staff.access.show", request_id=request_id))
    audit("access.refuse", f"access_request:{item.id}", reason)
    db.session.commit()
    flash(_("Access is refused; print the decision for the director to sign."), "info")
    return redirect(url_for("staff.access.show", request_id=request_id))


def _document(html: str, filename: str) -> Response:
    """A form as PDF (HTML when WeasyPrint is missing, or with format=html), never cached."""
    as_pdf = request.args.get("format") != "html" and pdf.pdf_missing() is None
    data = access_forms.to_pdf(html) if as_pdf else html.encode()
    name = f"{filename}.{'pdf' if as_pdf else 'html'}"
    response = Response(data, mimetype="application/pdf" if as_pdf else "text/html")
    if as_pdf or request.args.get("download"):
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<request_id>/refusal")
@requires("access.view")
def refusal(request_id: str) -> Response:
    """The refusal decision with its reason ticked, for the director to sign."""
    item = _request(request_id)
    guardian = db.session.get(Guardian, item.guardian_id)
    if item.state != "refused" or guardian is None:
        abort(404)
    return _document(access_forms.refusal_html(settings(), item, guardian), f"отказ {guardian.last_name}")


@bp.route("/forms/<family_id>")
@requires("access.view")
def forms(family_id: str) -> Response:
    """A blank request (doc=request) or consent (doc=consent) filled in for the family's guardian and children."""
    family = _family(family_id)
    guardian = next((g for g in family.guardians if g.id == request.args.get("guardian")), None)
    children = [s for s in family.students if s.left_on is None]
    doc = request.args.get("doc", "request")
    if doc == "consent":
        return _document(access_forms.consent_html(settings(), guardian, children), f"согласие {family.name}")
    if doc != "request":
        abort(404)
    return _document(access_forms.request_html(settings(), guardian, children), f"запрос {family.name}")


def _guardian(guardian_id: str) -> tuple[Guardian, list[Family]]:
    guardian = db.session.get(Guardian, guardian_id)
    if guardian is None:
        abort(404)
    families = list(db.session.scalars(select(Family).where(Family.guardians.any(Guardian.id == guardian.id))))
    scope = current_scope()
    if not any(scope.sees_families(s.class_id) for f in families for s in f.students):
        abort(403)
    return guardian, families


def _consent_page(guardian: Guardian, families: list[Family], form: dict[str, str], errors: dict[str, str],
                  status: int = 200) -> tuple[str, int]:
    return render_template("staff/consent.html", guardian=guardian, families=families, records=history(guardian.id),
                           form=form, errors=errors, channels=CHANNELS), status


@bp.route("/guardian/<guardian_id>")
@requires("access.view")
def guardian(guardian_id: str) -> tuple[str, int]:
    """A guardian's consent history (every record, who and when) and the forms to record or withdraw it."""
    person, families = _guardian(guardian_id)
    today = settings().today().strftime("%d.%m.%Y")
    return _consent_page(person, families, {"on": today, "withdraw_on": today, "channel": "link"}, {})


@bp.route("/guardian/<guardian_id>/consent", methods=["POST"])
@requires("access.record")
def give(guardian_id: str) -> BaseResponse | tuple[str, int]:
    """Record a consent given on paper (without a request: it counts at once)."""
    person, families = _guardian(guardian_id)
    form = {k: request.form.get(k, "") for k in ("on", "basis", "channel")}
    errors: dict[str, str] = {}
    on = _date(form, "on", errors, settings().today())
    if not form["basis"].strip():
        errors["basis"] = _("Name the signed consent (its number and date).")
    if form["channel"] not in CHANNELS:
        errors["channel"] = _("Choose how the family gets the diary.")
    if errors or on is None:
        return _consent_page(person, families, form, errors, 400)
    consent = record_consent(person, on, form["basis"], form["channel"], current_user().login)
    db.session.flush()
    audit("consent.give", f"consent:{consent.id}", f"{person.full_name}: {form['basis']}")
    db.session.commit()
    flash(_("The consent is recorded."), "info")
    return redirect(url_for("staff.access.guardian", guardian_id=guardian_id))


@bp.route("/guardian/<guardian_id>/withdraw", methods=["POST"])
@requires("access.record")
def withdraw(guardian_id: str) -> BaseResponse | tuple[str, int]:
    """Record a withdrawal by written statement: the guardian's links answer 404 after the next build."""
    person, families = _guardian(guardian_id)
    form = {"withdraw_on": request.form.get("withdraw_on", ""), "statement": request.form.get("statement", "")}
    errors: dict[str, str] = {}
    on = _date(form, "withdraw_on", errors, settings().today())
    if not form["statement"].strip():
        errors["statement"] = _("Name the written statement of withdrawal (its number and date).")
    if errors or on is None:
        return _consent_page(person, families, form, errors, 400)
    consent = withdraw_consent(person, on, form["statement"], current_user().login)
    db.session.flush()
    audit("consent.withdraw", f"consent:{consent.id}", f"{person.full_name}: {form['statement']}")
    db.session.commit()
    flash(_("The withdrawal is recorded; the family's pages are removed at the next build."), "info")
    return redirect(url_for("staff.access.guardian", guardian_id=guardian_id))
