"""Each classroom machine's state as staff see it: last sync, backlog, skew, rejected and held ops, flags.

A machine is *silent* when more than two nights (midnights in the school's timezone) have passed since
its last sync, or since it was registered when it never synced.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select

from app.base import settings
from app.base.classes import name_key, sorted_classes
from app.base.extensions import db
from app.base.models import Device, OpLog, SchoolClass, device_class
from app.base.text import aware
from app.syncing.review import HUB_DEVICE
from sync import clock

SILENT_NIGHTS = 2


def nights_since(moment: dt.datetime, now: dt.datetime) -> int:
    """Midnights in the school's timezone between a moment and now."""
    tz = settings().timezone
    return (aware(now).astimezone(tz).date() - aware(moment).astimezone(tz).date()).days


@dataclass
class MachineState:
    """One machine's row on the dashboard and the machines page."""

    device: Device
    classes: list[str] = field(default_factory=list)
    queued: int = 0
    rejected: int = 0
    held: int = 0
    nights: int | None = None
    silent: bool = False
    gap_alert: bool = False

    @property
    def skew_seconds(self) -> float:
        """The last measured clock lead over the hub, in seconds."""
        return self.device.last_skew_ms / 1000


def machine_states(now: dt.datetime | None = None) -> list[MachineState]:
    """Every registered classroom machine (not the hub's own), revoked ones last."""
    now = now or clock.now()
    devices = db.session.scalars(select(Device).where(Device.id != HUB_DEVICE).order_by(Device.name)).all()
    counts = {(d, s): n for d, s, n in db.session.execute(
        select(OpLog.device_id, OpLog.status, func.count()).where(OpLog.status.in_(("queued", "rejected", "held")))
        .group_by(OpLog.device_id, OpLog.status))}
    bound: dict[str, list[SchoolClass]] = {}
    for device_id, school_class in db.session.execute(
            select(device_class.c.device_id, SchoolClass).join(SchoolClass, SchoolClass.id == device_class.c.class_id)):
        bound.setdefault(device_id, []).append(school_class)
    names = {device_id: [c.name for c in sorted_classes(classes)] for device_id, classes in bound.items()}
    gap_hours = settings().sync["gap_alert_hours"]
    states = []
    for device in devices:
        state = MachineState(device, names.get(device.id, []), counts.get((device.id, "queued"), 0),
                             counts.get((device.id, "rejected"), 0), counts.get((device.id, "held"), 0))
        if device.revoked_at is None:
            state.nights = nights_since(device.last_sync_at or device.created_at, now)
            state.silent = state.nights > SILENT_NIGHTS
            state.gap_alert = device.gap_since is not None and aware(device.gap_since) < now - dt.timedelta(
                hours=gap_hours)
        states.append(state)
    return sorted(states, key=lambda s: (s.device.revoked_at is not None, name_key(s.device.name)))
