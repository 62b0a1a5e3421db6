"""Classroom machines: the list, registering one (its token shown once), a new token, revoking."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.base.extensions import db
from app.base.models import Device, Teacher
from app.staff.access import audit, requires, school_classes
from app.staff.machines import machine_states
from app.syncing import devices as registry
from app.syncing.review import HUB_DEVICE
from app.syncing.school_reference import chosen_teachers, served_teachers
from sync.pins import hash_pin, new_pin


def set_pin(teacher: Teacher, pin: str) -> None:
    """Store a PIN's slow salted hash (never the PIN); classroom machines pull it as `pin_hash`."""
    teacher.pin_hash = hash_pin(pin)


bp = Blueprint("devices", __name__, url_prefix="/devices")


def _device(device_id: str) -> Device:
    device = db.session.get(Device, device_id)
    if device is None or device.id == HUB_DEVICE:
        abort(404)
    return device


@bp.route("/")
@requires("devices.view")
def index() -> str:
    """Every machine with its state, and the form to register one."""
    machines = machine_states()
    teachers = db.session.scalars(select(Teacher).order_by(Teacher.last_name, Teacher.first_name)).all()
    served = {m.device.id: (set(served_teachers(m.device.id)), bool(chosen_teachers(m.device.id))) for m in machines}
    return render_template("staff/devices.html", machines=machines, classes=school_classes(), teachers=teachers,
                           served=served)


@bp.route("/", methods=["POST"])
@requires("devices.manage")
def add() -> Response | str | tuple[str, int]:
    """Register a machine, optionally bound to classes; its token is shown on this answer only."""
    name = request.form.get("name", "").strip()
    if not name or len(name) > 100:
        flash(_("Give the machine a name of up to 100 characters, e.g. «Кабинет 12»."), "error")
        return redirect(url_for("staff.devices.index"))
    known = {c.id for c in school_classes()}
    class_ids = [c for c in request.form.getlist("classes") if c in known]
    device, token = registry.register(name, class_ids)
    audit("device.register", f"device:{device.id}", name)
    db.session.commit()
    return render_template("staff/device_token.html", device=device, token=token, new=True)


@bp.route("/<device_id>/token", methods=["POST"])
@requires("devices.manage")
def token(device_id: str) -> str:
    """A new token for a machine; its older tokens stop working. Shown once."""
    device = _device(device_id)
    new_token = registry.reissue(device)
    audit("device.token", f"device:{device.id}")
    db.session.commit()
    return render_template("staff/device_token.html", device=device, token=new_token, new=False)


@bp.route("/pin", methods=["POST"])
@requires("devices.manage")
def pin() -> Response | str:
    """A new classroom sign-in PIN for a teacher, shown once; machines get its hash at their next sync."""
    teacher = db.session.get(Teacher, request.form.get("teacher", ""))
    if teacher is None:
        flash(_("Choose a teacher."), "error")
        return redirect(url_for("staff.devices.index"))
    chosen = new_pin()
    set_pin(teacher, chosen)
    audit("teacher.pin", f"teacher:{teacher.id}")
    db.session.commit()
    name = " ".join(p for p in (teacher.last_name, teacher.first_name, teacher.middle_name) if p)
    return render_template("staff/teacher_pin.html", name=name, pin=chosen)


@bp.route("/<device_id>/revoke", methods=["POST"])
@requires("devices.manage")
def revoke(device_id: str) -> Response:
    """Revoke a machine: its next sync is refused."""
    device = _device(device_id)
    if device.revoked_at is None:
        registry.revoke(device)
        audit("device.revoke", f"device:{device.id}")
        db.session.commit()
        flash(_("Machine «%(name)s» is revoked.", name=device.name), "info")
    return redirect(url_for("staff.devices.index"))


@bp.route("/<device_id>/teachers", methods=["POST"])
@requires("devices.manage")
def teachers(device_id: str) -> Response:
    """Set the teachers a machine writes for; none chosen: the teachers of its classes (the default)."""
    device = _device(device_id)
    known = set(db.session.scalars(select(Teacher.id)))
    chosen = [t for t in request.form.getlist("teachers") if t in known]
    registry.set_served(device.id, chosen)
    audit("device.teachers", f"device:{device.id}", ", ".join(chosen) or "default")
    db.session.commit()
    flash(_("The teachers of machine «%(name)s» are saved.", name=device.name), "info")
    return redirect(url_for("staff.devices.index"))
