"""Classroom machines: registration, signed tokens (rotatable keys), revocation."""

from __future__ import annotations

import secrets

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select

from app.base.extensions import db
from app.base.models import Device, device_class, device_teacher
from sync import clock
from sync.errors import BatchRejected

SALT = "tetrad.device-token"


def _serializer() -> URLSafeSerializer:
    # itsdangerous signs with the last key and verifies with any: newest key goes last.
    keys = [current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", [])]
    return URLSafeSerializer(list(reversed(keys)), salt=SALT)


def token_for(device: Device) -> str:
    """The device's bearer token: its id and token generation, signed by the hub."""
    return str(_serializer().dumps({"d": device.id, "g": device.token_generation, "n": secrets.token_hex(4)}))


def register(name: str, class_ids: list[str] | None = None) -> tuple[Device, str]:
    """Register a classroom machine (bound to classes if given); return it and its token."""
    device = Device(
        id=f"dev-{secrets.token_hex(6)}", name=name, created_at=clock.now(), token_generation=1,
        acked_seq=0, last_skew_ms=0, skewed=False,
    )
    db.session.add(device)
    db.session.flush()
    for class_id in class_ids or []:
        db.session.execute(device_class.insert().values(device_id=device.id, class_id=class_id))
    return device, token_for(device)


def revoke(device: Device) -> None:
    """Make the device's token fail with 403 from now on."""
    device.revoked_at = clock.now()


def reissue(device: Device) -> str:
    """A new token for the device; every older token stops working."""
    device.token_generation += 1
    device.revoked_at = None
    return token_for(device)


def authenticate(header: str | None) -> Device:
    """The device named by a `Bearer` token, checked against its record; raise 401/403 otherwise."""
    if not header or not header.startswith("Bearer "):
        raise BatchRejected("unauthorized")
    try:
        claims = _serializer().loads(header[len("Bearer "):].strip())
    except BadSignature:
        raise BatchRejected("unauthorized") from None
    if not isinstance(claims, dict):
        raise BatchRejected("unauthorized")
    device = db.session.get(Device, str(claims.get("d")))
    if device is None or claims.get("g") != device.token_generation:
        raise BatchRejected("unauthorized")
    if device.revoked_at is not None:
        raise BatchRejected("device_revoked")
    return device


def bound_classes(device_id: str) -> set[str]:
    """The classes a device is bound to; empty means the whole school."""
    rows = db.session.execute(select(device_class.c.class_id).where(device_class.c.device_id == device_id))
    return {row[0] for row in rows}


def set_served(device_id: str, teacher_ids: list[str]) -> None:
    """Set the teachers a device writes for; an empty list restores the default (see `served_teachers`)."""
    db.session.execute(delete(device_teacher).where(device_teacher.c.device_id == device_id))
    for teacher_id in dict.fromkeys(teacher_ids):
        db.session.execute(device_teacher.insert().values(device_id=device_id, teacher_id=teacher_id))
