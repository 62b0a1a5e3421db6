"""Who may open which staff page and take which action: every role × every page and action, plus anonymous.

The expected rights are written out here, independently of app/staff/rights.py, from DOMAIN.md "Who uses
it": A administrator, D director, Z deputy director, C class teacher (Петрова, 7А), S subject teacher
(Сидоров, Russian in 7А). Allowed → 200 or a redirect, forbidden → 403, anonymous → the login page.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.base.extensions import db
from app.base.models import StaffJob
from app.staff import jobs
from app.staff.rights import RIGHTS, ROLES
from sync import clock
from tests.staff_support import ACCOUNTS, PASSWORD, csrf_token, family_across_classes, sign_in, world

ROLE_OF = {"A": "admin", "D": "director", "Z": "zavuch", "C": "petrova", "S": "sidorov"}
PUBLIC = "public"


def c7(w: dict[str, Any], **more: str) -> str:
    """A query string for class 7А."""
    args = {"class": w["school"]["c7"], **more}
    return "?" + "&".join(f"{k}={v}" for k, v in args.items())


# (what, method, path from the world, form data, roles allowed). Order matters only where an action
# consumes its object; a second decision on it is refused with a message, still a redirect.
MATRIX: list[tuple[str, str, Callable[[dict[str, Any]], str], dict[str, str], str]] = [
    ("home", "GET", lambda w: "/staff/", {}, "ADZCS"),
    ("dashboard", "GET", lambda w: "/staff/dashboard/", {}, "ADZ"),
    ("rebuild site", "POST", lambda w: "/staff/dashboard/rebuild-site", {}, "A"),
    ("review", "GET", lambda w: "/staff/review/", {}, "ADZCS"),
    ("approve", "POST", lambda w: f"/staff/review/op/{w['held']}/approve", {}, "Z"),
    ("decline", "POST", lambda w: f"/staff/review/op/{w['held']}/decline", {}, "Z"),
    ("replay", "POST", lambda w: f"/staff/review/op/{w['rejected']}/replay", {}, "AZ"),
    ("replay all", "POST", lambda w: "/staff/review/replay-all", {"code": "unknown_student"}, "AZ"),
    ("choose other", "POST", lambda w: f"/staff/review/conflict/{w['conflict']}/other", {}, "Z"),
    ("keep winner", "POST", lambda w: f"/staff/review/conflict/{w['conflict']}/keep", {}, "Z"),
    ("machines", "GET", lambda w: "/staff/devices/", {}, "ADZ"),
    ("register machine", "POST", lambda w: "/staff/devices/", {"name": "Кабинет 3"}, "A"),
    ("machine token", "POST", lambda w: f"/staff/devices/{w['device']}/token", {}, "A"),
    ("machine teachers", "POST", lambda w: f"/staff/devices/{w['device']}/teachers", {"teachers": "T"}, "A"),
    ("revoke machine", "POST", lambda w: f"/staff/devices/{w['device']}/revoke", {}, "A"),
    ("teacher PIN", "POST", lambda w: "/staff/devices/pin", {"teacher": "TEACHER"}, "A"),
    ("substitutions", "GET", lambda w: "/staff/timetable/", {}, "ADZ"),
    ("plan substitution", "POST", lambda w: "/staff/timetable/",
     {"kind": "substitution", "date": "2026-11-23", "slot": "3", "class": "C1", "teacher": "T"}, "Z"),
    ("remove substitution", "POST", lambda w: f"/staff/timetable/{w['change']}/remove", {}, "Z"),
    ("calendar", "GET", lambda w: "/staff/calendar/", {}, "ADZ"),
    ("save calendar", "POST", lambda w: "/staff/calendar/",
     {"holiday_rows": "1", "holiday-1-name": "Осенние каникулы", "holiday-1-start": "25.10.2026",
      "holiday-1-end": "04.11.2026", **{f"period-{n}-{part}": v for n, (a, b) in enumerate(
          [("01.09.2026", "24.10.2026"), ("05.11.2026", "29.12.2026"), ("12.01.2027", "20.03.2027"),
           ("30.03.2027", "31.05.2027")], start=1) for part, v in (("name", f"{n} четверть"), ("start", a),
                                                                   ("end", b))}}, "A"),
    ("calendar back to the file", "POST", lambda w: "/staff/calendar/reset", {}, "A"),
    ("families chooser", "GET", lambda w: "/staff/families/", {}, "ADZC"),
    ("families 7А", "GET", lambda w: "/staff/families/" + c7(w), {}, "ADZC"),
    ("families 1А", "GET", lambda w: f"/staff/families/?class={w['school']['c1']}", {}, "ADZ"),
    ("invitation letter", "GET", lambda w: f"/staff/families/links/{w['link']}/letter", {}, "ADZC"),
    # a family with a child in 7А and one in 1А: its link shows both, so 7А's class teacher may not hand it out
    ("letter, siblings elsewhere", "GET", lambda w: f"/staff/families/links/{w['sibling_link']}/letter", {}, "ADZ"),
    ("issue link", "POST", lambda w: f"/staff/families/{w['family']}/links", {"guardian": "G"}, "A"),
    ("issue student link", "POST", lambda w: f"/staff/families/{w['family']}/student-links", {"student": "STUDENT"},
     "A"),
    ("invitation code", "POST", lambda w: f"/staff/families/links/{w['link']}/code", {}, "A"),
    ("rotate link", "POST", lambda w: f"/staff/families/links/{w['link']}/rotate", {}, "A"),
    ("revoke link", "POST", lambda w: f"/staff/families/links/{w['link']}/revoke", {}, "A"),
    ("monitoring chooser", "GET", lambda w: "/staff/monitoring/", {}, "ADZC"),
    ("monitoring 7А", "GET", lambda w: "/staff/monitoring/" + c7(w), {}, "ADZC"),
    ("monitoring 1А", "GET", lambda w: f"/staff/monitoring/?class={w['school']['c1']}", {}, "ADZ"),
    ("monitoring CSV", "GET", lambda w: "/staff/monitoring/table.csv" + c7(w), {}, "ADZC"),
    ("reports chooser", "GET", lambda w: "/staff/reports/", {}, "ADZCS"),
    ("reports 7А", "GET", lambda w: "/staff/reports/" + c7(w), {}, "ADZCS"),
    ("reports 1А", "GET", lambda w: f"/staff/reports/?class={w['school']['c1']}", {}, "ADZ"),
    ("summary CSV", "GET", lambda w: "/staff/reports/summary.csv" + c7(w), {}, "ADZCS"),
    ("maths 7А", "GET", lambda w: "/staff/reports/course" + c7(w, subject=w["school"]["s_math"]), {}, "ADZC"),
    ("russian 7А", "GET", lambda w: "/staff/reports/course" + c7(w, subject=w["school"]["s_russian"]), {},
     "ADZCS"),
    ("marks CSV", "GET", lambda w: "/staff/reports/marks.csv" + c7(w, subject=w["school"]["s_russian"]), {},
     "ADZCS"),
    ("timeliness CSV", "GET", lambda w: "/staff/reports/timeliness.csv" + c7(w, subject=w["school"]["s_math"]),
     {}, "ADZC"),
    ("gaps CSV", "GET", lambda w: "/staff/reports/gaps.csv" + c7(w, subject=w["school"]["s_russian"]), {},
     "ADZCS"),
    ("printing", "GET", lambda w: "/staff/printing/", {}, "ADZC"),
    ("slips 7А", "GET", lambda w: "/staff/printing/slips" + c7(w, week="2026-W47"), {}, "ADZC"),
    ("slips 1А", "GET", lambda w: f"/staff/printing/slips?class={w['school']['c1']}", {}, "ADZ"),
    ("journal copy 7А", "GET", lambda w: "/staff/printing/journal" + c7(w, period="2"), {}, "ADZC"),
    ("summary sheet 7А", "GET", lambda w: "/staff/printing/summary" + c7(w), {}, "ADZC"),
    ("printing form 7А", "GET", lambda w: "/staff/printing/document" + c7(w, document="summary"), {}, "ADZC"),
    ("whole school's slips", "GET", lambda w: "/staff/printing/slips?school=1&week=2026-W47&all=1", {}, "ADZ"),
    ("journal copy file", "GET", lambda w: f"/staff/printing/jobs/{_journal_job(w)}/file", {}, "ADZC"),
    ("signed slip", "POST", lambda w: "/staff/printing/sign",
     {"student": "STUDENT", "week": "2026-W47", "signed_on": "2026-11-20"}, "AZC"),
    ("accounts", "GET", lambda w: "/staff/accounts/", {}, "AD"),
    ("add account", "POST", lambda w: "/staff/accounts/", {"login": "secretar", "role": "administrator"}, "A"),
    ("new password", "POST", lambda w: f"/staff/accounts/{w['users']['sidorov']}/password", {}, "A"),
    ("account role", "POST", lambda w: f"/staff/accounts/{w['users']['sidorov']}/role",
     {"role": "subject_teacher", "teacher": "T2"}, "A"),
    ("account on", "POST", lambda w: f"/staff/accounts/{w['users']['sidorov']}/active", {"active": "1"}, "A"),
    ("audit log", "GET", lambda w: "/staff/accounts/audit", {}, "ADZ"),
    ("send log", "GET", lambda w: "/staff/notify/", {}, "ADZ"),
    ("guardian's channels", "GET", lambda w: f"/staff/notify/guardian/{w['guardian']}", {}, "ADZ"),
    ("record channel consent", "POST", lambda w: f"/staff/notify/guardian/{w['guardian']}",
     {"channel": "email", "consent_on": "20.11.2026", "basis": "заявление № 7", "digest": "1"}, "A"),
    ("switch a channel off", "POST", lambda w: "/staff/notify/opt-out", {"guardian": "G", "channel": "sms"}, "A"),
    ("job progress", "GET", lambda w: f"/staff/jobs/{w['job']}", {}, "ADZCS"),
    ("own password page", "GET", lambda w: "/staff/password", {}, "ADZCS"),
    ("own password", "POST", lambda w: "/staff/password",
     {"current": PASSWORD, "new": PASSWORD, "repeat": PASSWORD}, "ADZCS"),
    ("access requests", "GET", lambda w: "/staff/access/", {}, "ADZC"),
    ("request form", "GET", lambda w: f"/staff/access/new?family={w['family']}", {}, "AC"),
    ("record request", "POST", lambda w: "/staff/access/new",
     {"family": "FAMILY", "guardian": "G", "students": "STUDENT", "received_on": "20.11.2026", "basis": "паспорт",
      "channel": "link", "consent": "1", "consent_on": "20.11.2026"}, "AC"),
    ("access request", "GET", lambda w: f"/staff/access/{w['request']}", {}, "ADZC"),
    ("issue access", "POST", lambda w: f"/staff/access/{w['request']}/issue", {}, "A"),
    ("refuse access", "POST", lambda w: f"/staff/access/{w['request']}/refuse", {"reason": "2.12.4"}, "A"),
    ("refusal decision", "GET", lambda w: f"/staff/access/{w['refused']}/refusal?format=html", {}, "ADZC"),
    ("blank consent form", "GET", lambda w: f"/staff/access/forms/{w['family']}?doc=consent&format=html", {},
     "ADZC"),
    ("consent history", "GET", lambda w: f"/staff/access/guardian/{w['guardian']}", {}, "ADZC"),
    ("record consent", "POST", lambda w: f"/staff/access/guardian/{w['guardian']}/consent",
     {"on": "20.11.2026", "basis": "согласие № 1", "channel": "link"}, "AC"),
    ("withdraw consent", "POST", lambda w: f"/staff/access/guardian/{w['guardian']}/withdraw",
     {"withdraw_on": "22.11.2026", "statement": "заявление № 2"}, "AC"),
    ("class lists", "GET", lambda w: "/staff/classlist/", {}, "ADZC"),
    ("class list 7А", "GET", lambda w: "/staff/classlist/" + c7(w), {}, "ADZC"),
    ("class list 1А", "GET", lambda w: f"/staff/classlist/?class={w['school']['c1']}", {}, "ADZ"),
    ("new student form", "GET", lambda w: "/staff/classlist/student/new" + c7(w), {}, "AC"),
    ("add student", "POST", lambda w: "/staff/classlist/student/new" + c7(w),
     {"file_no": "S8", "last_name": "Орлова", "first_name": "Вера", "birth_date": "04.05.2013",
      "enrolled_on": "16.11.2026"}, "AC"),
    ("student form", "GET", lambda w: f"/staff/classlist/student/{w['school']['st_smirnov']}", {}, "AC"),
    ("correct student", "POST", lambda w: f"/staff/classlist/student/{w['school']['st_smirnov']}",
     {"file_no": "S2", "last_name": "Смирнов", "first_name": "Павел", "middle_name": "Олегович",
      "birth_date": "02.05.2013", "enrolled_on": "01.09.2026"}, "AC"),
    ("move out form", "GET", lambda w: f"/staff/classlist/student/{w['school']['st_smirnov']}/leave", {}, "AC"),
    ("move out", "POST", lambda w: f"/staff/classlist/student/{w['school']['st_smirnov']}/leave",
     {"left_on": "22.11.2026", "left_order": "№ 1"}, "AC"),
    ("guardian form", "GET", lambda w: f"/staff/classlist/family/{w['family']}/guardian/{w['guardian']}", {}, "AC"),
    ("correct guardian", "POST", lambda w: f"/staff/classlist/family/{w['family']}/guardian/{w['guardian']}",
     {"last_name": "Иванова", "first_name": "Ольга", "middle_name": "Николаевна"}, "AC"),
    ("new guardian form", "GET", lambda w: f"/staff/classlist/family/{w['family']}/guardian", {}, "AC"),
    ("add guardian", "POST", lambda w: f"/staff/classlist/family/{w['family']}/guardian",
     {"last_name": "Иванов", "first_name": "Пётр"}, "AC"),
    ("take guardian out", "POST", lambda w: f"/staff/classlist/family/{w['family']}/guardian/{w['guardian']}/remove",
     {}, "AC"),
    ("import page", "GET", lambda w: "/staff/import/", {}, "A"),
    ("upload a spreadsheet", "POST", lambda w: "/staff/import/", {"file": "FILE"}, "A"),
    ("import a checked file", "POST", lambda w: "/staff/import/run", {"stored": "0000000000000000.csv"}, "A"),
    ("school year", "GET", lambda w: "/staff/year/", {}, "A"),
    ("year close", "POST", lambda w: "/staff/year/close", {}, "A"),  # refused: final marks are missing
    ("roll-over plan", "POST", lambda w: "/staff/year/plan", {}, "A"),  # refused: no year before this one
    ("roll-over run", "POST", lambda w: "/staff/year/open", {"stored": ""}, "A"),
    ("language", "POST", lambda w: "/staff/lang", {"lang": "ru"}, PUBLIC),
    ("login page", "GET", lambda w: "/staff/login", {}, PUBLIC),
    ("sign out", "POST", lambda w: "/staff/logout", {}, PUBLIC),
    ("sign in", "POST", lambda w: "/staff/login", {"login": "SELF", "password": PASSWORD}, PUBLIC),
]


def _request(client: Any, w: dict[str, Any], method: str, path: str, data: dict[str, str]) -> Any:
    if method == "GET":
        return client.get(path)
    known = {"G": w["guardian"], "SELF": w.get("login", "admin"), "STUDENT": w["school"]["st_ivanova"],
             "FAMILY": w["family"], "TEACHER": w["school"]["t_petrova"], "T": w["school"]["t_petrova"],
             "C1": w["school"]["c1"]}
    form: dict[str, Any] = {k: known.get(v, v) for k, v in data.items()}
    if form.get("file") == "FILE":
        form["file"] = (io.BytesIO("Предмет\nФизика\n".encode()), "subjects.csv")
    form["csrf_token"] = csrf_token(client)
    return client.post(path, data=form)


def _journal_job(w: dict[str, Any]) -> int:
    """A finished journal copy job of the signed-in account whose file was downloaded already."""
    job = StaffJob(kind="journal_copy", started_by=w.get("login", "admin"), started_at=clock.now(), state="done",
                   total=3, done=3, params={}, result={})
    db.session.add(job)
    db.session.commit()
    return job.id


def _job_for(login: str) -> int:
    job = StaffJob(kind="replay", started_by=login, started_at=clock.now(), state="done", total=1,
                   done=1, params={}, result={"applied": 1})
    db.session.add(job)
    db.session.commit()
    return job.id


@pytest.fixture
def quick_rebuild(monkeypatch):
    """The site rebuild and import jobs do nothing here (their own tests run them for real)."""
    monkeypatch.setitem(jobs._REGISTRY, "site_rebuild", lambda params, by, progress: {})
    monkeypatch.setitem(jobs._REGISTRY, "import", lambda params, by, progress: {"problems": []})


@pytest.mark.parametrize("letter", list(ROLE_OF))
def test_each_role_gets_exactly_its_pages_and_actions(client, letter, quick_rebuild):
    w = world(client)
    w["sibling_link"] = family_across_classes(w["school"]).id
    login = ROLE_OF[letter]
    w["job"], w["login"] = _job_for(login), login
    assert sign_in(client, login).status_code == 302
    outcomes = {}
    for what, method, path, data, roles in MATRIX:
        if what == "sign out":
            continue
        response = _request(client, w, method, path(w), data)
        allowed = roles == PUBLIC or letter in roles
        ok = response.status_code in (200, 302) and "/staff/login" not in response.headers.get("Location", "")
        outcomes[what] = "allowed" if ok else response.status_code
        expected = "allowed" if allowed else 403
        assert outcomes[what] == expected, f"{ACCOUNTS[login][0]} {method} {what}: got {outcomes[what]}"


def test_anonymous_visitors_are_sent_to_the_login_page(client, quick_rebuild):
    w = world(client)
    w["sibling_link"] = family_across_classes(w["school"]).id
    w["job"] = _job_for("admin")
    for what, method, path, data, roles in MATRIX:
        response = _request(client, w, method, path(w), data)
        if roles == PUBLIC:
            assert response.status_code in (200, 302), what
            continue
        assert response.status_code == 302, what
        assert response.headers["Location"].startswith("/staff/login"), what


def test_the_matrix_covers_every_staff_route(app):
    routes = {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/staff")
              and not rule.rule.startswith("/staff/static") for method in rule.methods - {"HEAD", "OPTIONS"}}
    covered = set()
    for _what, method, path, _data, _roles in MATRIX:
        fake = path({"held": 1, "rejected": 1, "conflict": 1, "device": "d", "family": "f", "link": "l", "job": 1,
                     "change": "c", "sibling_link": "l",
                     "users": {"sidorov": 1},
                     "school": {"c7": "x", "c1": "y", "s_math": "m", "s_russian": "r", "st_smirnov": "s"},
                     "guardian": "g", "request": "r", "refused": "x"}).split("?")[0]
        adapter = app.url_map.bind("localhost")
        endpoint, _args = adapter.match(fake, method=method)
        rule = next(r for r in app.url_map.iter_rules(endpoint))
        covered.add((rule.rule, method))
    assert routes - covered == set(), "staff routes missing from the rights matrix"


def test_a_subject_teacher_sees_only_the_subjects_taught(client):
    w = world(client)
    sign_in(client, "sidorov")
    page = client.get("/staff/reports/" + c7(w)).get_data(as_text=True)
    assert "Русский язык" in page and "Математика" not in page
    assert client.get("/staff/reports/").get_data(as_text=True).count("/staff/reports/?class=") == 1


def test_teachers_see_review_items_of_their_own_classes_and_subjects(client):
    w = world(client)
    sign_in(client, "sidorov")
    page = client.get("/staff/review/").get_data(as_text=True)
    assert f'id="conflict-{w["conflict"]}"' in page  # attendance at his Russian lesson
    assert f'id="op-{w["held"]}"' not in page  # a maths mark
    assert "Утвердить" not in page  # sees, never decides


def test_every_action_of_the_rights_table_is_documented():
    docs = (Path(__file__).resolve().parent.parent / "docs" / "staff.md").read_text(encoding="utf-8")
    for action, roles in RIGHTS.items():
        line = next((row for row in docs.splitlines() if row.startswith(f"| `{action}` |")), None)
        assert line is not None, f"{action} is missing from docs/staff.md"
        marks = [cell.strip() for cell in line.strip("|").split("|")[2:]]
        assert [role for role, mark in zip(ROLES, marks, strict=True) if mark == "✓"] == \
            [role for role in ROLES if role in roles], f"docs/staff.md disagrees with RIGHTS on {action}"
