"""The classroom journal in a real browser (Debian's chromium, headless, 1024×768), keyboard only.

A teacher signs in on a machine whose hub is not running, records a whole lesson and plans next week's
homework; the hub is started, the teacher presses «Синхронизировать», and the family page shows the lesson.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from app.base.extensions import db
from app.base.models import Attendance, Lesson, Mark
from app.syncing.devices import register
from classroom import create_app
from sync.client import SyncClient
from sync.ids import lesson_id
from tests.classroom_support import PINS, school_with_timetable
from tests.hub_process import free_port
from tests.live import WsgiTransport
from tests.school import LESSON_DAY
from tests.site_helpers import build, issue_links, links_of, pages, site_app, two_families
from tests.test_staff_browser import ARTIFACTS, CHROMIUM, DRIVER, SELENIUM, browser

__all__ = ["browser", "site_app"]

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and SELENIUM),
                                reason="needs selenium and Debian's chromium and chromium-driver")


def serve(app, port: int = 0):
    """Serve a WSGI app on a loopback port in a thread; return (server, thread)."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def journal(site_app, tmp_path) -> Iterator[tuple[str, int, dict]]:
    """A classroom machine set up from the hub while it ran; now the hub is down. Yields (journal URL, hub
    port, school)."""
    school = school_with_timetable()
    families = two_families(school)
    issue_links()
    hub_port = free_port()
    device, token = register("Кабинет 7")
    db.session.commit()
    path = tmp_path / "client.db"
    client = SyncClient(path, transport=WsgiTransport(site_app))  # the first sync, while the link was up
    client.connect(f"http://127.0.0.1:{hub_port}", token)
    assert client.sync().ok
    client.close()
    app = create_app(path)  # from here on, real HTTP to a hub that is not running
    server, thread = serve(app)
    try:
        yield f"http://127.0.0.1:{server.server_port}", hub_port, {**school.ids, "families": families}
    finally:
        server.shutdown()
        thread.join(timeout=10)


def type_keys(driver, *keys: str) -> None:
    """Send keys to whatever has focus, one after the other (text or Keys.TAB / Keys.ENTER)."""
    for key in keys:
        driver.switch_to.active_element.send_keys(key)


def test_a_teacher_records_a_lesson_offline_plans_ahead_and_syncs_when_the_hub_is_back(journal, browser,
                                                                                     site_app):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    url, hub_port, school = journal
    driver = browser
    # a page being replaced after a key press: any WebDriver error while polling means "not yet"
    wait = WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,))
    TAB, ENTER = Keys.TAB, Keys.ENTER

    # Sign in: the teacher list has focus; type the surname, Tab, the PIN, Enter.
    driver.get(f"{url}/signin")
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "teacher")
    type_keys(driver, "Петрова", TAB, PINS["t_petrova"], ENTER)
    wait.until(lambda d: "/day" in d.current_url)
    assert "Петрова Анна Ивановна" in driver.find_element(By.ID, "top").text
    assert "ещё не было" not in driver.find_element(By.ID, "last-good-sync").text  # set up over the link

    # Friday of the lesson week, in one click from the week strip; open the maths lesson with Enter.
    driver.get(f"{url}/day?date={LESSON_DAY.isoformat()}")
    driver.find_element(By.LINK_TEXT, "пт, 20 ноября").send_keys(ENTER)
    wait.until(lambda d: "date=2026-11-20" in d.current_url)
    driver.find_element(By.LINK_TEXT, "Математика").send_keys(ENTER)
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "topic")
    driver.save_screenshot(str(ARTIFACTS / "classroom-lesson.png")) if ARTIFACTS.exists() else None

    # One screen, Tab through it: topic, homework, due date, cancelled; then each student's row:
    # attendance, new mark, work type, remark kind, remark text.
    type_keys(driver, "Квадратные уравнения", TAB, "№ 301, 303", TAB, "24.11.2026", TAB, TAB)
    type_keys(driver, "присутствовал", TAB, "5", TAB, "Контрольная", TAB, TAB, TAB)  # Иванова
    type_keys(driver, "Б", TAB, "4", TAB, "Устный", TAB, TAB, "Ответ у доски", ENTER)  # Смирнов, ill, 4
    wait.until(lambda d: "Урок сохранён" in d.page_source)
    assert driver.find_element(By.ID, "backlog").text != "0"

    # Next week's lesson: planning only (no attendance or marks yet).
    driver.get(f"{url}/day?date=2026-11-20")
    driver.find_element(By.LINK_TEXT, "неделя →").send_keys(ENTER)
    wait.until(lambda d: "date=2026-11-23" in d.current_url)
    driver.find_element(By.LINK_TEXT, "ср, 25 ноября").send_keys(ENTER)
    wait.until(lambda d: "date=2026-11-25" in d.current_url)
    driver.find_element(By.LINK_TEXT, "Математика").send_keys(ENTER)
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "topic")
    assert "Урок ещё впереди" in driver.page_source
    type_keys(driver, "Теорема Виета", TAB, "Выучить теорему Виета", TAB, "27.11.2026", ENTER)
    wait.until(lambda d: "Урок сохранён" in d.page_source)

    # The hub is still down: syncing fails, and the outbox keeps everything.
    driver.get(f"{url}/sync")
    driver.find_element(By.ID, "sync-now").send_keys(ENTER)
    wait.until(lambda d: d.find_elements(By.ID, "sync-result"))
    assert "не завершена" in driver.find_element(By.ID, "sync-result").text
    assert db.session.get(Lesson, lesson_id(school["c7"], None, "2026-11-20", 2)) is None

    # The hub comes up; the teacher syncs.
    server, thread = serve(site_app, hub_port)
    try:
        driver.find_element(By.ID, "sync-now").send_keys(ENTER)
        wait.until(lambda d: "Синхронизация выполнена" in d.find_element(By.ID, "sync-result").text)
        assert driver.find_element(By.ID, "backlog").text == "0"
    finally:
        server.shutdown()
        thread.join(timeout=10)

    db.session.expire_all()
    taught = db.session.get(Lesson, lesson_id(school["c7"], None, "2026-11-20", 2))
    planned = db.session.get(Lesson, lesson_id(school["c7"], None, "2026-11-25", 2))
    assert (taught.topic, taught.homework, taught.homework_due.isoformat()) == (
        "Квадратные уравнения", "№ 301, 303", "2026-11-24")
    assert taught.teacher_id == school["t_petrova"]
    assert sorted((m.value, m.work_type) for m in db.session.query(Mark).filter_by(lesson_id=taught.id)) == [
        ("4", "oral"), ("5", "test")]
    assert {a.student_id: a.status for a in db.session.query(Attendance).filter_by(lesson_id=taught.id)} == {
        school["st_ivanova"]: "present", school["st_smirnov"]: "ill"}
    assert planned.homework == "Выучить теорему Виета"

    # The family of Иванова sees the lesson and the homework on its diary pages.
    build()
    text = "\n".join(pages(links_of(school["families"]["ivanovs"])[0].token).values())
    assert "Квадратные уравнения" in text and "№ 301, 303" in text
    # (Next week's planned lesson is on the hub; the family site does not build weeks ahead yet.)


def test_a_rejected_mark_is_fixed_and_resent_in_one_click_and_the_conflicts_page_answers(journal, browser, site_app,
                                                                                         tmp_path):
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url, hub_port, school = journal
    client = SyncClient(tmp_path / "client.db")  # the machine still knows a work type the school dropped
    with client.store.transaction():
        status = client.store.get("status")
        client.store.put("status", {**status, "work_types": [*status["work_types"],
                                                             {"code": "project", "name": "Проект", "short": "П"}]})
    client.close()
    driver = browser
    wait = WebDriverWait(driver, 30, ignored_exceptions=(WebDriverException,))
    driver.get(f"{url}/signin")
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "teacher")
    type_keys(driver, "Петрова", Keys.TAB, PINS["t_petrova"], Keys.ENTER)
    wait.until(lambda d: "/day" in d.current_url)
    ivanova = school["st_ivanova"]
    driver.get(f"{url}/lesson/{LESSON_DAY.isoformat()}/2/{school['c7']}")
    Select(driver.find_element(By.NAME, f"mark-{ivanova}")).select_by_value("5")
    Select(driver.find_element(By.NAME, f"wt-{ivanova}")).select_by_value("project")
    driver.find_element(By.ID, "save").send_keys(Keys.ENTER)
    wait.until(lambda d: "Урок сохранён" in d.page_source)

    server, thread = serve(site_app, hub_port)
    try:
        driver.get(f"{url}/sync")
        driver.find_element(By.ID, "sync-now").send_keys(Keys.ENTER)
        wait.until(lambda d: "Синхронизация выполнена" in d.find_element(By.ID, "sync-result").text)
        assert "Недопустимое значение поля" in driver.find_element(By.ID, "outcomes").text
        driver.find_element(By.LINK_TEXT, "Исправить и отправить снова").send_keys(Keys.ENTER)
        wait.until(lambda d: d.find_elements(By.ID, "fixing"))
        assert Select(driver.find_element(By.NAME, f"mark-{ivanova}")).first_selected_option.text == "5"
        Select(driver.find_element(By.NAME, f"wt-{ivanova}")).select_by_value("oral")
        driver.find_element(By.ID, "save").send_keys(Keys.ENTER)
        wait.until(lambda d: "отклонённая убрана из списка" in d.page_source)
        driver.find_element(By.LINK_TEXT, "Конфликты").send_keys(Keys.ENTER)
        wait.until(lambda d: "Конфликтов нет" in d.page_source)
        driver.get(f"{url}/sync")
        driver.find_element(By.ID, "sync-now").send_keys(Keys.ENTER)
        wait.until(lambda d: "Синхронизация выполнена" in d.find_element(By.ID, "sync-result").text)
        assert driver.find_element(By.ID, "backlog").text == "0"
    finally:
        server.shutdown()
        thread.join(timeout=10)
    db.session.expire_all()
    taught = lesson_id(school["c7"], None, LESSON_DAY.isoformat(), 2)
    assert [(m.value, m.work_type) for m in db.session.query(Mark).filter_by(lesson_id=taught)] == [("5", "oral")]
