"""Login throttling, kept in the database so that every worker process counts the same failures.

A login that failed FAILURES_PER_LOGIN times within WINDOW (since its last success) is refused without
checking the password until the oldest of those failures leaves the window. An address that failed more than
FREE_PER_ADDRESS times within WINDOW, whatever the logins, waits before each further try: 1 s after its last
failure, then twice as long with each failure, at most ADDRESS_DELAY_MAX. A growing delay, not a lock: many
people behind one address (a school's NAT, a misconfigured proxy) are slowed, never all shut out for the
window, while one guesser gets about one try a minute. The login key is the normalised login the password is
checked against (`app.staff.auth`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from app.base.extensions import db
from app.base.models import LoginAttempt
from app.base.text import aware
from sync import clock

WINDOW = dt.timedelta(minutes=15)
FAILURES_PER_LOGIN = 5
FREE_PER_ADDRESS = 10
ADDRESS_DELAY_MAX = dt.timedelta(minutes=1)
KEEP = dt.timedelta(days=30)


def wait_for(login: str, address: str, now: dt.datetime | None = None) -> dt.timedelta | None:
    """How long this login (or address) must wait before the next try, or None when it may try now."""
    now = now or clock.now()
    since = now - WINDOW
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.login == login, LoginAttempt.succeeded.is_(True))
    )
    if last_success is not None and aware(last_success) > since:
        since = aware(last_success)
    by_login = db.session.scalars(
        select(LoginAttempt.at).where(LoginAttempt.login == login, LoginAttempt.succeeded.is_(False),
                                      LoginAttempt.at > since).order_by(LoginAttempt.at.desc())
    ).all()
    waits = []
    if len(by_login) >= FAILURES_PER_LOGIN:
        waits.append(aware(by_login[FAILURES_PER_LOGIN - 1]) + WINDOW - now)
    by_address = db.session.scalars(
        select(LoginAttempt.at).where(LoginAttempt.address == address, LoginAttempt.succeeded.is_(False),
                                      LoginAttempt.at > now - WINDOW).order_by(LoginAttempt.at.desc())
    ).all() if address else []
    if len(by_address) > FREE_PER_ADDRESS:
        delay = min(ADDRESS_DELAY_MAX, dt.timedelta(seconds=2 ** min(len(by_address) - FREE_PER_ADDRESS - 1, 16)))
        waits.append(aware(by_address[0]) + delay - now)
    longest = max(waits, default=None)
    return longest if longest is not None and longest > dt.timedelta(0) else None


def record(login: str, address: str, succeeded: bool, now: dt.datetime | None = None) -> None:
    """Store one attempt (and forget attempts older than a month); the caller commits."""
    now = now or clock.now()
    db.session.add(LoginAttempt(login=login[:60], at=now, succeeded=succeeded, address=address[:64]))
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP))
