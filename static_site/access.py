"""Who may see what: the one place that decides which children a family's links show.

RULES (152-ФЗ; 000 §1, 001 §2.2 and §2.4, 002 reg. §2.12):
1. A family shows children only while its channel includes the link (`link` or `both`) and at least one of
   its guardians has consent to personal-data processing given and not withdrawn.
2. A child is shown while enrolled (enrolled_on ≤ today < left_on) and younger than 18.
3. A link is live while it is not revoked, not expired, its guardian still belongs to the family and has
   consent given (not withdrawn) in their own name, and the family shows at least one child. A family with
   no child left has no live link: its page sets are removed at the next build.
4. A student's own link (002 §1.9, §3.6.9; 001 §2.10.1; `FamilyLink.student_id`) shows that one student
   only, never a sibling: it is live while rule 3 holds for the guardian whose consent it was issued under,
   and the student is one of the family's shown children aged `access.student_min_age` (default 14) or more.

A guardian's consent state is the latest record dated today or earlier; on one day a withdrawal wins.
A consent recorded with an access request (002 reg. §2.6) counts only once that request is decided "issued":
while it waits, or when it is refused (§2.12), the consent record is not in force.
The pages, the paper slips and any future API ask these functions, never the tables directly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.base import settings
from app.base.extensions import db
from app.base.journal_store import chunks
from app.base.models import AccessRequest, Consent, Family, FamilyLink, Student
from app.base.text import aware
from sync import clock

LINK_CHANNELS = ("link", "both")
ADULT_AGE = 18


def age_on(birth: dt.date, day: dt.date) -> int:
    """Full years of age on a day (a 29 February birthday counts from 1 March in other years)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def child_visible(student: Student, today: dt.date) -> bool:
    """Whether the student is enrolled today and under 18."""
    return student.active_on(today) and age_on(student.birth_date, today) < ADULT_AGE


def consent_given(records: Iterable[Consent], today: dt.date, issued: Collection[str] = ()) -> bool:
    """Whether the latest consent record in force (dated today or earlier, its request issued) says "given"."""
    effective = [c for c in records if c.on <= today and (c.request_id is None or c.request_id in issued)]
    if not effective:
        return False
    latest = max(effective, key=lambda c: (c.on, c.state == "withdrawn"))
    return latest.state == "given"


def link_expired(link: FamilyLink, now: dt.datetime) -> bool:
    """Whether the link's expiry moment has passed."""
    if link.expires_at is None:
        return False
    return aware(link.expires_at) <= now


@dataclass
class FamilyAccess:
    """What a family may see today: its visible children and its live links."""

    family: Family
    consenting: set[str] = field(default_factory=set)  # guardian ids with consent given
    children: list[Student] = field(default_factory=list)
    links: list[FamilyLink] = field(default_factory=list)
    live: list[FamilyLink] = field(default_factory=list)

    @property
    def guardian_links(self) -> list[FamilyLink]:
        """The live links of guardians (the family's pages), never a student's own (rule 4): what messages and
        slips hand to guardians."""
        return [link for link in self.live if link.student_id is None]

    def shown(self, link: FamilyLink) -> list[Student]:
        """The children this link's pages show: the family's, or the student's own diary only (rule 4)."""
        if link.student_id is None:
            return self.children
        return [s for s in self.children if s.id == link.student_id]

    def digest(self, link: FamilyLink | None = None) -> str:
        """Which children a link's pages show (the family's when no link is given): stored with each published link."""
        children = self.shown(link) if link is not None else self.children
        own = [f"student:{link.student_id}"] if link is not None and link.student_id else []
        text = ",".join([self.family.id, *own, *(s.id for s in children)])
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def student_link_allowed(student: Student, today: dt.date, min_age: int) -> bool:
    """Whether a student may hold a link of their own today: enrolled, under 18, at least `min_age` (rule 4)."""
    return child_visible(student, today) and age_on(student.birth_date, today) >= min_age


def _decide(access: FamilyAccess, today: dt.date, now: dt.datetime, min_age: int) -> None:
    """Apply the rules to one family whose guardians' consent is already known."""
    family = access.family
    if family.channel in LINK_CHANNELS and access.consenting:
        children = [s for s in family.students if child_visible(s, today)]
        access.children = sorted(children, key=lambda s: (s.birth_date, s.last_name, s.first_name, s.id))
    members = {g.id for g in family.guardians}
    access.live = [
        link for link in access.links
        if access.children and link.revoked_at is None and not link_expired(link, now)
        and link.guardian_id in members and link.guardian_id in access.consenting
        and (link.student_id is None or any(student_link_allowed(s, today, min_age) for s in access.shown(link)))
    ]


def family_access(family_ids: Collection[str] | None, today: dt.date,
                  now: dt.datetime | None = None) -> dict[str, FamilyAccess]:
    """The access of these families (all when None), loaded in a few queries."""
    now = now or clock.now()
    min_age = settings().student_min_age
    query = select(Family).options(selectinload(Family.guardians), selectinload(Family.students))
    families: list[Family] = []
    if family_ids is None:
        families = list(db.session.scalars(query))
    else:
        for part in chunks(family_ids):
            families += db.session.scalars(query.where(Family.id.in_(part)))
    result = {f.id: FamilyAccess(f) for f in families}
    guardian_ids = {g.id for f in families for g in f.guardians}
    consents: dict[str, list[Consent]] = defaultdict(list)
    for part in chunks(guardian_ids):
        for consent in db.session.scalars(select(Consent).where(Consent.guardian_id.in_(part))):
            consents[consent.guardian_id].append(consent)
    issued = issued_requests({c.request_id for records in consents.values() for c in records if c.request_id})
    for part in chunks(list(result)):
        for link in db.session.scalars(select(FamilyLink).where(FamilyLink.family_id.in_(part))):
            result[link.family_id].links.append(link)
    for access in result.values():
        access.consenting = {g.id for g in access.family.guardians if consent_given(consents[g.id], today, issued)}
        access.links.sort(key=lambda link: link.issued_at)
        _decide(access, today, now, min_age)
    return result


def issued_requests(request_ids: Collection[str]) -> set[str]:
    """Which of these access requests are decided "issued"."""
    issued: set[str] = set()
    for part in chunks(list(request_ids)):
        issued |= set(db.session.scalars(select(AccessRequest.id).where(AccessRequest.id.in_(part),
                                                                        AccessRequest.state == "issued")))
    return issued


def visible_children(family: Family, today: dt.date) -> list[Student]:
    """The children a family's pages (and slips) may show today: empty when nothing may be shown."""
    access = family_access([family.id], today).get(family.id)
    return access.children if access else []


def live_link(token: str, today: dt.date, now: dt.datetime | None = None) -> tuple[FamilyLink, FamilyAccess] | None:
    """The live link with this token and its family's access, or None (unknown, revoked, expired, no child)."""
    link = db.session.scalars(select(FamilyLink).where(FamilyLink.token == token)).first()
    if link is None or link.revoked_at is not None:
        return None
    access = family_access([link.family_id], today, now).get(link.family_id)
    if access is None or all(live.id != link.id for live in access.live):
        return None
    return link, access
