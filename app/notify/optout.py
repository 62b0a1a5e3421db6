"""Opting out from the message itself: a signed unsubscribe link in every e-mail, a reply word for SMS.

The link's token is signed with the hub's secret key (older keys still verify) and names a guardian and a
channel, nothing else; opening it shows a button, and only the POST (the button, or a mail client's one-click
`List-Unsubscribe-Post`) switches the channel off, so a link scanner cannot unsubscribe anyone.
"""

from __future__ import annotations

import datetime as dt

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Guardian, GuardianChannel
from app.notify.config import NotifyConfig
from app.notify.transports import phone_number

SALT = "tetrad-notify-unsubscribe"


def _serializer() -> URLSafeSerializer:
    keys = [current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", [])]
    return URLSafeSerializer(list(reversed(keys)), salt=SALT)  # the last key signs, all verify


def unsubscribe_token(guardian_id: str, channel: str) -> str:
    """A token that switches this guardian's channel off."""
    return str(_serializer().dumps({"g": guardian_id, "c": channel}))


def unsubscribe_url(conf: NotifyConfig, guardian_id: str, channel: str) -> str:
    """The link an e-mail carries."""
    return f"{conf.hub_url}/notify/unsubscribe/{unsubscribe_token(guardian_id, channel)}"


def read_token(token: str) -> tuple[str, str] | None:
    """(guardian id, channel) of a valid token, or None."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("g"), str) or data.get("c") not in ("sms", "email"):
        return None
    return data["g"], data["c"]


def opt_out(guardian_id: str, channel: str, via: str, now: dt.datetime) -> bool:
    """Switch the channel off (the caller commits); False when it was off already or does not exist."""
    row = db.session.scalars(select(GuardianChannel).where(
        GuardianChannel.guardian_id == guardian_id, GuardianChannel.channel == channel)).first()
    if row is None or row.opted_out_at is not None:
        return False
    row.opted_out_at, row.opted_out_via = now, via
    return True


def is_stop_word(conf: NotifyConfig, text: str) -> bool:
    """Whether an SMS reply asks to stop: the configured word or STOP, in any case, alone."""
    word = text.strip().strip(".!").casefold()
    return word in {conf.stop_word.casefold(), "stop"}


def sms_reply(conf: NotifyConfig, phone: str, text: str, now: dt.datetime) -> int:
    """A reply from a phone: the stop word switches SMS off for every guardian with that number."""
    number = phone_number(phone)
    if number is None or not is_stop_word(conf, text):
        return 0
    stopped = 0
    for guardian in db.session.scalars(select(Guardian).where(Guardian.phone != "")):
        if phone_number(guardian.phone) == number and opt_out(guardian.id, "sms", "sms_reply", now):
            stopped += 1
    return stopped
