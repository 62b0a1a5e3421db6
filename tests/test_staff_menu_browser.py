"""The staff header at 1024×768 (the old school monitor staff.css is made for), in Russian: the school and the
account on one line, the menu below on the whole width, no label broken inside; a screenshot stays in
artifacts/."""

from __future__ import annotations

import pytest

from tests.school import build_tiny_school
from tests.staff_support import make_accounts
from tests.test_staff_browser import browser, hub, keyboard_sign_in, shot  # noqa: F401 - the fixtures

LAYOUT = """
const box = e => e.getBoundingClientRect();
const items = [...document.querySelectorAll('.menu li')];
const lines = new Set(items.map(li => Math.round(box(li).top))).size;
const broken = items.filter(li => li.getClientRects().length > 1 || box(li).height > 2 * box(items[0]).height * 0.8)
  .map(li => li.textContent.trim());
const school = box(document.querySelector('.top .school')), who = box(document.querySelector('.who'));
const menu = box(document.querySelector('.menu'));
return {lines, items: items.length, broken, whoBesideSchool: Math.abs(who.top - school.top) < school.height,
        menuBelow: menu.top >= Math.max(school.bottom, who.bottom) - 1,
        width: document.documentElement.scrollWidth, window: window.innerWidth};
"""


@pytest.mark.parametrize(("login", "most_lines"), [("admin", 2), ("petrova", 1)])
def test_the_staff_header_at_1024_px_keeps_the_account_beside_the_school_and_the_menu_below(
        client, hub, browser, login, most_lines):  # noqa: F811
    build_tiny_school()
    make_accounts()
    keyboard_sign_in(browser, hub, login)
    browser.get(f"{hub}/staff/")
    found = browser.execute_script(LAYOUT)
    shot(browser, f"staff-menu-1024-{login}.png")
    assert found["window"] == 1024 and found["width"] <= found["window"]  # nothing wider than the screen
    assert found["whoBesideSchool"] and found["menuBelow"], found
    assert found["broken"] == [] and found["lines"] <= most_lines, found
