"""Deciding a guardian's access request (002 reg. §3.4): issued with a link, or refused for a reason of §2.12.

Issuing puts the request's consent in force (static_site.access), sets the family's channel to the one
chosen and, when that channel includes the link, issues the guardian a link (static_site.links) unless
they hold one already; the letter with its QR code, or the token read out as an invitation code, delivers it.
A refusal records the reason; the signed decision is printed from static_site.paper.access_forms.
"""

from __future__ import annotations

import datetime as dt

from app.base.consent import REFUSAL_REASONS, ConsentRefused
from app.base.extensions import db
from app.base.models import AccessRequest, Family, FamilyLink, Guardian
from app.base.rebuild_queue import mark_families_dirty
from static_site.access import LINK_CHANNELS, family_access
from static_site.links import active, issue


def _pending(request: AccessRequest) -> None:
    if request.state != "pending":
        word = "выдан доступ" if request.state == "issued" else "отказано"
        raise ConsentRefused(f"По этому запросу уже принято решение ({word}, {request.decided_on:%d.%m.%Y}).")


def decide_issue(request: AccessRequest, by: str, today: dt.date, now: dt.datetime) -> FamilyLink | None:
    """Access issued: the consent counts, the family gets the chosen channel, the guardian a link if it is one."""
    _pending(request)
    family = db.session.get(Family, request.family_id)
    guardian = db.session.get(Guardian, request.guardian_id)
    assert family is not None and guardian is not None
    request.state, request.decided_on, request.decided_by = "issued", today, by
    family.channel = request.channel
    db.session.flush()
    mark_families_dirty({family.id})
    if request.channel not in LINK_CHANNELS:
        return None
    access = family_access([family.id], today, now)[family.id]
    held = next((link for link in access.links
                 if link.guardian_id == guardian.id and link.student_id is None and active(link, now)), None)
    link = held or issue(access, guardian, now)  # LinkRefused (no consent, no child to show) rolls back
    db.session.flush()
    request.link_id = link.id
    return link


def decide_refuse(request: AccessRequest, reason: str, by: str, today: dt.date) -> None:
    """Access refused for one of the regulation's reasons (§2.12.1–2.12.6); the consent with it never counts."""
    _pending(request)
    if reason not in REFUSAL_REASONS:
        raise ConsentRefused(f"Причина отказа «{reason}»: нужно одно из оснований {', '.join(REFUSAL_REASONS)}.")
    request.state, request.refusal = "refused", reason
    request.decided_on, request.decided_by = today, by
    mark_families_dirty({request.family_id})


def invitation_code(token: str) -> str:
    """The link's token in groups of four letters, to read out by phone (the family types it after /d/)."""
    return "-".join(token[i:i + 4] for i in range(0, len(token), 4))
