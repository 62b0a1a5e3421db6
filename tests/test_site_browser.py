"""A real browser (Debian's chromium, headless) opens a family link on a running hub, reads the week,
confirms it, and leaves a screenshot at phone width in artifacts/."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import WeekAck, WeekView
from tests.conftest import ROOT
from tests.hub_process import HubProcess
from tests.school import build_tiny_school
from tests.site_helpers import (
    NOW,
    build,
    issue_links,
    lesson_week_page,
    links_of,
    post_week,
    running_site_hub,
    two_families,
)

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ARTIFACTS = ROOT / "artifacts"

webdriver = pytest.importorskip("selenium.webdriver")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless chromium with a fresh profile, no network of its own, the flags CI needs."""
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(5)  # a page being replaced after a click: wait for its elements
    driver.set_window_size(360, 800)  # headless chromium starts no narrower than 500 px whatever the flag says
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)


@pytest.fixture
def hub(make_app: Any, db_url: str, tmp_path: Path) -> Iterator[tuple[Any, HubProcess]]:
    """A running hub serving a site folder that the test builds."""
    with running_site_hub(make_app, db_url, tmp_path) as running:
        yield running


def wait_for(condition: Any, timeout: float = 10.0) -> Any:
    """Poll until `condition()` is truthy; return its value."""
    from selenium.common.exceptions import WebDriverException

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except WebDriverException:  # the page is being replaced (stale or missing nodes): look again
            value = None
        if value:
            return value
        time.sleep(0.1)
    return condition()


def test_a_parent_opens_the_link_reads_the_week_and_confirms_it(hub, browser):
    app, server = hub
    school = build_tiny_school()
    families = two_families(school)
    issue_links(NOW)
    post_week(app.test_client(), school)
    build(NOW)
    link = links_of(families["ivanovs"])[0]
    name = lesson_week_page(NOW)
    browser.get(f"{server.url}/d/{link.token}/{name}.html")

    body = browser.find_element("tag name", "body").text
    assert "Уважаемая Ольга Николаевна!" in body
    assert "Иванова Мария, 7А" in body and "Белова Ольга, 1А" in body
    assert "Линейные уравнения" in body and "Д/з: № 245, 247" in body
    background = browser.execute_script(
        "return getComputedStyle(document.querySelector('.m')).backgroundColor")
    assert background not in ("", "rgba(0, 0, 0, 0)")  # the stylesheet loaded from the hub
    widths = browser.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth]")
    assert widths[2] == 360 and widths[0] <= widths[1]  # nothing wider than the phone
    ARTIFACTS.mkdir(exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(360, min(max(height, 800), 6000))
    assert browser.save_screenshot(str(ARTIFACTS / "site-week-360.png"))
    assert (ARTIFACTS / "site-week-360.png").stat().st_size > 10_000

    view = wait_for(lambda: db.session.scalars(select(WeekView)).first() or db.session.rollback())
    assert view is not None and view.family_id == families["ivanovs"].id  # the print stylesheet counted the view

    browser.find_element("css selector", ".ack button").click()
    wait_for(lambda: "Спасибо" in browser.find_element("tag name", "body").text)
    assert "Ольга Николаевна, вы подтвердили" in browser.find_element("tag name", "body").text
    school_line = browser.execute_script("return getComputedStyle(document.querySelector('header .school')).color")
    assert school_line == "rgb(85, 85, 85)"  # the answer page wears the site's stylesheet
    ack = db.session.scalars(select(WeekAck)).one()
    assert ack.guardian_id == link.guardian_id and ack.family_id == families["ivanovs"].id
    browser.find_element("link text", "Вернуться к дневнику").click()
    assert wait_for(lambda: "/d/" in browser.current_url)


def test_the_week_is_readable_at_320_px(hub, browser):
    app, server = hub
    school = build_tiny_school()
    families = two_families(school)
    issue_links(NOW)
    post_week(app.test_client(), school)
    build(NOW)
    token = links_of(families["ivanovs"])[0].token
    browser.set_window_size(320, 700)
    for page in (lesson_week_page(NOW), "child-1"):
        browser.get(f"{server.url}/d/{token}/{page}.html")
        widths = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth]")
        assert widths[2] == 320 and widths[0] <= widths[1], (page, widths)
        size = browser.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 14
    for width in (320, 360):
        browser.set_window_size(width, 700)
        browser.get(f"{server.url}/d/{token}/child-1.html")
        assert browser.execute_script(BROKEN_WORDS) == [], width


# Words of the tables that the browser laid out on more than one line (cut mid-word, «Английск|ий»). The site
# lets the browser hyphenate Russian (hyphens:auto, lang="ru"); Debian's headless chromium has no hyphenation
# dictionary, so here every word must fit its column whole.
BROKEN_WORDS = """
const broken = [];
for (const cell of document.querySelectorAll('table th, table td')) {
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.textContent.matchAll(/[^\\s()]+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(match[0]);
    }
  }
}
return broken;
"""
