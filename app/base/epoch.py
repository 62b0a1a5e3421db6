"""The hub's epoch: a random id for one life of its database, renewed by every restore from a backup.

Classroom machines compare it with the one they saw last; a new epoch means "this hub may have forgotten
ops it acknowledged to you: resend what you kept from my `acked_seq` on" (docs/protocol.md, "Restores").
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.base.extensions import db
from app.base.models import HubEpoch
from sync import clock


def current() -> HubEpoch:
    """The newest epoch; the first one is made on first use (two processes racing make one, not two)."""
    newest = db.session.scalars(select(HubEpoch).order_by(HubEpoch.number.desc()).limit(1)).first()
    if newest is not None:
        return newest
    try:
        with db.session.begin_nested():
            db.session.add(HubEpoch(number=1, epoch=str(uuid.uuid4()), started_at=clock.now(), reason="start"))
    except IntegrityError:
        pass  # another process made it first: read theirs
    newest = db.session.scalars(select(HubEpoch).order_by(HubEpoch.number.desc()).limit(1)).first()
    assert newest is not None
    return newest


def current_id() -> str:
    """The newest epoch's id, as sent on the wire."""
    return current().epoch


def begin_after_restore(source: str) -> HubEpoch:
    """Start a new epoch for a database just restored from the backup named `source` (the caller commits)."""
    number = int(db.session.scalar(select(func.coalesce(func.max(HubEpoch.number), 0))) or 0) + 1
    epoch = HubEpoch(number=number, epoch=str(uuid.uuid4()), started_at=clock.now(), reason="restore",
                     source=source[:300])
    db.session.add(epoch)
    db.session.flush()
    return epoch
