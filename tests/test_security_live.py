"""Issue 10, findings 2–10, checked as they were found: by real HTTP against a running hub (gunicorn, or the
`flask run` of `make run`), and on the real files the hub and the CLI create."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.base.extensions import db
from app.base.permissions import private_dir, private_file
from tests.conftest import ROOT, TEST_KEYS, _empty_all_tables
from tests.hub_process import HubProcess
from tests.school import build_tiny_school
from tests.site_helpers import links_of, running_site_hub, site_config
from tests.staff_support import PASSWORD, TOKEN, make_accounts
from tests.test_site_hub import fetch, school_with_pages


class Browser:
    """A staff member's browser over plain HTTP: it keeps the session cookie itself (a Secure cookie too, as a
    browser behind TLS would), and can hand a copy of it to someone else."""

    def __init__(self, base: str, forwarded_for: str | None = None, cookie: str | None = None) -> None:
        self.base, self.forwarded_for, self.cookie = base, forwarded_for, cookie
        self.set_cookie = ""

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, Any]:
        """GET, or POST a form; no redirects followed. Returns status, body and headers."""
        body = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in data.items()).encode() if data else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if data is not None else {}
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        if self.cookie:
            headers["Cookie"] = self.cookie
        answer = fetch(self.base + path, "POST" if data is not None else "GET", body, headers)
        cookie = answer.headers.get("Set-Cookie")
        if cookie:
            self.set_cookie = cookie
            value = cookie.split(";")[0]
            self.cookie = None if value.endswith("=") else value
        return answer.status, answer.body.decode("utf-8", "replace"), answer.headers

    def token(self) -> str:
        status, page, _ = self.request("/staff/login")
        if status != 200:
            page = self.request("/staff/password")[1]
        found = TOKEN.search(page)
        assert found, page[:300]
        return found[1]

    def sign_in(self, login: str, password: str = PASSWORD) -> int:
        return self.request("/staff/login", {"login": login, "password": password, "csrf_token": self.token()})[0]


@pytest.fixture
def staff_hub(make_app: Any, db_url: str, tmp_path: Path) -> Iterator[HubProcess]:
    """A gunicorn hub behind one (pretended) proxy, with an https public address, and the staff accounts."""
    config = site_config(tmp_path, "https://hub.school.example")
    config.write_text(config.read_text(encoding="utf-8").replace("proxy_count: 0", "proxy_count: 1"),
                      encoding="utf-8")
    hub = HubProcess(db_url, tmp_path / "var", TEST_KEYS)
    hub.env["TETRAD_CONFIG"] = str(config)
    app = make_app(TETRAD_CONFIG=config)
    with app.app_context():
        _empty_all_tables()
        build_tiny_school()
        make_accounts()
        hub.start()
        try:
            yield hub
        finally:
            hub.stop()
            db.session.remove()


def test_a_login_padded_with_spaces_is_throttled_like_the_login_itself(staff_hub):
    """Finding 2: after five failures for zavuch, «zavuch<spaces>x» once logged in with the right password."""
    browser = Browser(staff_hub.url, forwarded_for="10.0.0.5")
    for _ in range(5):
        assert browser.sign_in("zavuch", "wrong-password") == 401
    assert browser.sign_in("zavuch") == 429
    assert browser.sign_in("  ZAVUCH  ") == 429
    assert browser.sign_in("zavuch" + " " * 60 + "x") == 401  # over-long: refused, never checked
    assert browser.sign_in("zavuch" + " " * 54) == 429  # padded to 60: the same account, still locked
    assert browser.sign_in("director") == 302


def test_behind_the_proxy_each_person_has_their_own_address_and_a_delay_not_a_lock(staff_hub):
    """Finding 3: behind nginx every client was 127.0.0.1, so 30 failures from anyone locked everyone out."""
    guesser = Browser(staff_hub.url, forwarded_for="203.0.113.7")
    for number in range(12):
        assert guesser.sign_in(f"nobody{number}", "wrong-password") == 401 or number >= 10
    status, page, _ = guesser.request("/staff/login", {"login": "nobody99", "password": "x",
                                                        "csrf_token": guesser.token()})
    assert status == 429 and " с." in page  # seconds, not the rest of a quarter of an hour
    colleague = Browser(staff_hub.url, forwarded_for="203.0.113.7, 10.0.0.8")  # a forged first hop is ignored
    assert colleague.sign_in("director") == 302


def test_logout_ends_the_session_for_every_copy_of_the_cookie(staff_hub):
    """Finding 5: a copied cookie still worked after POST /staff/logout, for 10 hours."""
    browser = Browser(staff_hub.url)
    assert browser.sign_in("zavuch") == 302
    copy = Browser(staff_hub.url, cookie=browser.cookie)
    assert copy.request("/staff/review/")[0] == 200
    assert browser.request("/staff/logout", {"csrf_token": browser.token()})[0] == 302
    status, _, headers = copy.request("/staff/review/")
    assert status == 302 and "/staff/login" in headers["Location"]


def test_the_session_cookie_is_secure_when_the_public_address_is_https(staff_hub):
    """Finding 8: without TETRAD_HTTPS=1, which the guide never set, the cookie went without Secure."""
    browser = Browser(staff_hub.url)
    assert browser.sign_in("director") == 302
    flags = [part.strip().lower() for part in browser.set_cookie.split(";")]
    assert "secure" in flags and "httponly" in flags


@pytest.fixture
def site_hub(make_app: Any, db_url: str, tmp_path: Path) -> Iterator[tuple[Any, HubProcess]]:
    """A gunicorn hub with its access log on, serving a site folder the test builds."""
    with running_site_hub(make_app, db_url, tmp_path, extra_args=("--access-logfile", "-")) as pair:
        yield pair


def test_family_pages_private_caching_redirect_not_stored_ack_headers_and_bad_paths_404(site_hub):
    """Findings 7 and 9: a NUL byte answered 500; the redirect was public for 5 minutes; /ack lacked headers."""
    app, server = site_hub
    _school, families = school_with_pages(app)
    token = links_of(families["smirnovs"])[0].token
    page = fetch(f"{server.url}/d/{token}/")
    assert page.status == 200 and page.headers["Cache-Control"] == "private, no-cache"
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    redirect = fetch(f"{server.url}/d/{token}")
    assert redirect.status == 302 and redirect.headers["Cache-Control"] == "no-store"
    ack = fetch(f"{server.url}/ack", "POST", f"token={token}&week=2026-W47&v=ab".encode())
    assert ack.status == 200
    assert "frame-ancestors 'none'" in ack.headers["Content-Security-Policy"]
    assert ack.headers["X-Content-Type-Options"] == "nosniff" and ack.headers["X-Frame-Options"] == "DENY"
    for path in (f"/d/{token}%00/", f"/d/{token}/index.html%00", "/d/%00", f"/d/{token}/%ff%fe.html",
                 "/d/%C0%AE%C0%AE/config.yaml", f"/d/{token}/..%2f..%2fconfig.yaml"):
        answer = fetch(server.url + path)
        assert answer.status == 404, (path, answer.status, answer.body[:200])
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log


def test_the_access_logs_never_hold_a_family_token(site_hub, db_url, tmp_path):
    """Finding 6: gunicorn's access log (and `flask run`'s request log) held GET /d/<token>/… lines."""
    app, server = site_hub
    _school, families = school_with_pages(app)
    token = links_of(families["smirnovs"])[0].token
    assert fetch(f"{server.url}/d/{token}/").status == 200
    fetch(f"{server.url}/d/{token}/seen-2026-W47.css")
    fetch(f"{server.url}/d/{token}?token={token}")
    gunicorn_log = server.log.read_text(encoding="utf-8", errors="replace")
    assert '"GET /d/…/ HTTP/1.1" 200' in gunicorn_log
    assert token not in gunicorn_log
    development = HubProcess(db_url, tmp_path / "dev-var", TEST_KEYS, development=True).start()  # `flask run`
    try:
        fetch(f"{development.url}/d/{token}/")
        fetch(f"{development.url}/d/{token}/seen-2026-W47.css")
    finally:
        development.stop()
    dev_log = development.log.read_text(encoding="utf-8", errors="replace")
    assert "GET /d/…/" in dev_log and token not in dev_log


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_keys_backups_and_site_folder_are_created_owner_only(tmp_path):
    """Finding 10: var/tetrad.db was created 0644 by `make run` and the CLI; backups and the site folder too."""
    var = tmp_path / "var"
    config = site_config(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TETRAD_SECRET_KEYS")}
    env.update(TETRAD_VAR=str(var), TETRAD_CONFIG=str(config))
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
    for command in (["db", "upgrade"], ["backup", str(tmp_path / "backups")]):
        done = subprocess.run([*flask, *command], cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    assert _mode(var) == 0o700
    assert _mode(var / "tetrad.db") == 0o600 and _mode(var / "secret_keys.json") == 0o600
    for sidecar in (var / "tetrad.db-wal", var / "tetrad.db-shm"):
        if sidecar.exists():
            assert _mode(sidecar) & 0o077 == 0, sidecar
    assert _mode(tmp_path / "site") == 0o700
    backups = tmp_path / "backups"
    assert _mode(backups) == 0o700
    copies = [c for c in backups.glob("tetrad-*") if c.is_dir()]
    assert copies and all(_mode(c) == 0o700 for c in copies)
    assert all(_mode(f) == 0o600 for c in copies for f in c.iterdir())
    # an existing world-readable database (an older hub's) loses the world's access at the next start
    os.chmod(var / "tetrad.db", 0o644)
    done = subprocess.run([*flask, "calendar"], cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert _mode(var / "tetrad.db") == 0o640


def test_a_token_in_any_request_line_is_masked():
    from app.base.logmask import mask_tokens

    token = "abcdefghijklmnopqrstuvwxyz234567"
    line = f'127.0.0.1 - - "GET /d/{token}/2026-W47.html?token={token}&x=1 HTTP/1.1" 200 -'
    assert mask_tokens(line) == '127.0.0.1 - - "GET /d/…/2026-W47.html?token=…&x=1 HTTP/1.1" 200 -'
    assert re.search(token, mask_tokens(f"POST /ack token={token}")) is None


def test_a_shared_folder_keeps_its_access_when_the_database_is_put_in_it(tmp_path):
    """A database in /tmp (sticky, shared) must not take /tmp away from everyone else; its own file is private."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    private_dir(shared)
    assert _mode(shared) == 0o1777
    private_file(shared / "tetrad.db")
    assert _mode(shared / "tetrad.db") == 0o600
