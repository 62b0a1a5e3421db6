"""Fixes from the walk through the hub as every role (issue 12): first minutes, errors, links, the CLI."""

from __future__ import annotations

import re

import pytest

from app.base import settings
from app.base.settings import hub_url, is_loopback
from app.staff.demo import create_demo_accounts
from tests.school import build_tiny_school
from tests.staff_support import family_with_link, make_accounts, sign_in

ENGLISH = re.compile(r"\b(Not Found|Method Not Allowed|Internal Server Error|Bad Request|requested URL)\b")


def test_the_start_page_says_what_the_hub_is_and_where_staff_sign_in(client):
    school = build_tiny_school()
    _family, _guardian, link = family_with_link(school)
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="ru">' in html
    assert "Вход для сотрудников" in html and 'href="/staff/login"' in html
    assert link.token not in html and "Иванов" not in html and "/d/" not in html


@pytest.mark.parametrize(("method", "path", "code", "words"), [
    ("GET", "/nope", 404, "Страница не найдена"),
    ("GET", "/staff/nope", 404, "Страница не найдена"),
    ("GET", "/ack", 405, "кнопкой «Я ознакомился(ась)»"),
    ("PUT", "/staff/login", 405, "не принимает такой запрос"),
    ("DELETE", "/", 405, "не принимает такой запрос"),
])
def test_errors_of_the_hub_pages_are_russian(client, method, path, code, words):
    response = client.open(path, method=method)
    html = response.get_data(as_text=True)
    assert response.status_code == code and response.mimetype == "text/html"
    assert words in html and '<html lang="ru">' in html and not ENGLISH.search(html)
    if code == 405:
        assert response.headers["Allow"]


def test_a_server_error_is_a_russian_page(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False, TESTING=False)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500 and "Ошибка на сервере" in html and not ENGLISH.search(html)


def test_the_api_keeps_its_json_errors(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_links_use_the_address_the_hub_was_started_on_unless_the_school_set_a_public_one(make_app, tmp_path):
    app = make_app(HUB_URL="http://192.168.1.20:8000")
    with app.app_context():
        assert settings().site_base_url == "http://192.168.1.20:8000"
    public = tmp_path / "public.yaml"
    from tests.test_staff_pages import ROOT

    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    public.write_text(text.replace('base_url: "http://127.0.0.1:5000"', 'base_url: "https://diary.school.example"'),
                      encoding="utf-8")
    app = make_app(HUB_URL="http://192.168.1.20:8000", TETRAD_CONFIG=str(public))
    with app.app_context():
        assert settings().site_base_url == "https://diary.school.example"
    assert hub_url("127.0.0.1", 5000) == "http://127.0.0.1:5000"
    wildcard = hub_url("0.0.0.0", 8000)  # noqa: S104
    assert wildcard.endswith(":8000") and "0.0.0.0" not in wildcard
    assert is_loopback("http://localhost:5000/") and is_loopback("http://[::1]:5000")
    assert not is_loopback("http://10.0.0.5:5000")


def test_flask_urls_is_russian_and_uses_the_hub_address(make_app, monkeypatch):
    monkeypatch.setenv("TETRAD_HUB_URL", "http://10.1.2.3:8000")
    app = make_app(HUB_URL="http://10.1.2.3:8000")
    with app.app_context():
        build_tiny_school()
        create_demo_accounts()
        output = app.test_cli_runner().invoke(args=["urls"]).output
    assert "http://10.1.2.3:8000/staff/" in output and "нужен токен устройства" in output
    assert "Tetrad hub" not in output and "needs a device token" not in output
    assert "Внимание" not in output  # the families' links are not loopback ones here


def test_a_letter_warns_when_its_link_is_a_loopback_one(client):
    school = build_tiny_school()
    make_accounts()
    _family, _guardian, link = family_with_link(school)
    sign_in(client, "petrova")
    html = client.get(f"/staff/families/links/{link.id}/letter").get_data(as_text=True)
    assert "http://127.0.0.1:5000/d/" in html and "открывается только на этом компьютере" in html


def test_classes_and_machines_named_after_them_sort_by_grade_then_letter(client):
    from app.base.classes import name_key
    from app.base.extensions import db
    from app.base.models import SchoolClass
    from app.staff.access import school_classes
    from app.staff.machines import machine_states
    from app.syncing.devices import register

    school = build_tiny_school()
    year_id = db.session.get(SchoolClass, school["c7"]).year_id
    extra = {n: SchoolClass(year_id=year_id, grade=int(n[:-1]), letter=n[-1]) for n in ("10А", "11А", "2Б", "10Б")}
    db.session.add_all(extra.values())
    db.session.flush()
    assert [c.name for c in school_classes()] == ["1А", "2Б", "7А", "10А", "10Б", "11А"]
    register("Ноутбук 10А, 10Б", [extra["10Б"].id, extra["10А"].id])
    register("Ноутбук 2Б", [extra["2Б"].id])
    register("Ноутбук 11А", [extra["11А"].id])
    db.session.commit()
    states = machine_states()
    assert [s.device.name for s in states] == ["Ноутбук 2Б", "Ноутбук 10А, 10Б", "Ноутбук 11А"]
    assert states[1].classes == ["10А", "10Б"]
    assert sorted(["10А", "1А", "11А", "1Б"], key=name_key) == ["1А", "1Б", "10А", "11А"]
    make_accounts()
    sign_in(client, "zavuch")
    html = client.get("/staff/reports/").get_data(as_text=True)
    assert html.index(">2Б<") < html.index(">10А<") < html.index(">11А<")


def test_russian_for_an_english_browser_english_only_when_chosen_and_kept_with_the_account(client, app):
    from tests.staff_support import post

    build_tiny_school()
    make_accounts()
    english = {"Accept-Language": "en-US,en;q=0.9"}
    assert "Вход в электронный журнал" in client.get("/staff/login", headers=english).get_data(as_text=True)
    sign_in(client, "petrova")
    assert "Выйти" in client.get("/staff/families/", headers=english).get_data(as_text=True)
    post(client, "/staff/lang", {"lang": "en", "back": "/staff/families/"})
    assert "Sign out" in client.get("/staff/families/").get_data(as_text=True)
    post(client, "/staff/logout")
    other = app.test_client()  # another computer, a fresh session: the account's choice comes with it
    sign_in(other, "petrova")
    assert "Sign out" in other.get("/staff/families/").get_data(as_text=True)
    sign_in(other, "sidorov")  # another account on that computer: the school's language
    assert "Выйти" in other.get("/staff/reports/", headers=english).get_data(as_text=True)


def test_one_current_tab_and_the_language_switch_beside_the_account(client):
    build_tiny_school()
    make_accounts()
    sign_in(client, "director")
    for path in ("/staff/accounts/", "/staff/accounts/audit"):
        html = client.get(path).get_data(as_text=True)
        assert html.count('aria-current="page"') == 1, path
    html = client.get("/staff/accounts/").get_data(as_text=True)
    who = html.split('<div class="who">')[1].split("</div>")[0]
    assert 'name="lang" value="en"' in who  # not a header item of its own that wraps onto the next line


def test_registering_a_new_machine_does_not_speak_of_older_tokens(client):
    from tests.staff_support import post

    school = build_tiny_school()
    make_accounts()
    sign_in(client, "admin")
    html = post(client, "/staff/devices/", {"name": "Кабинет 30", "classes": [school["c7"]]}).get_data(as_text=True)
    assert "Ключ показывается только сейчас" in html and "прежние ключи" not in html


def test_the_commands_help_is_russian_first(runner):
    for args in (["device", "--help"], ["device", "add", "--help"], ["staff", "--help"], ["sync", "--help"],
                 ["urls", "--help"], ["calendar", "--help"]):
        text = runner.invoke(args=args).output
        body = text.split("Options:")[0] if args[-1] == "--help" and len(args) > 2 else text
        assert re.search("[а-яё]", body, re.I), args
    assert "Classroom machines: register" not in runner.invoke(args=["device", "--help"]).output
    assert "Staff accounts of the hub" not in runner.invoke(args=["staff", "--help"]).output
