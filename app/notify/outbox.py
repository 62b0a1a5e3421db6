"""The durable outbox: queue a message once, hand it to its transport, retry with backoff, keep the log.

ALGORITHM (one `deliver_due` pass):
1. Recover: a message left `sending` longer than `lease_seconds` (its worker died mid-send) goes back to
   `queued`; its next try carries the same `ref`, so the other side can tell a repeat.
2. Pick the due `queued` messages, oldest first.
3. Claim each with a conditional UPDATE (`queued` → `sending`) and commit, so two workers never both send it.
4. Check it may still go: the channel still consented and not opted out, a link message's link still live.
   Otherwise `cancelled` with the reason.
5. Wait for the transport's rate limit, send, and record the outcome in one commit:
   sent → `sent` with the provider's id; a temporary failure → `queued` again after retry·2^(attempts-1) s
   (or the other side's Retry-After, if longer) until `max_attempts`, then `failed`; a permanent one → `failed`.
Each try is a `NotifyAttempt` row. `purge` erases subjects and texts older than `body_days` of final messages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.base.extensions import db
from app.base.models import FamilyLink, GuardianChannel, NotifyAttempt, NotifyMessage
from app.base.text import aware
from app.notify.config import NotifyConfig
from app.notify.optout import unsubscribe_url
from app.notify.transports import Outgoing, PermanentFailure, RateLimit, TemporaryFailure, Transport
from sync import clock

FINAL = ("sent", "failed", "cancelled")


@dataclass(frozen=True)
class Draft:
    """A message to queue."""

    dedup_key: str
    kind: str
    channel: str
    recipient: str
    subject: str
    body: str
    html: str | None = None
    guardian_id: str | None = None
    family_id: str | None = None
    teacher_id: str | None = None


def enqueue(drafts: Sequence[Draft], now: dt.datetime | None = None) -> int:
    """Queue the drafts whose dedup key is new (the caller commits); returns how many were new."""
    if not drafts:
        return 0
    now = now or clock.now()
    keys = [d.dedup_key for d in drafts]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        known |= set(db.session.scalars(select(NotifyMessage.dedup_key).where(
            NotifyMessage.dedup_key.in_(keys[start:start + 500]))))
    fresh = [d for d in drafts if d.dedup_key not in known]
    if not fresh:
        return 0
    rows = [{"dedup_key": d.dedup_key, "kind": d.kind, "channel": d.channel, "recipient": d.recipient,
             "subject": d.subject, "body": d.body, "html": d.html, "guardian_id": d.guardian_id,
             "family_id": d.family_id, "teacher_id": d.teacher_id, "state": "queued", "attempts": 0,
             "created_at": now, "next_try_at": now, "last_error": "", "provider_id": ""} for d in fresh]
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # A second job racing this one: the unique key decides, the loser's rows are dropped.
    db.session.execute(insert(NotifyMessage).on_conflict_do_nothing(index_elements=["dedup_key"]), rows)
    return len(fresh)


def ref_of(message: NotifyMessage) -> str:
    """The message's reference for the transport: stable over retries, reveals nothing."""
    return "tetrad-" + hashlib.sha256(message.dedup_key.encode()).hexdigest()[:24]


@dataclass
class PassReport:
    """What one delivery pass did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    recovered: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.cancelled


def recover(conf: NotifyConfig, now: dt.datetime) -> int:
    """Put messages a dead worker left `sending` back in the queue."""
    stale = now - dt.timedelta(seconds=conf.lease_seconds)
    ids = list(db.session.scalars(select(NotifyMessage.id).where(
        NotifyMessage.state == "sending", NotifyMessage.claimed_at < stale)))
    for message_id in ids:
        db.session.add(NotifyAttempt(message_id=message_id, at=now, outcome="retry",
                                     detail="прервано: обработчик остановился во время отправки"))
    if ids:
        db.session.execute(update(NotifyMessage).where(NotifyMessage.id.in_(ids), NotifyMessage.state == "sending")
                           .values(state="queued", next_try_at=now, claimed_at=None))
    db.session.commit()
    return len(ids)


def _claim(message_id: int, now: dt.datetime) -> bool:
    result: Any = db.session.execute(update(NotifyMessage).where(
        NotifyMessage.id == message_id, NotifyMessage.state == "queued").values(state="sending", claimed_at=now))
    db.session.commit()
    return bool(result.rowcount == 1)


def _still_allowed(message: NotifyMessage, today: dt.date) -> str | None:
    """Why the message may no longer go, or None."""
    if message.body is None:
        return "текст сообщения уже удалён по сроку хранения"
    if message.guardian_id is not None:
        channel = db.session.scalars(select(GuardianChannel).where(
            GuardianChannel.guardian_id == message.guardian_id, GuardianChannel.channel == message.channel)).first()
        if channel is None or not channel.usable(today):
            return "канал отключён: нет согласия или получатель отписался"
    if message.kind == "link":
        link = db.session.get(FamilyLink, message.dedup_key.split(":")[1])
        if link is None or link.revoked_at is not None:
            return "ссылка уже заменена или отозвана"
    return None


def _finish(message: NotifyMessage, state: str, now: dt.datetime, outcome: str, detail: str) -> None:
    message.state, message.claimed_at = state, None
    message.last_error = detail[:500] if state != "sent" else ""
    db.session.add(NotifyAttempt(message_id=message.id, at=now, outcome=outcome, detail=detail[:500]))


def deliver_one(conf: NotifyConfig, message: NotifyMessage, transport: Transport, limit: RateLimit,
                report: PassReport, today: dt.date) -> None:
    """Steps 4–5 for one claimed message."""
    reason = _still_allowed(message, today)
    if reason is not None:
        _finish(message, "cancelled", clock.now(), "cancelled", reason)
        report.cancelled += 1
        db.session.commit()
        return
    limit.wait()
    outgoing = Outgoing(ref_of(message), message.recipient, message.subject, message.body or "", message.html,
                        unsubscribe_url=None)
    if message.channel == "email" and message.guardian_id:
        outgoing = Outgoing(outgoing.ref, outgoing.recipient, outgoing.subject, outgoing.body, outgoing.html,
                            unsubscribe_url(conf, message.guardian_id, "email"))
    message.attempts += 1
    try:
        provider_id = transport.send(outgoing)
    except TemporaryFailure as exc:
        now = clock.now()
        if message.attempts >= conf.max_attempts:
            _finish(message, "failed", now, "failed", f"{exc} (попыток: {message.attempts})")
            report.failed += 1
        else:
            wait = conf.retry_seconds * 2 ** (message.attempts - 1)
            wait = max(wait, exc.retry_after or 0)
            message.next_try_at = now + dt.timedelta(seconds=wait)
            _finish(message, "queued", now, "retry", str(exc))
            report.retried += 1
        report.reasons.append(str(exc))
    except PermanentFailure as exc:
        _finish(message, "failed", clock.now(), "failed", str(exc))
        report.failed += 1
        report.reasons.append(str(exc))
    else:
        now = clock.now()
        message.sent_at, message.provider_id = now, provider_id[:100]
        _finish(message, "sent", now, "sent", provider_id)
        report.sent += 1
    db.session.commit()


def deliver_due(conf: NotifyConfig, transports: dict[str, Transport], limits: dict[str, RateLimit],
                today: dt.date, batch: int = 100) -> PassReport:
    """One pass over the due messages of the channels that have a transport."""
    report = PassReport()
    now = clock.now()
    report.recovered = recover(conf, now)
    due = list(db.session.scalars(select(NotifyMessage.id).where(
        NotifyMessage.state == "queued", NotifyMessage.next_try_at <= now,
        NotifyMessage.channel.in_(list(transports))).order_by(NotifyMessage.next_try_at, NotifyMessage.id)
        .limit(batch)))
    for message_id in due:
        if not _claim(message_id, clock.now()):
            continue
        message = db.session.get(NotifyMessage, message_id)
        assert message is not None
        deliver_one(conf, message, transports[message.channel], limits[message.channel], report, today)
    return report


def purge(conf: NotifyConfig, now: dt.datetime | None = None) -> int:
    """Erase the texts of final messages older than `body_days` (the caller commits)."""
    now = now or clock.now()
    cutoff = now - dt.timedelta(days=conf.body_days)
    result: Any = db.session.execute(update(NotifyMessage).where(
        NotifyMessage.state.in_(FINAL), NotifyMessage.created_at < cutoff, NotifyMessage.purged_at.is_(None))
        .values(subject="", body=None, html=None, purged_at=now))
    return int(result.rowcount or 0)


def queue_state() -> dict[str, Any]:
    """Counts per state, the oldest waiting message and the latest failures (for `notify status`, the dashboard)."""
    counts = dict(db.session.execute(select(NotifyMessage.state, func.count()).group_by(NotifyMessage.state)).all())
    oldest = db.session.scalar(select(func.min(NotifyMessage.created_at)).where(NotifyMessage.state == "queued"))
    failures = list(db.session.scalars(select(NotifyMessage).where(NotifyMessage.state == "failed")
                                       .order_by(NotifyMessage.id.desc()).limit(10)))
    return {"counts": {s: int(counts.get(s, 0)) for s in ("queued", "sending", "sent", "failed", "cancelled")},
            "oldest": aware(oldest) if oldest else None, "failures": failures}
