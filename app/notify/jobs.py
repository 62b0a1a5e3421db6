"""What gets queued: the link when issued or rotated, the weekly digests, the class teachers' call lists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from app.base import settings
from app.base.calendar import monday, week_id
from app.base.extensions import db
from app.base.models import FamilyLink, Guardian, SchoolClass, Teacher, TeacherEmail
from app.base.settings import Settings
from app.base.text import short_name
from app.notify import compose
from app.notify.calls import silent_families
from app.notify.channels import address, usable_channels
from app.notify.config import notify_config
from app.notify.digest import FamilyWeek, family_weeks
from app.notify.optout import unsubscribe_url
from app.notify.outbox import Draft, enqueue
from static_site.access import FamilyAccess
from static_site.links import link_url
from sync import clock


def queue_link(link: FamilyLink, access: FamilyAccess, guardian: Guardian) -> None:
    """The hook static_site.links calls for every issued link: queue it by the guardian's usable channels."""
    conf = settings()
    today = conf.today(link.issued_at)
    channels = usable_channels([guardian.id], today).get(guardian.id, [])
    if not channels:
        return
    db.session.flush()  # the link's id
    rotated = any(other.guardian_id == guardian.id and other.revoked_reason == "rotated" and other.id != link.id
                  and other.revoked_at == link.issued_at for other in access.links)
    url, name = link_url(conf, link.token), access.family.name
    drafts = []
    for row in channels:
        to = address(guardian, row.channel)
        if not to:
            continue
        if row.channel == "sms":
            body = compose.link_sms(name, url, notify_config(conf).stop_word, rotated)
            subject, html = "", None
        else:
            subject, body, html = compose.link_email(guardian, name, conf.school_name, url, rotated)
        drafts.append(Draft(f"link:{link.id}:{row.channel}", "link", row.channel, to, subject, body, html,
                            guardian.id, access.family.id))
    enqueue(drafts, link.issued_at)


@dataclass
class DigestPlan:
    """What `notify digest` would queue (or queued)."""

    week: str
    drafts: list[Draft]
    families: int
    new: int = 0


def guardian_link(access: FamilyAccess, guardian_id: str) -> FamilyLink | None:
    """The guardian's own live link (never another guardian's or family's)."""
    own = [link for link in access.guardian_links if link.guardian_id == guardian_id]
    return own[-1] if own else None


def digest_drafts(conf: Settings, weeks: dict[str, FamilyWeek], today: dt.date) -> list[Draft]:
    """One draft per usable digest channel of every consenting guardian of every family."""
    ncfg = notify_config(conf)
    guardians = {g.id: g for w in weeks.values() for g in w.access.family.guardians if g.id in w.access.consenting}
    channels = usable_channels(list(guardians), today)
    drafts = []
    for family_id, week in sorted(weeks.items()):
        for guardian in week.access.family.guardians:
            if guardian.id not in week.access.consenting:
                continue
            link = guardian_link(week.access, guardian.id)
            url = link_url(conf, link.token) if link else None
            for row in channels.get(guardian.id, []):
                to = address(guardian, row.channel)
                if not row.digest or not to:
                    continue
                key = f"digest:{family_id}:{week.week}:{row.channel}:{guardian.id}"
                if row.channel == "sms":
                    drafts.append(Draft(key, "digest", "sms", to, "", compose.digest_sms(week, url, ncfg.stop_word),
                                        None, guardian.id, family_id))
                else:
                    subject, body, html = compose.digest_email(
                        week, guardian, url, conf.school_name, unsubscribe_url(ncfg, guardian.id, "email"))
                    drafts.append(Draft(key, "digest", "email", to, subject, body, html, guardian.id, family_id))
    return drafts


def plan_digests(conf: Settings, start: dt.date, family_ids: list[str] | None = None) -> DigestPlan:
    """The week's digests, not queued yet."""
    today = conf.today()
    weeks = family_weeks(conf, start, family_ids, today)
    return DigestPlan(week_id(start), digest_drafts(conf, weeks, today), len(weeks))


def queue_digests(conf: Settings, start: dt.date) -> DigestPlan:
    """Queue the week's digests; run twice, it queues nothing new (the caller commits)."""
    plan = plan_digests(conf, start)
    plan.new = enqueue(plan.drafts)
    return plan


@dataclass(frozen=True)
class CallRow:
    """A family a class teacher should phone: one line per guardian."""

    family_id: str
    family: str
    guardian: str
    phone: str


def call_list(conf: Settings, class_id: str, today: dt.date | None = None) -> list[CallRow]:
    """The class's silent families (app.notify.calls decides who) with each guardian's phone."""
    now = clock.now()
    today = today or conf.today(now)
    rows = [CallRow(s.family.id, s.family.name, g.full_name, g.phone)
            for s in silent_families(class_id, today, now) for g in s.family.guardians]
    return sorted(rows, key=lambda r: (r.family, r.guardian))


def queue_call_lists(conf: Settings, today: dt.date | None = None) -> int:
    """A weekly e-mail to each class teacher with an address: their class's call list (the caller commits)."""
    today = today or conf.today()
    start = monday(today)
    drafts = []
    for cls, teacher, mail in db.session.execute(
            select(SchoolClass, Teacher, TeacherEmail.email)
            .join(Teacher, Teacher.id == SchoolClass.homeroom_teacher_id)
            .join(TeacherEmail, TeacherEmail.teacher_id == Teacher.id)):
        rows = [(r.family, r.guardian, r.phone) for r in call_list(conf, cls.id, today)]
        name = short_name(teacher.first_name, teacher.middle_name, teacher.last_name)
        subject, body = compose.calls_email(name, cls.name, rows, start)
        drafts.append(Draft(f"calls:{cls.id}:{week_id(start)}", "calls", "email", mail, subject, body,
                            teacher_id=teacher.id))
    return enqueue(drafts, clock.now())
