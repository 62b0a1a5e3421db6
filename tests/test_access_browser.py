"""The path of a real school in a real browser: from its spreadsheets on an empty database to families reading
their diary, and a withdrawn consent whose link answers 404 after the next build (issue 14, "Done when")."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import AccessRequest, Family, FamilyLink, Guardian, SchoolClass
from tests.site_helpers import build, running_site_hub
from tests.staff_support import PASSWORD
from tests.test_staff_browser import CHROMIUM, DRIVER, SELENIUM, keyboard_sign_in, shot
from tests.test_staff_browser import browser as browser  # the fixture

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
ORDER = ["teachers", "subjects", "classes", "students", "groups", "assignments", "timetable"]

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and SELENIUM),
                                reason="needs selenium and Debian's chromium and chromium-driver")


@pytest.fixture
def hub(make_app: Any, db_url: str, tmp_path: Path):
    """A running hub (gunicorn) serving the staff pages and the site folder; the app beside it for commands."""
    with running_site_hub(make_app, db_url, tmp_path) as running:
        yield running


def status_of(url: str) -> int:
    """The HTTP status of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def cli(app: Any, *args: str) -> str:
    """Run a `flask --app wsgi` command on the app; fail on a non-zero exit."""
    result = app.test_cli_runner().invoke(args=list(args))
    db.session.rollback()
    assert result.exit_code == 0, result.output
    return str(result.output)


def test_from_the_spreadsheets_to_a_family_reading_its_diary_and_a_withdrawn_link_gone(hub, browser):
    from selenium.webdriver.common.by import By

    app, process = hub
    cli(app, "calendar")
    cli(app, "import", *(str(EXAMPLES / f"{kind}.csv") for kind in ORDER))
    cli(app, "staff", "add", "admin", "--role", "administrator", "--password", PASSWORD)
    kozlov = db.session.scalars(select(Guardian).where(Guardian.last_name == "Козлов")).one()
    family = db.session.scalars(select(Family).where(Family.name == "ЛД 1004")).one()
    class_7b = db.session.scalars(select(SchoolClass).where(SchoolClass.grade == 7)).one()

    # one request with its consent recorded in the browser: first without the documents (refused beside the field)
    keyboard_sign_in(browser, process.url, "admin")
    browser.get(f"{process.url}/staff/families/?class={class_7b.id}")
    browser.find_element(By.ID, f"request-{family.id}").click()
    browser.find_element(By.CSS_SELECTOR, "form.narrow button.primary").click()
    assert "Назовите предъявленные документы" in browser.find_element(By.ID, "basis-error").text
    assert db.session.scalars(select(AccessRequest)).first() is None
    browser.find_element(By.ID, "basis").send_keys("паспорт, свидетельство о рождении")
    browser.find_element(By.ID, "consent_basis").send_keys("согласие № 21")
    browser.find_element(By.CSS_SELECTOR, "form.narrow button.primary").click()
    assert "Запрос записан" in browser.find_element(By.CSS_SELECTOR, ".flash.info").text
    shot(browser, "access-request.png")
    browser.get(f"{process.url}/staff/dashboard/")
    assert "Козлов Игорь Васильевич" in browser.find_element(By.CSS_SELECTOR, "table.waiting-requests").text
    browser.find_element(By.LINK_TEXT, "Козлов Игорь Васильевич").click()
    browser.find_element(By.ID, "issue").click()
    assert "Доступ предоставлен" in browser.find_element(By.CSS_SELECTOR, ".flash.info").text
    code = browser.find_element(By.ID, "code").text
    shot(browser, "access-issued.png")

    # one by the command line, decided there too
    recorded = cli(app, "consent", "record", "Лебедева Нина", "--basis", "согласие № 22", "--request",
                   "--documents", "паспорт, постановление об опеке")
    request_id = re.search(r"Запрос (\S+) ", recorded)[1]
    assert "Доступ предоставлен" in cli(app, "consent", "decide", request_id, "--issue")

    issued = cli(app, "links", "issue", "--all")
    assert "Выдано ссылок: 3." in issued  # the four imported consents, one of them for paper only
    build()
    links = {link.guardian_id: link for link in db.session.scalars(select(FamilyLink))}
    assert len(links) == 5
    token = links[kozlov.id].token
    assert "-".join(re.findall("....", token)) == code
    browser.get(f"{process.url}/d/{token}/")
    assert "Козлова Дарья" in browser.find_element(By.TAG_NAME, "body").text
    for link in links.values():
        assert status_of(f"{process.url}/d/{link.token}/") == 200

    # the written withdrawal, recorded in the browser: the link answers 404 after the next build
    browser.get(f"{process.url}/staff/access/guardian/{kozlov.id}")
    browser.find_element(By.ID, "statement").send_keys("заявление № 30 от 22.11.2026")
    browser.find_element(By.ID, "withdraw").click()
    assert "Отзыв записан" in browser.find_element(By.CSS_SELECTOR, ".flash.info").text
    assert status_of(f"{process.url}/d/{token}/") == 200  # until the next build
    build()
    assert status_of(f"{process.url}/d/{token}/") == 404
    others = [link for guardian_id, link in links.items() if guardian_id != kozlov.id]
    assert all(status_of(f"{process.url}/d/{link.token}/") == 200 for link in others)
