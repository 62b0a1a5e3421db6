"""Reaching families: the link by SMS and e-mail, the weekly digest, the class teacher's call list.

Layout: `config` (the `notify` section of config.yaml, secrets from the environment), `channels` (each
guardian's channels with consent and opt-out), `segments` (SMS length as GSM-7/UCS-2 count it), `digest`
(a family's week, children from static_site.access only), `compose` (the texts), `outbox` (durable queue,
retries, idempotence), `transports` (SMTP, the HTTP SMS gateway), `jobs` (what is queued when), `optout`
and `web` (unsubscribe link, SMS reply hook), `worker` (`flask --app wsgi notify run`).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Queue link messages when links are issued; serve the unsubscribe page and the SMS reply hook."""
    from app.notify import jobs, web
    from static_site import links

    if jobs.queue_link not in links.ISSUED:
        links.ISSUED.append(jobs.queue_link)
    app.register_blueprint(web.bp)
