"""Invitation codes (пригласительный код, 002 reg. §2.17.1): a short code read out by phone that opens a link once.

RULES:
1. A code is nine random digits (`secrets`), shown to staff once when issued (read out as «123 456 789»);
   only its SHA-256 is kept. It belongs to one live link and opens it once: typed on the hub's page `/code`,
   it sends the family to the link's address and is used up.
2. A code expires `access.code_hours` after it was issued (default 72); a code of a link that is no longer
   live (revoked, no consent, no child to show) opens nothing.
3. Wrong tries lock: an address with LOCK_AFTER wrong codes (unknown, used, expired) within WINDOW may not try
   again until the oldest of them leaves the window; and the whole hub accepts at most HUB_LIMIT wrong codes
   per WINDOW, so guessing from many addresses gets nowhere (10⁹ codes, a few dozen live at a time). A code
   that is not nine digits is a typing error, answered without counting.
4. Codes never reach a log: they travel in a POST body, are never put in an address, and the tries are
   counted by address alone (`staff_login_attempt` rows with the login LOGIN_KEY).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from app.base.extensions import db
from app.base.models import FamilyLink, InvitationCode, LoginAttempt
from app.base.text import aware
from static_site.access import live_link

DIGITS = 9
WINDOW = dt.timedelta(minutes=15)
LOCK_AFTER = 5
HUB_LIMIT = 200
LOGIN_KEY = "@invitation-code"  # the tries' rows in staff_login_attempt: never a code, never a login
KEEP = dt.timedelta(days=30)


def new_code() -> str:
    """Nine random digits."""
    return "".join(secrets.choice("0123456789") for _ in range(DIGITS))


def spoken(code: str) -> str:
    """The code as staff read it out: 123 456 789."""
    return " ".join(code[i:i + 3] for i in range(0, len(code), 3))


def digest(code: str) -> str:
    """The stored form of a code."""
    return hashlib.sha256(code.encode()).hexdigest()


def typed(text: str) -> str | None:
    """The code in what a family typed (spaces, dashes allowed), or None when it is not nine digits."""
    digits = re.sub(r"[\s\-‐–—.]", "", text)
    return digits if re.fullmatch(rf"\d{{{DIGITS}}}", digits) else None


def issue_code(link: FamilyLink, by: str, now: dt.datetime, hours: int) -> str:
    """A new code for a link (the caller commits); the code itself is returned once and never stored."""
    while True:
        code = new_code()
        if db.session.scalar(select(InvitationCode.id).where(InvitationCode.code_hash == digest(code))) is None:
            break
    db.session.add(InvitationCode(code_hash=digest(code), link_id=link.id, created_by=by, created_at=now,
                                  expires_at=now + dt.timedelta(hours=hours)))
    return code


def locked_for(address: str, now: dt.datetime) -> dt.timedelta | None:
    """How long this address (or, past the hub's limit, everyone) must wait before trying a code again."""
    since = now - WINDOW
    wrong = select(LoginAttempt.at).where(LoginAttempt.login == LOGIN_KEY, LoginAttempt.succeeded.is_(False),
                                          LoginAttempt.at > since)
    mine = db.session.scalars(wrong.where(LoginAttempt.address == address).order_by(LoginAttempt.at.desc())).all()
    waits = []
    if len(mine) >= LOCK_AFTER:
        waits.append(aware(mine[LOCK_AFTER - 1]) + WINDOW - now)
    everyone = db.session.scalar(select(func.count()).select_from(wrong.subquery())) or 0
    if everyone >= HUB_LIMIT:
        oldest = db.session.scalar(select(func.min(LoginAttempt.at)).where(
            LoginAttempt.login == LOGIN_KEY, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since))
        if oldest is not None:
            waits.append(aware(oldest) + WINDOW - now)
    longest = max(waits, default=None)
    return longest if longest is not None and longest > dt.timedelta(0) else None


@dataclass(frozen=True)
class Outcome:
    """What a typed code did: the link it opened, or the Russian reason it opened nothing."""

    link: FamilyLink | None
    reason: str = ""


def redeem(code: str, address: str, today: dt.date, now: dt.datetime) -> Outcome:
    """Use a code (nine digits already): its link when it is valid, else why not; a wrong code is counted."""
    found = db.session.scalars(select(InvitationCode).where(InvitationCode.code_hash == digest(code))).first()
    reason = ""
    if found is None:
        reason = "Такого кода нет. Проверьте цифры или попросите классного руководителя продиктовать код ещё раз."
    elif found.used_at is not None:
        reason = "Этот код уже использован. Если ссылка потерялась, попросите у классного руководителя новый код."
    elif aware(found.expires_at) <= now:
        reason = "Срок действия кода истёк. Попросите у классного руководителя новый код."
    link = None
    if found is not None and not reason:
        link_row = db.session.get(FamilyLink, found.link_id)
        live = live_link(link_row.token, today, now) if link_row is not None else None
        if live is None:
            reason = "Ссылка, к которой относится код, больше не действует. Обратитесь к классному руководителю."
        else:
            link = live[0]
            found.used_at = now
    db.session.add(LoginAttempt(login=LOGIN_KEY, at=now, succeeded=link is not None, address=address[:64]))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.login == LOGIN_KEY, LoginAttempt.at < now - KEEP))
    return Outcome(link, reason)
