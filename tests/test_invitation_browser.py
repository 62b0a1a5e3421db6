"""A real browser (headless chromium) types an invitation code on a running hub's /code page and lands on the
diary; the code is in no log line and the diary page got no referrer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.base.extensions import db
from static_site.invitations import issue_code, spoken
from tests.hub_process import HubProcess
from tests.school import build_tiny_school
from tests.site_helpers import NOW, build, issue_links, links_of, post_week, running_site_hub, two_families
from tests.test_site_browser import ARTIFACTS, browser, wait_for  # noqa: F401 - the fixture


@pytest.fixture
def logged_hub(make_app: Any, db_url: str, tmp_path: Path) -> Iterator[tuple[Any, HubProcess]]:
    """A gunicorn hub with its access log on, serving a site folder the test builds."""
    with running_site_hub(make_app, db_url, tmp_path, extra_args=("--access-logfile", "-")) as pair:
        yield pair


def test_a_parent_types_the_code_read_out_by_phone_and_reads_the_diary(logged_hub, browser):  # noqa: F811
    app, server = logged_hub
    school = build_tiny_school()
    families = two_families(school)
    issue_links(NOW)
    post_week(app.test_client(), school)
    build(NOW)
    link = links_of(families["ivanovs"])[0]
    code = issue_code(link, "admin", NOW, 72)
    db.session.commit()
    browser.get(f"{server.url}/code")
    field = browser.find_element("id", "code")
    field.send_keys("12345")
    browser.find_element("css selector", "form button").click()
    assert "девять цифр" in wait_for(lambda: browser.find_element("id", "code-error").text)
    browser.find_element("id", "code").clear()
    browser.find_element("id", "code").send_keys(spoken(code))
    browser.find_element("css selector", "form button").click()
    wait_for(lambda: f"/d/{link.token}/" in browser.current_url)
    assert "Уважаемая Ольга Николаевна!" in browser.find_element("tag name", "body").text
    assert browser.execute_script("return document.referrer") == ""
    widths = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]
    browser.get(f"{server.url}/code")
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "site-code-360.png"))
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert '"POST /code HTTP/1.1" 303' in log
    assert code not in log and spoken(code) not in log and link.token not in log
