"""The signed-in account of a request, the `requires` decorator every view wears, and the audit log."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from app.base.classes import sorted_classes
from app.base.extensions import db
from app.base.models import AcademicYear, AuditEntry, Family, SchoolClass, StaffUser
from app.staff.rights import Scope, allowed, scope_for
from sync import clock

View = TypeVar("View", bound=Callable[..., Any])
PUBLIC = "public"


def session_key(user: StaffUser) -> str:
    """A short fingerprint of the password hash, the account's state and its session generation, checked on every
    request: a new password, a turned-off account or a sign-out ends every session of the account, even a copied
    cookie (the cookie alone is not enough: the database must agree)."""
    text = f"{user.id}:{user.password_hash}:{user.active}:{user.session_generation or 0}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sign_in(user: StaffUser) -> None:
    """Start a fresh session for the account (a new cookie, nothing kept from before)."""
    session.clear()
    session.permanent = True
    session["staff_id"] = user.id
    session["staff_key"] = session_key(user)


def sign_out() -> None:
    """End the session, and server-side every other session of the account (the caller commits)."""
    user: StaffUser | None = g.get("staff")
    if user is not None:
        user.session_generation = (user.session_generation or 0) + 1
    session.clear()


def load_user() -> None:
    """Put the signed-in, still active account (or None) on `g.staff`."""
    g.staff = None
    user_id = session.get("staff_id")
    if user_id is None:
        return
    user = db.session.get(StaffUser, user_id)
    if user is None or not user.active or session.get("staff_key") != session_key(user):
        session.clear()
        return
    g.staff = user


def current_user() -> StaffUser:
    """The signed-in account; views behind `requires` always have one."""
    user: StaffUser | None = g.get("staff")
    if user is None:
        abort(401)
    return user


def current_scope() -> Scope:
    """The classes the signed-in account sees, computed once per request."""
    if "staff_scope" not in g:
        g.staff_scope = scope_for(current_user())
    scope: Scope = g.staff_scope
    return scope


def school_classes(visible: Callable[[str], bool] = lambda _id: True, year: str | None = None) -> list[SchoolClass]:
    """The classes (of one academic year when named) that pass `visible`, in school order: 1А, 1Б, 2А …"""
    query = select(SchoolClass)
    if year is not None:
        query = query.join(AcademicYear, AcademicYear.id == SchoolClass.year_id).where(AcademicYear.name == year)
    return sorted_classes(c for c in db.session.scalars(query) if visible(c.id))


def family_class(class_id: str | None) -> SchoolClass:
    """A class whose families the account sees: 404 if unknown, 403 outside the account's classes."""
    school_class = db.session.get(SchoolClass, class_id or "")
    if school_class is None:
        abort(404)
    if not current_scope().sees_families(school_class.id):
        abort(403)
    return school_class


def family_in_scope(family: Family) -> None:
    """403 unless one of the family's children is in a class whose families the account sees."""
    scope = current_scope()
    if not any(scope.sees_families(s.class_id) for s in family.students):
        abort(403)


def class_url(endpoint: str, class_id: str) -> str:
    """A page's URL with ?class=… (a Python keyword, so url_for gets it from a dict)."""
    values: dict[str, Any] = {"class": class_id}
    return url_for(endpoint, **values)


def can(action: str) -> bool:
    """Whether the signed-in account may take an action (for templates: show or hide a button)."""
    user: StaffUser | None = g.get("staff")
    return user is not None and allowed(user.role, action)


def requires(action: str) -> Callable[[View], View]:
    """Mark a view with the action it performs; the staff blueprint checks it before the view runs."""

    def mark(view: View) -> View:
        view.staff_action = action  # type: ignore[attr-defined]
        return view

    return mark


def public(view: View) -> View:
    """Mark a view that anyone may open (the login page)."""
    view.staff_action = PUBLIC  # type: ignore[attr-defined]
    return view


def check_access() -> Any:
    """Before every staff view: anonymous → login page, forbidden → 403, unmarked view → 403."""
    load_user()
    view = current_app.view_functions.get(request.endpoint or "")
    action = getattr(view, "staff_action", None)
    if request.endpoint == "staff.static" or action == PUBLIC:
        return None
    if action is None:
        abort(403)
    user: StaffUser | None = g.staff
    if user is None:
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("staff.auth.login", next=target))
    if not allowed(user.role, action):
        abort(403)
    return None


def audit(action: str, obj: str, detail: str = "") -> AuditEntry:
    """Add an audit entry for the signed-in account to the session; it commits with the action itself."""
    entry = AuditEntry(at=clock.now(), who=current_user().login, action=action, object=obj[:200],
                       detail=detail)
    db.session.add(entry)
    return entry


def safe_next(target: str | None) -> str:
    """Where to go after login: a path on this hub under /staff, never another site."""
    if target and target.startswith("/staff") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("staff.home")
