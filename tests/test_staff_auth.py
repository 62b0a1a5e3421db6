"""Signing in and out, throttling, CSRF on every form, sessions, headers, the accounts CLI and the catalogs."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import time
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import func, select, update

from app.base.extensions import db
from app.base.models import AuditEntry, LoginAttempt, OpLog, StaffUser
from app.staff import throttle
from app.staff.i18n import compile_catalogs
from app.staff.users import authenticate
from tests.school import build_tiny_school
from tests.staff_support import PASSWORD, csrf_token, make_accounts, post, sign_in, world

STAFF = Path(__file__).resolve().parent.parent / "app" / "staff"


@pytest.fixture
def accounts(app):
    """The tiny school with one account per role."""
    school = build_tiny_school()
    make_accounts()
    return school


def test_a_right_password_signs_in_and_sign_out_ends_the_session(client, accounts):
    response = sign_in(client, "zavuch")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"
    assert client.get("/staff/review/").status_code == 200
    assert post(client, "/staff/logout").status_code == 302
    assert client.get("/staff/review/").headers["Location"].startswith("/staff/login")
    assert db.session.scalars(select(StaffUser).where(StaffUser.login == "zavuch")).one().last_login_at is not None


def test_a_wrong_password_is_refused_and_recorded(client, accounts):
    response = sign_in(client, "zavuch", "wrong-password")
    assert response.status_code == 401
    assert "Неверный логин или пароль" in response.get_data(as_text=True)
    attempts = db.session.scalars(select(LoginAttempt)).all()
    assert [(a.login, a.succeeded) for a in attempts] == [("zavuch", False)]


def test_five_failures_lock_a_login_for_fifteen_minutes_even_with_the_right_password(client, accounts):
    for _ in range(5):
        assert sign_in(client, "zavuch", "wrong-password").status_code == 401
    locked = sign_in(client, "zavuch")
    assert locked.status_code == 429
    assert "Слишком много неудачных попыток" in locked.get_data(as_text=True)
    assert client.get("/staff/review/").status_code == 302  # still not signed in
    assert sign_in(client, "director").status_code == 302  # other logins are not locked
    db.session.execute(update(LoginAttempt).values(at=LoginAttempt.at - dt.timedelta(minutes=16)))
    db.session.commit()
    post(client, "/staff/logout")
    assert sign_in(client, "zavuch").status_code == 302


def test_a_success_clears_the_count_of_earlier_failures(accounts):
    start = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
    for minute in range(4):
        throttle.record("zavuch", "10.0.0.1", False, start + dt.timedelta(minutes=minute))
    throttle.record("zavuch", "10.0.0.1", True, start + dt.timedelta(minutes=5))
    throttle.record("zavuch", "10.0.0.1", False, start + dt.timedelta(minutes=6))
    db.session.commit()
    assert throttle.wait_for("zavuch", "10.0.0.1", start + dt.timedelta(minutes=7)) is None


def test_one_address_guessing_many_logins_is_throttled_too(app):
    start = dt.datetime(2026, 11, 22, 8, 0, tzinfo=dt.UTC)
    for number in range(30):
        throttle.record(f"user{number}", "10.0.0.9", False, start)
    db.session.commit()
    wait = throttle.wait_for("someone", "10.0.0.9", start + dt.timedelta(seconds=10))
    assert wait == dt.timedelta(seconds=50)  # a growing delay, at most a minute after the last failure
    assert throttle.wait_for("someone", "10.0.0.9", start + dt.timedelta(minutes=1)) is None
    assert throttle.wait_for("someone", "10.0.0.8", start + dt.timedelta(seconds=10)) is None


def test_every_staff_form_refuses_a_post_without_its_csrf_token(client, app):
    w = world(client)
    sign_in(client, "admin")
    posts = sorted({rule.rule for rule in app.url_map.iter_rules()
                    if rule.rule.startswith("/staff") and "POST" in rule.methods})
    values = {"log_id": w["held"], "conflict_id": w["conflict"], "device_id": w["device"], "family_id": w["family"],
              "link_id": w["link"], "user_id": w["users"]["sidorov"]}
    for rule in posts:
        path = rule
        for name, value in values.items():
            path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        for token in (None, "forged-token"):
            data = {"name": "Кабинет 9", "login": "x", "role": "deputy", "guardian": w["guardian"]}
            if token:
                data["csrf_token"] = token
            response = client.post(path, data=data)
            assert response.status_code == 400, f"{path} accepted a POST without a valid CSRF token"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert db.session.get(OpLog, w["held"]).status == "held"
    assert client.get("/staff/review/").status_code == 200  # still signed in: the refusals changed nothing


def test_the_session_cookie_is_httponly_samesite_and_ends_with_the_working_day(client, accounts):
    cookie = sign_in(client, "zavuch").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    expires = dt.datetime.strptime(cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT")
    # The browser judges a cookie's expiry by its own (real) clock, so Flask writes it from the real one.
    real_now = dt.datetime.fromtimestamp(time.time(), dt.UTC).replace(tzinfo=None)
    assert dt.timedelta(hours=9) < expires - real_now < dt.timedelta(hours=11)


def test_a_new_password_or_a_turned_off_account_ends_open_sessions(app, client, accounts):
    other = app.test_client()
    sign_in(client, "zavuch")
    sign_in(other, "admin")
    user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.login == "zavuch"))
    assert post(other, f"/staff/accounts/{user_id}/password").status_code == 200
    assert client.get("/staff/review/").headers["Location"].startswith("/staff/login")
    sign_in(client, "director")
    director = db.session.scalar(select(StaffUser.id).where(StaffUser.login == "director"))
    post(other, f"/staff/accounts/{director}/active", {"active": "0"})
    assert client.get("/staff/dashboard/").headers["Location"].startswith("/staff/login")
    assert authenticate("director", PASSWORD) is None
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["account.password", "account.disable"]


def test_nobody_turns_off_their_own_account(client, accounts):
    sign_in(client, "admin")
    admin = db.session.scalar(select(StaffUser.id).where(StaffUser.login == "admin"))
    post(client, f"/staff/accounts/{admin}/active", {"active": "0"})
    assert db.session.get(StaffUser, admin).active


def test_after_login_only_a_staff_page_of_this_hub_is_a_target(client, accounts):
    for target, expected in (("/staff/reports/", "/staff/reports/"), ("https://evil.example/", "/staff/"),
                             ("//evil.example/staff", "/staff/")):
        client.post("/staff/logout", data={"csrf_token": csrf_token(client)})
        response = client.post("/staff/login", data={"login": "admin", "password": PASSWORD, "next": target,
                                                     "csrf_token": csrf_token(client)})
        assert response.headers["Location"] == expected


def test_staff_pages_are_never_cached_framed_or_given_foreign_resources(client, accounts):
    sign_in(client, "admin")
    headers = client.get("/staff/accounts/").headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_pages_are_russian_first_and_english_on_request(client, accounts):
    sign_in(client, "zavuch")
    assert "Проверка" in client.get("/staff/review/").get_data(as_text=True)
    post(client, "/staff/lang", {"lang": "en", "back": "/staff/review/"})
    page = client.get("/staff/review/").get_data(as_text=True)
    assert "Late corrections held for approval" in page and "Проверка" not in page and 'lang="en"' in page
    post(client, "/staff/lang", {"lang": "ru"})
    assert 'lang="ru"' in client.get("/staff/review/").get_data(as_text=True)


def test_every_text_of_the_staff_pages_has_its_russian_translation_compiled():
    extracted = {message[2] if isinstance(message[2], str) else message[2][0]
                 for message in extract_from_dir(str(STAFF), method_map=[("**.py", "python"),
                                                                         ("**/templates/**.html", "jinja2")],
                                                 keywords={"_": None, "gettext": None, "N_": None})}
    folder = STAFF / "translations" / "ru" / "LC_MESSAGES"
    po = read_po(io.BytesIO((folder / "messages.po").read_bytes()))
    compile_catalogs(STAFF / "translations")  # what the hub does at start
    mo = read_mo(io.BytesIO((folder / "messages.mo").read_bytes()))
    translated = {m.id: m.string for m in po if m.id and m.string and not m.fuzzy}
    assert extracted - set(translated) == set(), "texts without a Russian translation: run pybabel update"
    assert {m.id: m.string for m in mo if m.id} == translated, "messages.mo is stale: the hub compiles it at start"


def test_the_staff_command_adds_an_account_that_can_sign_in(runner, client, app):
    build_tiny_school()
    result = runner.invoke(args=["staff", "add", "Petrova", "--role", "class_teacher", "--teacher", "T1"])
    assert result.exit_code == 0, result.output
    assert "создана: классный руководитель, Петрова Анна Ивановна" in result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert sign_in(client, "petrova", password).status_code == 302
    refused = runner.invoke(args=["staff", "add", "vasya", "--role", "subject_teacher"])
    assert refused.exit_code != 0 and "табельный номер" in refused.output
    taken = runner.invoke(args=["staff", "add", "petrova", "--role", "deputy", "--password", "long-enough-1"])
    assert taken.exit_code != 0 and "уже занят" in taken.output
    listed = runner.invoke(args=["staff", "list"])
    assert "petrova" in listed.output and "классный руководитель" in listed.output


def test_the_staff_command_is_registered_for_flask_app_wsgi():
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([str(root / ".venv" / "bin" / "flask"), "--app", "wsgi", "staff", "--help"], cwd=root,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "add" in result.stdout
