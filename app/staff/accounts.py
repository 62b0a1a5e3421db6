"""Staff accounts (the administrator adds them, gives new passwords, turns them off) and the audit log."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.base.extensions import db
from app.base.models import AuditEntry, StaffUser, Teacher
from app.staff.access import audit as record_audit
from app.staff.access import current_user, requires
from app.staff.rights import ROLES
from app.staff.users import AccountError, create_user, set_password, set_role

bp = Blueprint("accounts", __name__, url_prefix="/accounts")
AUDIT_LIMIT = 300


def _user(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id)
    if user is None:
        abort(404)
    return user


def _page(status: int = 200, **extra: object) -> tuple[str, int]:
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.login)).all()
    teachers = db.session.scalars(select(Teacher).order_by(Teacher.last_name, Teacher.first_name)).all()
    return render_template("staff/accounts.html", users=users, teachers=teachers, roles=ROLES, **extra), status


@bp.route("/")
@requires("accounts.view")
def index() -> tuple[str, int]:
    """Every account with its role and last sign-in."""
    return _page()


@bp.route("/", methods=["POST"])
@requires("accounts.manage")
def add() -> tuple[str, int]:
    """Add an account; a generated password is shown once."""
    teacher_code = request.form.get("teacher", "").strip() or None
    try:
        user, password = create_user(request.form.get("login", ""), request.form.get("role", ""),
                                     request.form.get("password") or None, teacher_code,
                                     request.form.get("name", "").strip())
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(400)
    record_audit("account.add", f"staff_user:{user.id}", f"{user.login} ({user.role})")
    db.session.commit()
    return _page(shown_password=(user.login, password))


@bp.route("/<int:user_id>/password", methods=["POST"])
@requires("accounts.manage")
def new_password(user_id: int) -> tuple[str, int]:
    """Give an account a new generated password, shown once; its sessions end."""
    user = _user(user_id)
    password = secrets.token_urlsafe(9)
    set_password(user, password)
    record_audit("account.password", f"staff_user:{user.id}", user.login)
    db.session.commit()
    return _page(shown_password=(user.login, password))


@bp.route("/<int:user_id>/active", methods=["POST"])
@requires("accounts.manage")
def set_active(user_id: int) -> Response:
    """Turn an account off (its sessions end) or on again; nobody turns off their own account."""
    user = _user(user_id)
    active = request.form.get("active") == "1"
    if user.id == current_user().id and not active:
        flash(_("You cannot turn off your own account."), "error")
        return redirect(url_for("staff.accounts.index"))
    user.active = active
    record_audit("account.enable" if active else "account.disable", f"staff_user:{user.id}", user.login)
    db.session.commit()
    return redirect(url_for("staff.accounts.index"))


@bp.route("/<int:user_id>/role", methods=["POST"])
@requires("accounts.manage")
def change_role(user_id: int) -> Response | tuple[str, int]:
    """Give an account another role; nobody takes the administrator's role from their own account."""
    user = _user(user_id)
    role = request.form.get("role", "")
    if user.id == current_user().id and role != user.role:
        flash(_("You cannot change the role of your own account."), "error")
        return redirect(url_for("staff.accounts.index"))
    before = user.role
    try:
        set_role(user, role, request.form.get("teacher", "").strip() or None)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(400)
    record_audit("account.role", f"staff_user:{user.id}", f"{user.login}: {before} → {user.role}")
    db.session.commit()
    return redirect(url_for("staff.accounts.index"))


@bp.route("/audit")
@requires("audit.view")
def audit() -> str:
    """The latest state-changing actions, newest first, optionally of one account."""
    who = request.args.get("who", "").strip()
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(AUDIT_LIMIT)
    if who:
        query = query.where(AuditEntry.who == who)
    return render_template("staff/audit.html", entries=db.session.scalars(query).all(), who=who,
                           limit=AUDIT_LIMIT)
