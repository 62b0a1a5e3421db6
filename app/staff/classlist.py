"""The class teacher's lists (002 §3.5.1, 002 instr. §3.2): students of the class, their families and guardians.

A class teacher corrects their own class only (the administrator any class; the director and the deputy read):
add a student, correct one, move one out with the date and the order number, correct a guardian's names and
contacts, add a guardian to a family or take one out of it, move a student to another family. Each form is
checked whole and changes nothing while a field is wrong; each change is one audit entry with what it was
and what it became. A student who left disappears from the family pages at the next build (static_site.access);
the change reaches classroom machines with the student's next rev.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.base import enrolment, settings
from app.base.extensions import db
from app.base.models import Family, Guardian, Student, new_id
from app.base.rebuild_queue import mark_families_dirty
from app.importing import values
from app.importing.errors import CellError
from app.staff.access import audit, class_url, current_scope, family_class, requires, school_classes
from app.staff.i18n import N_

bp = Blueprint("classlist", __name__, url_prefix="/classlist")


@dataclass(frozen=True)
class Field:
    """One field of a form: its name, label (translated when shown), kind and whether it is required."""

    name: str
    label: str
    kind: str = "text"  # text, date, phone, email
    required: bool = False
    size: int = 100


STUDENT = (Field("file_no", N_("File number (номер личного дела)"), required=True, size=40),
           Field("last_name", N_("Surname"), required=True), Field("first_name", N_("First name"),
                                                                      required=True),
           Field("middle_name", N_("Patronymic")), Field("birth_date", N_("Date of birth"), "date", True),
           Field("enrolled_on", N_("Date enrolled"), "date", True),
           Field("family", N_("Family code (a new code makes a new family)"), size=200))
LEAVE = (Field("left_on", N_("Date left"), "date", True), Field("left_order", N_("Order number"), required=True,
                                                                   size=60))
GUARDIAN = (Field("last_name", N_("Surname"), required=True), Field("first_name", N_("First name"),
                                                                       required=True),
            Field("middle_name", N_("Patronymic")), Field("phone", N_("Phone"), "phone", size=30),
            Field("email", N_("E-mail"), "email", size=200), Field("relation", N_("Relation"), size=30))


def read_form(fields: tuple[Field, ...]) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    """The form as typed, its parsed values, and a Russian message per bad field."""
    typed = {f.name: request.form.get(f.name, "").strip() for f in fields}
    parsed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        text = typed[f.name]
        if not text:
            if f.required:
                errors[f.name] = _("Fill this in.")
            parsed[f.name] = None if f.kind == "date" else ""
            continue
        try:
            if f.kind == "date":
                parsed[f.name] = values.date(text)
            elif f.kind == "phone":
                parsed[f.name] = values.phone(text)
            elif f.kind == "email":
                parsed[f.name] = values.email(text)
            else:
                parsed[f.name] = values.text(f.size)(text)
        except CellError as exc:
            errors[f.name] = str(exc)
    return typed, parsed, errors



def _student(student_id: str) -> Student:
    student = db.session.get(Student, student_id)
    if student is None:
        abort(404)
    family_class(student.class_id)
    return student


def _family(family_id: str) -> Family:
    family = db.session.get(Family, family_id)
    if family is None:
        abort(404)
    if not any(current_scope().sees_families(s.class_id) for s in family.students):
        abort(403)
    return family


def families_of(student: enrolment.Member) -> list[Family]:
    """The families a student belongs to."""
    return list(db.session.scalars(select(Family).where(Family.students.any(Student.id == student.id))))


def _back(class_id: str) -> Response:
    return redirect(class_url("staff.classlist.index", class_id))


@bp.route("/")
@requires("classlist.view")
def index() -> str:
    """The class list: students (those who left too), their families and guardians, with the edit forms' links."""
    classes = school_classes(current_scope().sees_families, settings().year_name)
    class_id = request.args.get("class") or (classes[0].id if len(classes) == 1 else None)
    if class_id is None:
        return render_template("staff/classlist_index.html", classes=classes)
    school_class = family_class(class_id)
    students = sorted(enrolment.in_year(school_class),
                      key=lambda s: (s.left_on is not None, s.last_name, s.first_name, s.file_no))
    return render_template("staff/classlist.html", school_class=school_class, classes=classes, students=students,
                           families={s.id: families_of(s) for s in students})


def _form(title: str, fields: tuple[Field, ...], typed: dict[str, Any], errors: dict[str, str], back: str,
          status: int = 200) -> tuple[str, int]:
    return render_template("staff/record_form.html", title=title, fields=fields, typed=typed, errors=errors,
                           back=back), status


def _show(value: Any) -> str:
    return values.show_date(value) if isinstance(value, dt.date) else str(value or "")


def _changes(record: Any, parsed: dict[str, Any]) -> list[str]:
    """Set the fields that differ; the changes as «field: old → new»."""
    changes = []
    for name, value in parsed.items():
        if getattr(record, name) != value:
            changes.append(f"{name}: {_show(getattr(record, name))} → {_show(value)}")
            setattr(record, name, value)
    return changes


def _family_named(code: str) -> Family | None:
    key = values.name_key(code)
    return next((f for f in db.session.scalars(select(Family)) if values.name_key(f.name) == key), None)


def _student_checks(parsed: dict[str, Any], errors: dict[str, str], student: Student | None) -> None:
    other = db.session.scalars(select(Student).where(Student.file_no == parsed.get("file_no"))).first()
    if other is not None and other is not student:
        errors["file_no"] = _("This file number belongs to %(name)s.", name=other.full_name)
    birth, enrolled = parsed.get("birth_date"), parsed.get("enrolled_on")
    if birth and enrolled and birth >= enrolled:
        errors["birth_date"] = _("The date of birth must be before the date enrolled.")
    if student is not None and student.left_on and enrolled and enrolled > student.left_on:
        errors["enrolled_on"] = _("The date enrolled must not be after the date left.")


def _put_in_family(student: Student, code: str) -> str:
    """Move the student into the family with this code (created when new); the audit's words for it."""
    family = _family_named(code)
    before = families_of(student)
    if family is not None and before == [family]:
        return ""
    if family is None:
        family = Family(id=new_id(), name=code, channel="link")
        db.session.add(family)
    for other in before:
        if other is not family:
            other.students.remove(student)
    if student not in family.students:
        family.students.append(student)
    db.session.flush()
    mark_families_dirty({f.id for f in before} | {family.id})
    return f"family: {', '.join(f.name for f in before) or '—'} → {family.name}"


@bp.route("/student/new", methods=["GET", "POST"])
@requires("classlist.edit")
def add_student() -> Response | tuple[str, int]:
    """Add a student to the class."""
    school_class = family_class(request.values.get("class"))
    back = class_url("staff.classlist.index", school_class.id)
    title = _("New student of class %(name)s", name=school_class.name)
    if request.method == "GET":
        return _form(title, STUDENT, {"enrolled_on": settings().today().strftime("%d.%m.%Y")}, {}, back)
    typed, parsed, errors = read_form(STUDENT)
    _student_checks(parsed, errors, None)
    if errors:
        return _form(title, STUDENT, typed, errors, back, 400)
    code = parsed.pop("family")
    student = Student(id=new_id(), class_id=school_class.id, **parsed)
    db.session.add(student)
    db.session.flush()
    moved = _put_in_family(student, code) if code else ""
    audit("student.add", f"student:{student.id}",
          f"{school_class.name}: {student.full_name} ({student.file_no}) {moved}".strip())
    db.session.commit()
    flash(_("%(name)s is added to the class.", name=student.full_name), "info")
    return _back(school_class.id)


@bp.route("/student/<student_id>", methods=["GET", "POST"])
@requires("classlist.edit")
def edit_student(student_id: str) -> Response | tuple[str, int]:
    """Correct a student's names, file number, dates or family."""
    student = _student(student_id)
    back = class_url("staff.classlist.index", student.class_id)
    title = _("Student %(name)s", name=student.full_name)
    if request.method == "GET":
        typed = {f.name: _show(getattr(student, f.name, "")) for f in STUDENT}
        typed["family"] = ", ".join(f.name for f in families_of(student))
        return _form(title, STUDENT, typed, {}, back)
    typed, parsed, errors = read_form(STUDENT)
    _student_checks(parsed, errors, student)
    if errors:
        return _form(title, STUDENT, typed, errors, back, 400)
    code = parsed.pop("family")
    changes = _changes(student, parsed)
    if code:
        changes += [moved] if (moved := _put_in_family(student, code)) else []
    if changes:
        mark_families_dirty({f.id for f in families_of(student)})
        audit("student.edit", f"student:{student.id}", "; ".join(changes))
        db.session.commit()
        flash(_("The changes are saved."), "info")
    return _back(student.class_id)


@bp.route("/student/<student_id>/leave", methods=["GET", "POST"])
@requires("classlist.edit")
def leave(student_id: str) -> Response | tuple[str, int]:
    """Move a student out of the school (выбытие) with the date and the order number."""
    student = _student(student_id)
    back = class_url("staff.classlist.index", student.class_id)
    title = _("%(name)s leaves the school", name=student.full_name)
    if request.method == "GET":
        return _form(title, LEAVE, {"left_on": settings().today().strftime("%d.%m.%Y")}, {}, back)
    typed, parsed, errors = read_form(LEAVE)
    if parsed.get("left_on") and parsed["left_on"] < student.enrolled_on:
        errors["left_on"] = _("The date left must not be before the date enrolled (%(date)s).",
                              date=values.show_date(student.enrolled_on))
    if errors:
        return _form(title, LEAVE, typed, errors, back, 400)
    was = student.left_on
    changes = _changes(student, parsed)
    student.left_on = was  # enrolment.leave closes the class's row of the history (members()) and sets it
    enrolment.leave(student, parsed["left_on"], queue=False)
    mark_families_dirty({f.id for f in families_of(student)})
    audit("student.leave", f"student:{student.id}", "; ".join(changes))
    db.session.commit()
    flash(_("%(name)s is moved out; their diary pages go at the next build.", name=student.full_name), "info")
    return _back(student.class_id)


def _guardian_form(title: str, typed: dict[str, Any], errors: dict[str, str], back: str,
                   status: int = 200) -> tuple[str, int]:
    return _form(title, GUARDIAN, typed, errors, back, status)


@bp.route("/family/<family_id>/guardian/<guardian_id>", methods=["GET", "POST"])
@requires("classlist.edit")
def edit_guardian(family_id: str, guardian_id: str) -> Response | tuple[str, int]:
    """Correct a guardian's names and contacts."""
    family = _family(family_id)
    guardian = next((g for g in family.guardians if g.id == guardian_id), None)
    if guardian is None:
        abort(404)
    class_id = request.values.get("class") or family.students[0].class_id
    back = class_url("staff.classlist.index", class_id)
    title = _("Guardian %(name)s", name=guardian.full_name)
    if request.method == "GET":
        return _guardian_form(title, {f.name: getattr(guardian, f.name) for f in GUARDIAN}, {}, back)
    typed, parsed, errors = read_form(GUARDIAN)
    if errors:
        return _guardian_form(title, typed, errors, back, 400)
    changes = _changes(guardian, parsed)
    if changes:
        audit("guardian.edit", f"guardian:{guardian.id}", f"{family.name}: " + "; ".join(changes))
        db.session.commit()
        flash(_("The changes are saved."), "info")
    return _back(class_id)


@bp.route("/family/<family_id>/guardian", methods=["GET", "POST"])
@requires("classlist.edit")
def add_guardian(family_id: str) -> Response | tuple[str, int]:
    """Add a guardian to a family (a new person; the same person already known is reused)."""
    family = _family(family_id)
    class_id = request.values.get("class") or family.students[0].class_id
    back = class_url("staff.classlist.index", class_id)
    title = _("New guardian of the family %(name)s", name=family.name)
    if request.method == "GET":
        return _guardian_form(title, {}, {}, back)
    typed, parsed, errors = read_form(GUARDIAN)
    if errors:
        return _guardian_form(title, typed, errors, back, 400)
    known = db.session.scalars(select(Guardian).filter_by(last_name=parsed["last_name"],
                                                          first_name=parsed["first_name"],
                                                          middle_name=parsed["middle_name"],
                                                          phone=parsed["phone"])).first()
    guardian = known or Guardian(id=new_id(), **parsed)
    if guardian in family.guardians:
        errors["last_name"] = _("%(name)s is already in this family.", name=guardian.full_name)
        return _guardian_form(title, typed, errors, back, 400)
    family.guardians.append(guardian)
    db.session.flush()
    mark_families_dirty({family.id})
    audit("family.guardian_add", f"family:{family.id}", f"{family.name}: + {guardian.full_name}")
    db.session.commit()
    flash(_("%(name)s is added to the family.", name=guardian.full_name), "info")
    return _back(class_id)


@bp.route("/family/<family_id>/guardian/<guardian_id>/remove", methods=["POST"])
@requires("classlist.edit")
def remove_guardian(family_id: str, guardian_id: str) -> Response:
    """Take a guardian out of a family: their links to it show nothing from the next build."""
    family = _family(family_id)
    guardian = next((g for g in family.guardians if g.id == guardian_id), None)
    if guardian is None:
        abort(404)
    family.guardians.remove(guardian)
    mark_families_dirty({family.id})
    audit("family.guardian_remove", f"family:{family.id}", f"{family.name}: − {guardian.full_name}")
    db.session.commit()
    flash(_("%(name)s is no longer in the family %(family)s.", name=guardian.full_name, family=family.name), "info")
    return _back(request.form.get("class") or family.students[0].class_id)
