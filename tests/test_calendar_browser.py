"""A real browser (headless chromium, 1024×768): the administrator adds holidays on the calendar page, sees a wrong
date refused beside its field, and the calendar in force changes; a screenshot stays in artifacts/."""

from __future__ import annotations

import datetime as dt

from app.base import school_calendar, settings
from tests.school import build_tiny_school
from tests.staff_support import make_accounts
from tests.test_site_browser import wait_for
from tests.test_staff_browser import browser, hub, keyboard_sign_in, shot  # noqa: F401 - the fixtures


def test_the_administrator_adds_holidays_and_a_wrong_date_is_refused_beside_its_field(client, hub, browser):  # noqa: F811
    build_tiny_school()
    make_accounts()
    keyboard_sign_in(browser, hub, "admin")
    browser.get(f"{hub}/staff/calendar/")
    assert "Действуют периоды и каникулы из config.yaml" in browser.find_element("tag name", "main").text
    rows = len(settings().holidays)
    blank = rows + 1
    browser.find_element("id", f"holiday-{blank}-name").send_keys("Карантин")
    browser.find_element("id", f"holiday-{blank}-start").send_keys("23.11.2026")
    browser.find_element("id", f"holiday-{blank}-end").send_keys("31.11.2026")
    browser.find_element("css selector", "button.primary").click()
    error = browser.find_element("id", f"holiday-{blank}-end-error")
    assert "Дата «31.11.2026» не понята" in error.text
    assert browser.find_element("id", f"holiday-{blank}-end").get_attribute("aria-invalid") == "true"
    assert settings().holiday_on(dt.date(2026, 11, 24)) is None  # nothing saved
    end = browser.find_element("id", f"holiday-{blank}-end")
    end.clear()
    end.send_keys("29.11.2026")
    browser.find_element("css selector", "button.primary").click()
    # the old page's <main> may still answer until the next page replaces it: wait for the saved page's
    assert wait_for(lambda: "Календарь сохранён" in browser.find_element("tag name", "main").text)
    shot(browser, "staff-calendar-1024.png")
    school_calendar.forget()  # the answer is kept per app context: this test's spans the hub's requests
    found = settings().holiday_on(dt.date(2026, 11, 24))
    assert found is not None and found.name == "Карантин"
