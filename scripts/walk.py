"""Screenshots of the hub as every role at phone and laptop width (issue 12's walk), into artifacts/walk/.

    .venv/bin/python scripts/walk.py http://127.0.0.1:5000 http://127.0.0.1:5000/d/<token>/

The hub must be running with the demo school (`make run`). Not part of the test suite: a walk to look at.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

OUT = Path(__file__).resolve().parent.parent / "artifacts" / "walk"
ROLES = {
    "admin": ["/staff/", "/staff/devices/", "/staff/accounts/", "/staff/accounts/audit"],
    "director": ["/staff/", "/staff/accounts/", "/staff/reports/", "/staff/printing/"],
    "zavuch": ["/staff/", "/staff/review/", "/staff/reports/", "/staff/printing/"],
    "klass": ["/staff/", "/staff/families/", "/staff/monitoring/", "/staff/printing/"],
    "uchitel": ["/staff/", "/staff/reports/"],
}


def browser(width: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--lang=en-US",
                 f"--user-data-dir={tempfile.mkdtemp()}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.set_window_size(width, 900)
    return driver


def shot(driver: webdriver.Chrome, name: str) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    width = driver.execute_script("return window.innerWidth")
    driver.set_window_size(driver.get_window_size()["width"], min(max(height + 120, 600), 6000))
    driver.save_screenshot(str(OUT / f"{name}.png"))
    wide = driver.execute_script("return document.documentElement.scrollWidth")
    print(f"{name}: {height} px tall{'' if wide <= width else f', {wide} px wide (overflows {width})'}")
    driver.set_window_size(driver.get_window_size()["width"], 900)


def main(base: str, family: str, extra: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for width in (360, 1366):
        driver = browser(width)
        try:
            for path, name in (("/", "start"), ("/nope", "404"), ("/ack", "ack-get")):
                driver.get(base + path)
                shot(driver, f"{width}-public-{name}")
            driver.get(family)
            shot(driver, f"{width}-family-week")
            for link in driver.find_elements(By.CSS_SELECTOR, "nav.top a")[1:]:
                href = link.get_attribute("href")
                driver.get(href)
                shot(driver, f"{width}-family-{href.rsplit('/', 1)[-1].removesuffix('.html')}")
                driver.back()
            for login, paths in ROLES.items():
                driver.delete_all_cookies()
                driver.get(base + "/staff/login")
                driver.find_element(By.NAME, "login").send_keys(login)
                driver.find_element(By.NAME, "password").send_keys(f"{login}-demo")
                driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
                for path in paths + extra:
                    driver.get(base + path)
                    shot(driver, f"{width}-{login}-{path.strip('/').replace('/', '-') or 'home'}")
        finally:
            driver.quit()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3:])
