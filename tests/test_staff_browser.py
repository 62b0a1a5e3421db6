"""A real browser (Debian's chromium, headless) on a running hub: keyboard only, old-monitor window size.

Screenshots are kept in artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.base.extensions import db
from app.base.models import FamilyLink, Mark, OpLog
from tests.staff_support import PASSWORD, world

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

SELENIUM = importlib.util.find_spec("selenium") is not None

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and SELENIUM),
                                reason="needs selenium and Debian's chromium and chromium-driver "
                                       "(apt-get install -y chromium chromium-driver)")


@pytest.fixture
def hub(app) -> Iterator[str]:
    """The hub served over real HTTP on a free loopback port; yields its address."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless chromium at 1024×768 with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="tetrad-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1024,768", "--lang=ru"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER or ""), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(5)  # a page being replaced after a key press: wait for its elements
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def keyboard_sign_in(driver, hub: str, login: str) -> None:
    """Type the login (the field has focus), Tab, the password, Enter; wait for the next page."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{hub}/staff/login")
    # the login field takes focus by itself (autofocus), as soon as the page has settled
    focused = WebDriverWait(driver, 10).until(
        lambda d: d.switch_to.active_element if d.switch_to.active_element.get_attribute("id") == "login" else None)
    focused.send_keys(login, Keys.TAB)
    driver.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)
    WebDriverWait(driver, 15).until(lambda d: "/staff/login" not in d.current_url)  # the next page has loaded


def tab_to(driver, text: str, limit: int = 200):
    """Press Tab until the focused element shows this text; return it."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.keys import Keys

    for _ in range(limit):
        try:
            element = driver.switch_to.active_element
            if element.text.strip() == text or (element.get_attribute("value") or "") == text:
                return element
            element.send_keys(Keys.TAB)
        except StaleElementReferenceException:  # the page was still being replaced: look again
            continue
    raise AssertionError(f"no focusable element «{text}»")


def shot(driver, name: str) -> Path:
    """Save a full-window screenshot under artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 5000
    return path


def test_a_deputy_approves_a_held_correction_with_the_keyboard(client, hub, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    w = world(client)
    keyboard_sign_in(browser, hub, "zavuch")
    assert browser.current_url.endswith("/staff/dashboard/")
    assert "Исправлений на утверждении за сегодня: 1" in browser.find_element(By.TAG_NAME, "main").text
    tab_to(browser, "Проверка").send_keys(Keys.ENTER)
    row = browser.find_element(By.ID, f"op-{w['held']}")
    assert "Иванова Мария Петровна" in row.text and "— → 3" in row.text
    shot(browser, "staff-deputy-review.png")
    approve = tab_to(browser, "Утвердить")
    assert approve == row.find_element(By.XPATH, ".//button[normalize-space()='Утвердить']")
    approve.send_keys(Keys.ENTER)
    assert "Готово: внесено в журнал." in browser.find_element(By.CSS_SELECTOR, ".flash.info").text
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/staff/review/#held"))
    shot(browser, "staff-deputy-approved.png")
    db.session.expire_all()
    assert db.session.get(OpLog, w["held"]).decided_by == "zavuch"
    assert db.session.get(Mark, "m-late-3").value == "3"


def test_a_class_teacher_reads_the_monitoring_table(client, hub, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    w = world(client)
    token = db.session.get(FamilyLink, w["link"]).token
    client.get(f"/d/{token}/seen-2026-W46.css", headers={"User-Agent": "Mozilla/5.0"})
    client.post("/ack", data={"token": token, "week": "2026-W47", "v": "ab"})
    keyboard_sign_in(browser, hub, "petrova")
    tab_to(browser, "Просмотр родителями").send_keys(Keys.ENTER)
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading == "Просмотр дневника родителями: класс 7А, 2 четверть"
    cells = browser.find_elements(By.CSS_SELECTOR, "table.weeks tbody tr:first-child td.cell")
    assert [c.get_attribute("class").split()[-1] for c in cells][:4] == ["none", "opened", "confirmed", "future"]
    assert cells[1].text == "откр." and len(cells[2].text) == 5  # "22.11": the day of the confirmation
    shot(browser, "staff-class-teacher-monitoring.png")
