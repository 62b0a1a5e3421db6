"""A real browser (headless chromium, at phone width; the pages have no JavaScript) reads the week ahead with the
deputy's changes on a running hub; a screenshot stays in artifacts/."""

from __future__ import annotations

import datetime as dt

from app.base.extensions import db
from app.base.timetable_changes import plan
from tests.school import build_tiny_school
from tests.site_helpers import NOW, build, issue_links, links_of, post_week, two_families
from tests.test_site_browser import ARTIFACTS, browser, hub, wait_for  # noqa: F401 - the fixtures

MONDAY = dt.date(2026, 11, 23)


def test_a_parent_reads_next_weeks_substitution_and_moved_lesson_on_a_phone(hub, browser):  # noqa: F811
    app, server = hub
    school = build_tiny_school()
    families = two_families(school)
    issue_links(NOW)
    post_week(app.test_client(), school)
    plan("substitution", MONDAY, 2, school["c7"], teacher_id=school["t_outsider"], subject_id=school["s_math"],
         by="deputy")
    plan("moved", MONDAY + dt.timedelta(days=1), 3, school["c7"], subject_id=school["s_russian"],
         to_date=MONDAY + dt.timedelta(days=2), to_slot=3, by="deputy")
    db.session.commit()
    build(NOW)
    token = links_of(families["ivanovs"])[0].token
    browser.get(f"{server.url}/d/{token}/index.html")
    browser.find_element("link text", "23.11–28.11").click()

    def week_ahead() -> str | None:  # the week ahead's page, not the one before it still being replaced
        text: str = browser.find_element("tag name", "body").text
        return text if "Неделя 23–28 ноября 2026" in text else None

    body = wait_for(week_ahead)
    assert body, "the week ahead's page did not open"
    assert "Замена: Орлов И. С." in body and "Урок перенесён на 25.11.2026, 3-й урок" in body
    assert "Перенесён с 24.11.2026, 3-й урок" in body
    assert not browser.find_elements("css selector", ".ack button")  # not to be confirmed before it begins
    assert "<script" not in browser.page_source  # nothing needs JavaScript
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth]")
    assert widths[2] == 360 and widths[0] <= widths[1]  # nothing wider than the phone
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "site-week-ahead-360.png"))
