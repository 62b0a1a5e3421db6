"""Invitation codes (002 reg. §2.17.1): read out by phone, typed on the hub's /code page, sent on to the link; they
expire, open a link once, lock an address after wrong tries, and never reach a log or a Referer."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import InvitationCode
from static_site.invitations import LOCK_AFTER, digest, issue_code
from tests import site_helpers
from tests.school import build_tiny_school
from tests.site_helpers import NOW, build, issue_links, links_of, post_week, two_families
from tests.staff_support import csrf_token, make_accounts, sign_in

site_app = site_helpers.site_app


def family_link(site_app):  # type: ignore[no-untyped-def]
    """A school, two families with links and a built site; the Ivanovs' mother's link."""
    client = site_app.test_client()
    school = build_tiny_school()
    families = two_families(school)
    issue_links()
    post_week(client, school)
    build(NOW)
    return client, families, links_of(families["ivanovs"])[0]


def form_token(client) -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of the /code form, as a browser gets it."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/code").get_data(as_text=True))
    assert found
    return found[1]


def enter(client, code: str, token: str | None = None):  # type: ignore[no-untyped-def]
    """Type a code on /code and send it."""
    return client.post("/code", data={"code": code, "csrf_token": token or form_token(client)})


def test_a_family_types_the_code_and_is_sent_to_its_link_once(site_app):
    client, _families, link = family_link(site_app)
    code = issue_code(link, "admin", NOW, 72)
    db.session.commit()
    page = client.get("/code")
    assert page.status_code == 200 and "Вход по пригласительному коду" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer" and "<script" not in page.get_data(as_text=True)
    answer = enter(client, f"{code[:3]} {code[3:6]}-{code[6:]}")  # as it was read out, with spaces and a dash
    assert answer.status_code == 303 and answer.headers["Location"] == f"/d/{link.token}/"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert site_helpers.page_path(link.token).exists()  # the diary it leads to (served by the running hub)
    again = enter(client, code)
    assert again.status_code == 400 and "уже использован" in again.get_data(as_text=True)
    stored = db.session.scalars(select(InvitationCode)).one()
    assert stored.code_hash == digest(code) and code not in stored.code_hash and stored.used_at is not None


def test_an_expired_code_or_one_of_a_dead_link_opens_nothing(site_app, set_clock):
    client, families, link = family_link(site_app)
    old = issue_code(link, "admin", NOW - dt.timedelta(hours=73), 72)
    db.session.commit()
    answer = enter(client, old)
    assert answer.status_code == 400 and "Срок действия кода истёк" in answer.get_data(as_text=True)
    fresh = issue_code(link, "admin", NOW, 72)
    for guardian in families["ivanovs"].guardians:
        site_helpers.withdraw_consent(guardian.id)
    refused = enter(client, fresh)
    assert refused.status_code == 400 and "больше не действует" in refused.get_data(as_text=True)


def test_wrong_tries_lock_the_address_and_a_typing_error_is_not_counted(site_app):
    client, _families, link = family_link(site_app)
    code = issue_code(link, "admin", NOW, 72)
    db.session.commit()
    token = form_token(client)
    typo = enter(client, "12345", token)
    assert typo.status_code == 400 and "девять цифр" in typo.get_data(as_text=True)
    wrong = "000000000" if code != "000000000" else "111111111"
    for _ in range(LOCK_AFTER):
        assert enter(client, wrong, token).status_code == 400
    locked = enter(client, code, token)  # even the right code waits now
    assert locked.status_code == 429 and "Слишком много неверных попыток" in locked.get_data(as_text=True)
    assert db.session.scalars(select(InvitationCode)).one().used_at is None


def test_a_form_without_its_csrf_token_changes_nothing(site_app):
    client, _families, link = family_link(site_app)
    code = issue_code(link, "admin", NOW, 72)
    db.session.commit()
    answer = client.post("/code", data={"code": code})
    assert answer.status_code == 400 and "Форма устарела" in answer.get_data(as_text=True)
    assert db.session.scalars(select(InvitationCode)).one().used_at is None


def test_the_administrator_issues_a_code_shown_once_and_the_cli_too(site_app):
    client, families, link = family_link(site_app)
    make_accounts()
    sign_in(client, "admin")
    families_page = client.get(f"/staff/families/?class={families['ivanovs'].students[0].class_id}")
    assert "Выдать пригласительный код" in families_page.get_data(as_text=True)
    answer = client.post(f"/staff/families/links/{link.id}/code", data={"csrf_token": csrf_token(client)})
    text = answer.get_data(as_text=True)
    shown = re.search(r'id="invitation-code">(\d{3} \d{3} \d{3})<', text)
    assert answer.status_code == 200 and shown and "/code" in text
    code = shown[1].replace(" ", "")
    assert db.session.scalars(select(InvitationCode.code_hash)).one() == digest(code)
    output = site_app.test_cli_runner().invoke(args=["links", "code", link.token]).output
    assert re.search(r"Пригласительный код: \d{3} \d{3} \d{3} \(до ", output), output
    public = site_app.test_client()
    assert enter(public, code).headers["Location"] == f"/d/{link.token}/"
