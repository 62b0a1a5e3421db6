"""`notify run`: queue alerts, deliver due messages by their transports, erase old texts, until stopped."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask

from app.base import settings
from app.base.extensions import db
from app.notify.alerts import queue_alerts
from app.notify.config import NotifyConfig, notify_config
from app.notify.outbox import PassReport, deliver_due, purge
from app.notify.transports import HttpSmsTransport, RateLimit, SmtpTransport, Transport


def default_transports(conf: NotifyConfig) -> dict[str, Transport]:
    """SMTP for e-mail and the HTTP gateway for SMS, as configured."""
    return {"email": SmtpTransport(conf.email), "sms": HttpSmsTransport(conf.sms)}


def run(app: Flask, poll: float = 5.0, echo: Callable[[str], None] = print, once: bool = False,
        transports: dict[str, Transport] | None = None, sleep: Callable[[float], None] = time.sleep) -> PassReport:
    """Loop: a delivery pass, then a pause when nothing was due; `once` stops after the queue is empty."""
    total = PassReport()
    with app.app_context():
        conf = notify_config(settings())
        chosen = transports or default_transports(conf)
        limits = {name: RateLimit(t.per_minute, sleep=sleep) for name, t in chosen.items()}
        while True:
            queue_alerts(settings())
            db.session.commit()
            report = deliver_due(conf, chosen, limits, settings().today())
            purge(conf)
            db.session.commit()
            for name in ("sent", "retried", "failed", "cancelled", "recovered"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.reasons += report.reasons
            if report.handled:
                echo(f"Отправлено {report.sent}, повтор позже {report.retried}, не отправлено {report.failed}, "
                     f"отменено {report.cancelled}.")
            elif once:
                return total
            else:
                sleep(poll)
