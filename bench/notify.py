"""Weekly digests for every demo family: prepared (content, texts, SMS segment counts) within 2 s.

Prints the time to prepare every digest of the demo school (each guardian given SMS and, where they have an
address, e-mail), the number of families and messages, the longest SMS in segments, and the sending time
the configured rate limits imply for that many messages.
"""

from __future__ import annotations

import datetime as dt
import gc
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from app.base import settings
from app.base.calendar import monday
from app.base.extensions import db
from app.base.models import Family, Guardian
from app.notify.channels import set_channel
from app.notify.config import notify_config
from app.notify.jobs import plan_digests
from app.notify.segments import segments
from bench.site_build import prepare

BUDGET_SECONDS = 2.0


def run() -> None:
    """Print the digest figures for the demo school."""
    with tempfile.TemporaryDirectory() as folder:
        app = prepare(Path(folder))
        with app.app_context():
            for guardian in db.session.scalars(select(Guardian)):
                set_channel(guardian.id, "sms", dt.date(2026, 9, 1))
                if guardian.email:
                    set_channel(guardian.id, "email", dt.date(2026, 9, 1))
            db.session.commit()
        # As `notify digest` meets it: a fresh session, not the demo build's garbage (collected first).
        gc.collect()
        with app.app_context():
            conf = settings()
            start = monday(conf.today()) - dt.timedelta(days=7)
            began = time.perf_counter()
            plan = plan_digests(conf, start)
            seconds = time.perf_counter() - began
            sms = [d for d in plan.drafts if d.channel == "sms"]
            mail = len(plan.drafts) - len(sms)
            ncfg = notify_config(conf)
            everyone = db.session.scalar(select(func.count()).select_from(Family))
            print(f"notify: digests for {plan.families} of {everyone} families (the others may be shown no child)"
                  f" ({len(sms)} SMS, {mail} e-mails) prepared in "
                  f"{seconds:.2f} s (budget {BUDGET_SECONDS:.0f} s: {'ok' if seconds <= BUDGET_SECONDS else 'OVER'})")
            print(f"notify: longest SMS {max(segments(d.body) for d in sms)} segments (limit 2); sending at "
                  f"{ncfg.sms.per_minute} SMS/min and {ncfg.email.per_minute} e-mails/min takes "
                  f"{len(sms) / max(ncfg.sms.per_minute, 1):.0f} and {mail / max(ncfg.email.per_minute, 1):.0f} min")
