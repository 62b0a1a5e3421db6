"""The `notify` section of config.yaml as typed values, with the secrets read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

from app.base.settings import Settings


@dataclass(frozen=True)
class EmailConfig:
    host: str
    port: int
    security: str  # none, starttls, tls
    username: str
    password: str
    sender: str
    per_minute: int
    timeout: float


@dataclass(frozen=True)
class SmsConfig:
    url: str
    token: str
    sender: str
    per_minute: int
    timeout: float


@dataclass(frozen=True)
class NotifyConfig:
    hub_url: str
    body_days: int
    max_attempts: int
    retry_seconds: int
    lease_seconds: int
    stop_word: str
    email: EmailConfig
    sms: SmsConfig


def notify_config(conf: Settings, environ: dict[str, str] | None = None) -> NotifyConfig:
    """The notify settings; secrets come from the environment variables the file names."""
    env = dict(os.environ if environ is None else environ)
    raw = conf.notify
    mail, sms = raw["email"], raw["sms"]
    return NotifyConfig(
        hub_url=raw["hub_url"].rstrip("/"),
        body_days=raw["body_days"],
        max_attempts=max(1, raw["max_attempts"]),
        retry_seconds=raw["retry_seconds"],
        lease_seconds=raw["lease_seconds"],
        stop_word=raw["sms_stop_word"],
        email=EmailConfig(mail["host"], mail["port"], mail["security"], env.get(mail["username_env"], ""),
                          env.get(mail["password_env"], ""), mail["sender"], mail["per_minute"],
                          float(mail["timeout_seconds"])),
        sms=SmsConfig(sms["url"], env.get(sms["token_env"], ""), sms["sender"], sms["per_minute"],
                      float(sms["timeout_seconds"])),
    )
