"""Transports behind one small interface: `send(Outgoing) -> provider id`, or an exception saying why not.

Errors:
    TransportError            — the message was not handed over
    ├── TemporaryFailure      — try again later (timeouts, 4xx SMTP, HTTP 5xx/429, a malformed answer);
    │                           `retry_after` when the other side named a wait
    └── PermanentFailure      — trying again cannot help (a refused address, HTTP 4xx)

Every transport gets `Outgoing.ref`, the same on every try of one message: SMTP puts it in `Message-ID`, the
SMS gateway receives it as `client_ref` and answers the first message's id again for a repeat, so a try that
timed out after the other side accepted it does not become a second message.
"""

from __future__ import annotations

import json
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

from app.notify.config import EmailConfig, SmsConfig
from sync import clock


class TransportError(Exception):
    """The message was not handed over; the text says why (kept in the send log)."""


class TemporaryFailure(TransportError):
    """Worth another try later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(TransportError):
    """Another try cannot help."""


@dataclass(frozen=True)
class Outgoing:
    """What a transport needs of one message."""

    ref: str  # stable over retries
    recipient: str
    subject: str
    body: str
    html: str | None = None
    unsubscribe_url: str | None = None


class Transport(Protocol):
    """Hands one message to the outside world."""

    channel: str
    per_minute: int

    def send(self, message: Outgoing) -> str:
        """Deliver, returning the other side's id for the message."""
        ...


class RateLimit:
    """At most `per_minute` sends a minute, spaced evenly: `wait()` sleeps until the next send may go."""

    def __init__(self, per_minute: int, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.sleep, self.monotonic = sleep, monotonic
        self.next_at: float | None = None

    def wait(self) -> None:
        """Block until a send is allowed, then count it."""
        now = self.monotonic()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def build_email(conf: EmailConfig, message: Outgoing) -> EmailMessage:
    """The e-mail: UTF-8 plain text (and an HTML part), Cyrillic subject encoded, a stable Message-ID."""
    mail = EmailMessage()
    mail["From"] = conf.sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(clock.now())
    domain = conf.sender.rsplit("@", 1)[-1].strip(" >") or "tetrad.local"
    mail["Message-ID"] = f"<{re.sub(r'[^A-Za-z0-9.-]', '.', message.ref)}@{domain}>"
    if message.unsubscribe_url:
        mail["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.body, charset="utf-8")
    if message.html:
        mail.add_alternative(message.html, subtype="html", charset="utf-8")
    return mail


class SmtpTransport:
    """E-mail through an SMTP server (smtplib): plain, STARTTLS or implicit TLS, with a login if configured."""

    channel = "email"

    def __init__(self, conf: EmailConfig) -> None:
        self.conf = conf
        self.per_minute = conf.per_minute

    def _connect(self) -> smtplib.SMTP:
        conf = self.conf
        context = ssl.create_default_context()
        if conf.security == "tls":
            return smtplib.SMTP_SSL(conf.host, conf.port, timeout=conf.timeout, context=context)
        server = smtplib.SMTP(conf.host, conf.port, timeout=conf.timeout)
        if conf.security == "starttls":
            server.starttls(context=context)
        return server

    def send(self, message: Outgoing) -> str:
        """Hand the e-mail to the server; its Message-ID is the id."""
        mail = build_email(self.conf, message)
        try:
            with self._connect() as server:
                if self.conf.username:
                    server.login(self.conf.username, self.conf.password)
                server.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise (PermanentFailure if code >= 500 else TemporaryFailure)(
                f"SMTP {code}: {text.decode(errors='replace')}") from None
        except smtplib.SMTPResponseException as exc:
            said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            if exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError):
                raise PermanentFailure(f"SMTP {exc.smtp_code}: {said}") from None
            raise TemporaryFailure(f"SMTP {exc.smtp_code}: {said}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"SMTP: {type(exc).__name__}: {exc}") from None
        return str(mail["Message-ID"])


def phone_number(text: str) -> str | None:
    """+79001234567 from «+7 900 123-45-67» or «8 900 …»; None when it is not a phone number."""
    digits = re.sub(r"[^\d]", "", text)
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    return f"+{digits}" if 10 <= len(digits) <= 15 else None


class HttpSmsTransport:
    """SMS through the example gateway's JSON API (docs/notifications.md): POST, Bearer token, an id back."""

    channel = "sms"

    def __init__(self, conf: SmsConfig) -> None:
        self.conf = conf
        self.per_minute = conf.per_minute
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def send(self, message: Outgoing) -> str:
        """POST the text; 2xx with {"id": …} is sent, 429/5xx/timeouts/garbage are retried, other 4xx fail."""
        phone = phone_number(message.recipient)
        if phone is None:
            raise PermanentFailure(f"не номер телефона: {message.recipient!r}")
        payload = {"to": phone, "text": message.body, "sender": self.conf.sender, "client_ref": message.ref}
        request = urllib.request.Request(self.conf.url, data=json.dumps(payload, ensure_ascii=False).encode(),
                                         method="POST", headers={"Content-Type": "application/json; charset=utf-8",
                                                                 "Accept": "application/json"})
        if self.conf.token:
            request.add_header("Authorization", f"Bearer {self.conf.token}")
        try:
            with self.opener.open(request, timeout=self.conf.timeout) as response:
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            detail = exc.read(300).decode(errors="replace").strip()
            if exc.code == 429 or exc.code >= 500:
                wait = _retry_after(exc.headers.get("Retry-After"))
                raise TemporaryFailure(f"HTTP {exc.code} {detail}".strip(), wait) from None
            raise PermanentFailure(f"HTTP {exc.code} {detail}".strip()) from None
        except TimeoutError:
            raise TemporaryFailure(f"нет ответа шлюза за {self.conf.timeout:g} с") from None
        except (urllib.error.URLError, OSError) as exc:
            raise TemporaryFailure(f"шлюз недоступен: {getattr(exc, 'reason', exc)}") from None
        try:
            answer = json.loads(raw)
            provider_id = answer["id"]
            if not isinstance(provider_id, str | int) or isinstance(provider_id, bool) or str(provider_id) == "":
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise TemporaryFailure(f"непонятный ответ шлюза: {raw[:80]!r}") from None
        return str(provider_id)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None

