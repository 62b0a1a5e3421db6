"""Classroom machines, the op log, recorded conflicts and the site builder's queue."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.base.models.base import Base
from app.base.models.journal import HLC

STATUSES = ("applied", "superseded", "conflict", "held", "queued", "rejected", "declined")

device_class = Table(
    "device_class",
    Base.metadata,
    Column("device_id", ForeignKey("device.id", ondelete="CASCADE"), primary_key=True),
    Column("class_id", ForeignKey("class.id", ondelete="CASCADE"), primary_key=True),
)

# The teachers a device writes for, as staff set them; none set: the default of `sync.rules.default_served`.
device_teacher = Table(
    "device_teacher",
    Base.metadata,
    Column("device_id", ForeignKey("device.id", ondelete="CASCADE"), primary_key=True),
    Column("teacher_id", ForeignKey("teacher.id", ondelete="CASCADE"), primary_key=True),
)


class Device(Base):
    """A registered classroom machine. `token_generation` invalidates older tokens."""

    __tablename__ = "device"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    token_generation: Mapped[int] = mapped_column(Integer, default=1)
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_skew_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    skewed: Mapped[bool] = mapped_column(Boolean, default=False)
    gap_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_hlc: Mapped[str] = mapped_column(HLC, default="0000000000000-0000")


class OpLog(Base):
    """Every op ever received, exactly once, with its outcome.

    `op_id` is unique: the database, not a prior lookup, guarantees an op is logged once. An op refused
    because its id belongs to another device (`op_id_taken`) or its seq to another op (`seq_reused`) is
    kept too, without the id or seq it may not claim; `payload` is always the op as it was sent.
    """

    __tablename__ = "op_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    op_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id"))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    hlc: Mapped[str] = mapped_column(HLC)
    applied_hlc: Mapped[str] = mapped_column(HLC)
    author_id: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(10))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), index=True)
    code: Mapped[str | None] = mapped_column(String(40))
    substitute: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (
        UniqueConstraint("device_id", "seq"),
        CheckConstraint(
            "status IN ('applied', 'superseded', 'conflict', 'held', 'queued', 'rejected', 'declined')",
            name="status",
        ),
    )


class Conflict(Base):
    """Two authors wrote one field without seeing each other's write; both values are kept."""

    __tablename__ = "conflict"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    field: Mapped[str] = mapped_column(String(30))
    winner_op: Mapped[str] = mapped_column(String(64))
    loser_op: Mapped[str] = mapped_column(String(64))
    winner_author: Mapped[str] = mapped_column(String(64))
    loser_author: Mapped[str] = mapped_column(String(64))
    winner_device: Mapped[str] = mapped_column(String(40))
    loser_device: Mapped[str] = mapped_column(String(40), index=True)  # each sync's notices: the device's conflicts
    winner_value: Mapped[Any] = mapped_column(JSON)
    loser_value: Mapped[Any] = mapped_column(JSON)
    detected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(String(20))
    __table_args__ = (UniqueConstraint("winner_op", "loser_op", "field"),)


class DirtyFamily(Base):
    """Durable queue for the site builder: families whose children's journal changed."""

    __tablename__ = "dirty_family"
    family_id: Mapped[str] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), primary_key=True)
    marked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    rev: Mapped[int] = mapped_column(BigInteger)


class HubEpoch(Base):
    """One life of this hub's database: the first begins on its own, a new one at every restore from a backup.

    The newest epoch's id is in `GET /api/v1/status` and every sync answer. A classroom machine that sees it
    change resends the ops it retained from the hub's `acked_seq` on (docs/protocol.md, "Restores").
    """

    __tablename__ = "hub_epoch"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    epoch: Mapped[str] = mapped_column(String(36), unique=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(String(10))  # start, restore
    source: Mapped[str | None] = mapped_column(String(300))  # the backup restored, by its folder name


class DeviceRebase(Base):
    """After a restore, seqs a machine no longer held (beyond its retention window): skipped, on the record."""

    __tablename__ = "device_rebase"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("device.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[str] = mapped_column(String(36))
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
