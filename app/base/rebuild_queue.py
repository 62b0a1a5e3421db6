"""The site builder's queue of families whose pages must be rebuilt (durable: a table, not memory)."""

from __future__ import annotations

from sqlalchemy import select

from app.base import bulk
from app.base.extensions import db
from app.base.models import DirtyFamily, OpLog
from sync import clock


def mark_families_dirty(family_ids: set[str]) -> None:
    """Put families on the site builder's queue (an upsert: a family is queued once)."""
    now = clock.now()
    rev = db.session.execute(select(db.func.max(OpLog.id))).scalar() or 0
    rows = [{"family_id": f, "marked_at": now, "rev": rev} for f in sorted(family_ids)]
    bulk.upsert(DirtyFamily.__table__, rows, ["family_id"], {"marked_at": now, "rev": rev})
