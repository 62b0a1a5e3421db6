"""The family site on a running hub (gunicorn): pages appear and vanish after start-up, headers, views,
confirmation, and revocation, withdrawal, leaving and turning 18 each answering 404 after the next build."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Student, WeekAck, WeekView
from sync import clock
from tests.conftest import ROOT, TEST_KEYS
from tests.hub_process import HubProcess
from tests.school import LESSON_DAY, build_tiny_school, lesson_fields, ms_at
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

BROWSER = "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36"


class Answer:
    """A plain HTTP answer: status, headers, body."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        """The body as text, gunzipped when it came gzipped."""
        data = gzip.decompress(self.body) if self.headers.get("Content-Encoding") == "gzip" else self.body
        return data.decode("utf-8")


def fetch(url: str, method: str = "GET", data: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    """One request without following redirects; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=data, method=method, headers={"User-Agent": BROWSER, **(headers or {})})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as answer:
            return Answer(answer.status, answer.headers, answer.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture
def hub(make_app: Any, db_url: str, tmp_path: Path) -> Iterator[tuple[Any, HubProcess]]:
    """A running hub serving a site folder that the test builds."""
    with running_site_hub(make_app, db_url, tmp_path) as running:
        yield running


def school_with_pages(app: Any) -> tuple[Any, dict[str, Any]]:
    """The tiny school, two families with links, a week of journal, and the next build."""
    school = build_tiny_school()
    families = two_families(school)
    issue_links(NOW)
    post_week(app.test_client(), school)
    build(NOW)
    return school, families


def test_pages_built_after_start_up_are_served_and_removed_ones_answer_404(hub):
    app, server = hub
    school = build_tiny_school()
    families = two_families(school)
    token_url = None
    assert fetch(f"{server.url}/d/").status == 404  # nothing yet, and never a listing
    issue_links(NOW)
    link = links_of(families["smirnovs"])[0]
    token_url = f"{server.url}/d/{link.token}/"
    assert fetch(token_url).status == 404
    build(NOW)
    page = fetch(token_url)
    assert page.status == 200 and "Смирнов Павел" in page.text
    assert fetch(token_url + "index.html").status == 200
    redirect = fetch(token_url.rstrip("/"))
    assert redirect.status == 302 and redirect.headers["Referrer-Policy"] == "no-referrer"
    link.revoked_at = clock.now()
    db.session.commit()
    build(NOW)
    gone = fetch(token_url)
    assert gone.status == 404 and "Страница не найдена" in gone.text
    assert fetch(token_url + "child-1.html").status == 404


def test_headers_keep_the_token_private_and_pages_never_stale(hub):
    app, server = hub
    school, families = school_with_pages(app)
    url = f"{server.url}/d/{links_of(families['smirnovs'])[0].token}/"
    page = fetch(url, headers={"Accept-Encoding": "gzip"})
    assert page.status == 200 and page.headers["Content-Encoding"] == "gzip"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in page.headers["X-Robots-Tag"]
    assert page.headers["Cache-Control"] == "private, no-cache"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers.get("Access-Control-Allow-Origin") is None
    assert fetch(url, headers={"If-None-Match": page.headers["ETag"]}).status == 304
    from app.base.rebuild_queue import mark_families_dirty
    mark_families_dirty({families["smirnovs"].id})
    db.session.commit()
    build(NOW)
    assert fetch(url, headers={"If-None-Match": page.headers["ETag"]}).status == 200  # a rebuilt page is new
    css_name = page.text.split('href="../../')[1].split('"')[0]
    css = fetch(f"{server.url}/{css_name}")
    assert css.status == 200 and "immutable" in css.headers["Cache-Control"]
    robots = fetch(f"{server.url}/robots.txt")
    assert robots.status == 200 and "Disallow: /d/" in robots.text and robots.headers["X-Robots-Tag"]
    for path in ("/d/", "/.pages/", "/.state.json", "/.lock", "/d/../config.yaml", "/.staging/"):
        answer = fetch(f"{server.url}{path}")
        assert answer.status in (400, 404), path
    missing = fetch(f"{server.url}/d/{'b' * 32}/")
    assert missing.status == 404 and missing.headers["Referrer-Policy"] == "no-referrer"


def test_revoked_link_404s_after_next_build_never_stale(hub):
    app, server = hub
    school, families = school_with_pages(app)
    mother, father = links_of(families["ivanovs"])
    from static_site.links import revoke
    revoke(mother, clock.now())
    db.session.commit()
    assert fetch(f"{server.url}/d/{mother.token}/").status == 200  # until the next build
    build(NOW)
    assert fetch(f"{server.url}/d/{mother.token}/").status == 404
    assert fetch(f"{server.url}/d/{father.token}/").status == 200  # the other guardian's link lives on
    refused = fetch(f"{server.url}/ack", "POST", f"token={mother.token}&week=2026-W47&v=ab".encode())
    assert refused.status == 403 and "не действует" in refused.text


def test_consent_withdrawal_removes_pages_at_next_build(hub):
    app, server = hub
    school, families = school_with_pages(app)
    link = links_of(families["smirnovs"])[0]
    from tests.site_helpers import withdraw_consent
    withdraw_consent(link.guardian_id, on=app.extensions["tetrad.settings"].today())
    build(NOW)
    for name in ("", "child-1.html", f"{lesson_week_page(NOW)}.html"):
        assert fetch(f"{server.url}/d/{link.token}/{name}").status == 404


def test_student_who_left_disappears_and_a_family_with_no_child_left_loses_its_pages(hub):
    app, server = hub
    school, families = school_with_pages(app)
    today = app.extensions["tetrad.settings"].today()
    db.session.get(Student, school["st_first_grader"]).left_on = today  # Ольга left the school today
    db.session.get(Student, school["st_smirnov"]).left_on = today
    db.session.commit()
    build(NOW)
    ivanovs = links_of(families["ivanovs"])[0].token
    page = fetch(f"{server.url}/d/{ivanovs}/")
    assert page.status == 200 and "Иванова Мария" in page.text and "Белова" not in page.text
    assert fetch(f"{server.url}/d/{ivanovs}/child-2.html").status == 404
    assert fetch(f"{server.url}/d/{links_of(families['smirnovs'])[0].token}/").status == 404


def test_student_turning_18_disappears_at_next_build(hub):
    app, server = hub
    school, families = school_with_pages(app)
    today = app.extensions["tetrad.settings"].today()
    student = db.session.get(Student, school["st_ivanova"])
    student.birth_date = today.replace(year=today.year - 18)
    db.session.commit()
    build(NOW)
    token = links_of(families["ivanovs"])[0].token
    page = fetch(f"{server.url}/d/{token}/")
    assert page.status == 200 and "Белова Ольга" in page.text and "Иванова Мария" not in page.text
    assert "Мария" not in fetch(f"{server.url}/d/{token}/child-1.html").text
    assert fetch(f"{server.url}/d/{token}/child-2.html").status == 404


def test_views_are_counted_for_browsers_but_not_for_link_preview_bots(hub):
    app, server = hub
    school, families = school_with_pages(app)
    token = links_of(families["smirnovs"])[0].token
    page = fetch(f"{server.url}/d/{token}/")
    seen = page.text.split('<link rel="stylesheet" href="')[-1].split('"')[0]
    assert seen.startswith("seen-") and seen.endswith(".css")
    for agent in ("TelegramBot (like TwitterBot)", "WhatsApp/2.23.20.0", "facebookexternalhit/1.1", ""):
        answer = fetch(f"{server.url}/d/{token}/{seen}", headers={"User-Agent": agent})
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/css")
    assert db.session.scalars(select(WeekView)).all() == []
    assert fetch(f"{server.url}/d/{token}/{seen}").headers["Cache-Control"] == "no-store"
    fetch(f"{server.url}/d/{token}/{seen}")
    db.session.expire_all()
    view = db.session.scalars(select(WeekView)).one()
    assert view.family_id == families["smirnovs"].id and view.views == 2 and view.week == seen[5:-4]


def test_confirmation_over_http_records_who_confirmed_which_week(hub):
    app, server = hub
    school, families = school_with_pages(app)
    link = links_of(families["smirnovs"])[0]
    week = (app.extensions["tetrad.settings"].today()).strftime("%G-W%V")
    answer = fetch(f"{server.url}/ack", "POST", f"token={link.token}&week={week}&v=0123abcd".encode(),
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200 and "Спасибо" in answer.text and "Елена Викторовна" in answer.text
    ack = db.session.scalars(select(WeekAck)).one()
    assert (ack.family_id, ack.guardian_id, ack.week, ack.digest) == (
        families["smirnovs"].id, link.guardian_id, week, "0123abcd")
    future = fetch(f"{server.url}/ack", "POST", f"token={link.token}&week=2027-W10&v=ab".encode())
    assert future.status == 400


def _worker(config: Path, var: Path, db_url: str) -> subprocess.Popen[bytes]:
    """`flask --app wsgi site worker` beside the hub, as `make run` starts it."""
    env = {**os.environ, "DATABASE_URL": db_url, "TETRAD_VAR": str(var), "TETRAD_CONFIG": str(config),
           "TETRAD_SECRET_KEYS": ",".join(TEST_KEYS)}
    with (var / "worker.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "site", "worker", "--poll", "0.1"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


def test_a_class_batch_reaches_the_pages_through_the_worker(hub, db_url, tmp_path):
    # How fast is the bench's business (`make bench`: a class's batch to its pages); here only that it arrives.
    app, server = hub
    school, families = school_with_pages(app)
    from app.syncing.devices import register
    device, device_token = register("Ноутбук 7А", [school["c7"]])
    db.session.commit()
    worker = _worker(Path(server.env["TETRAD_CONFIG"]), tmp_path / "var", db_url)
    try:
        token = links_of(families["smirnovs"])[0].token
        url = f"{server.url}/d/{token}/{lesson_week_page(NOW)}.html"
        state = Path(server.env["TETRAD_CONFIG"]).parent / "site" / ".state.json"
        deadline = time.monotonic() + 60
        while not (state.exists() and "full_on" in state.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)  # the worker starts with a full rebuild of the day
        assert fetch(url).status == 200
        math = lesson_fields(school)[0]
        op = {"op": "mark-op-late-1", "seq": 1, "hlc": f"{ms_at(LESSON_DAY, 16):013d}-0000",
              "author": school["t_petrova"], "entity": "mark", "id": "mark-smirnov-worker", "action": "upsert",
              "fields": {"lesson": math, "student": school["st_smirnov"], "value": "4", "work_type": "oral",
                         "comment": "ответ-после-синхронизации"}, "base": None}
        body = json.dumps({"protocol": 1, "device": device.id, "ops": [op]}).encode()
        started = time.monotonic()
        answer = fetch(f"{server.url}/api/v1/sync", "POST", body, headers={
            "Authorization": f"Bearer {device_token}", "Content-Type": "application/json"})
        assert answer.status == 200, answer.text
        assert json.loads(answer.text)["results"][0]["status"] == "applied"
        while "ответ-после-синхронизации" not in fetch(url).text and time.monotonic() - started < 60:
            time.sleep(0.05)
        print(f"sync batch to updated page: {time.monotonic() - started:.2f} s")
        assert "ответ-после-синхронизации" in fetch(url).text
    finally:
        worker.terminate()
        worker.wait(timeout=10)
