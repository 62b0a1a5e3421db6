"""Recording consent and access requests: who recorded what, when; refusal reasons; working-day deadlines.

Consent rows are only ever added (the history); a guardian's state is decided by static_site.access. The
staff pages, the `consent` commands and the spreadsheet import all record through these functions.
Deciding a request (issuing a link) is static_site.requests, one layer up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import AccessRequest, Consent, Family, Guardian, Student
from app.base.models.access import REFUSAL_CODES
from app.base.rebuild_queue import mark_families_dirty
from sync import clock

CHANNELS = {"link": "ссылка", "paper": "бумага", "both": "ссылка и бумага"}
# 002 reg. §2.12: the exhaustive list of reasons to refuse (§2.13), worded as in the decision's appendix.
REFUSAL_REASONS: dict[str, str] = dict(zip(REFUSAL_CODES, (
    "запрос подан лицом, не относящимся к заявителям, предусмотренным настоящим Регламентом",
    "лицо, получение информации о текущей успеваемости и посещаемости которого запрашивается заявителем, "
    "не является обучающимся школы",
    "обучающийся, получение информации о текущей успеваемости и посещаемости которого запрашивается "
    "заявителем, достиг возраста 18 лет",
    "представленные заявителем документы не соответствуют установленным требованиям",
    "в представленных заявителем документах содержатся противоречивые сведения",
    "подача заявителем заявления об отказе в получении услуги",
), strict=True))


class ConsentRefused(Exception):
    """The consent or request cannot be recorded as asked; the message says why, in Russian."""


def working_days_after(start: dt.date, end: dt.date) -> int:
    """Working days (Monday to Friday) after `start` up to and including `end`: §2.11 counts from the next day."""
    days, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        days += day.weekday() < 5
    return days


def due_on(received: dt.date, working_days: int) -> dt.date:
    """The last day a request received on `received` may be decided."""
    day, left = received, working_days
    while left > 0:
        day += dt.timedelta(days=1)
        left -= day.weekday() < 5
    return day


def _families_of(guardian: Guardian) -> list[Family]:
    return list(db.session.scalars(select(Family).where(Family.guardians.any(Guardian.id == guardian.id))))


def record_consent(guardian: Guardian, on: dt.date, basis: str, channel: str, by: str,
                   request: AccessRequest | None = None) -> Consent:
    """Add a "given" consent record for the guardian; their families' pages follow at the next build."""
    if channel not in CHANNELS:
        raise ConsentRefused(f"Способ «{channel}»: нужно link, paper или both.")
    consent = Consent(guardian_id=guardian.id, state="given", on=on, basis=basis.strip()[:200], channel=channel,
                      recorded_by=by, recorded_at=clock.now(), request_id=request.id if request else None)
    db.session.add(consent)
    mark_families_dirty({f.id for f in _families_of(guardian)})
    return consent


def withdraw_consent(guardian: Guardian, on: dt.date, basis: str, by: str) -> Consent:
    """Add a withdrawal (a written statement, `basis`): the guardian's links stop at the next build."""
    if not basis.strip():
        raise ConsentRefused("Укажите письменное заявление об отзыве согласия (номер и дату).")
    last = latest_consent(guardian.id)
    channel = last.channel if last else "link"
    consent = Consent(guardian_id=guardian.id, state="withdrawn", on=on, basis=basis.strip()[:200], channel=channel,
                      recorded_by=by, recorded_at=clock.now())
    db.session.add(consent)
    mark_families_dirty({f.id for f in _families_of(guardian)})
    return consent


def history(guardian_id: str) -> list[Consent]:
    """A guardian's consent records, newest first (withdrawal first on the same day)."""
    records = list(db.session.scalars(select(Consent).where(Consent.guardian_id == guardian_id)))
    return sorted(records, key=lambda c: (c.on, c.state == "withdrawn", c.recorded_at or dt.datetime.min.replace(
        tzinfo=dt.UTC)), reverse=True)


def latest_consent(guardian_id: str) -> Consent | None:
    """The newest consent record of a guardian, or None."""
    records = history(guardian_id)
    return records[0] if records else None


def record_request(family: Family, guardian: Guardian, students: Iterable[Student], received_on: dt.date,
                   basis: str, channel: str, contact: str, by: str) -> AccessRequest:
    """A guardian's request for the diary of some of the family's children, waiting for a decision."""
    chosen = list(students)
    if guardian.id not in {g.id for g in family.guardians}:
        raise ConsentRefused(f"{guardian.full_name} не входит в семью «{family.name}».")
    if not chosen:
        raise ConsentRefused("Отметьте хотя бы одного ребёнка, о котором запрос.")
    outside = [s.full_name for s in chosen if s not in family.students]
    if outside:
        raise ConsentRefused(f"Не из семьи «{family.name}»: {', '.join(outside)}.")
    if channel not in CHANNELS:
        raise ConsentRefused(f"Способ «{channel}»: нужно link, paper или both.")
    request = AccessRequest(guardian_id=guardian.id, family_id=family.id, received_on=received_on,
                            basis=basis.strip()[:300], channel=channel, contact=contact.strip()[:200],
                            recorded_by=by, recorded_at=clock.now(), state="pending", students=chosen)
    db.session.add(request)
    db.session.flush()
    return request


def waiting_requests() -> list[AccessRequest]:
    """Requests not yet decided, oldest first."""
    return list(db.session.scalars(select(AccessRequest).where(AccessRequest.state == "pending")
                                   .order_by(AccessRequest.received_on, AccessRequest.recorded_at)))
