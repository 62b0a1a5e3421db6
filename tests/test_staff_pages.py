"""Machines, dashboard, families and links, accounts and the demo accounts, through the staff pages."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import AuditEntry, Device, DirtyFamily, Family, FamilyLink, Guardian, StaffUser
from app.staff import machines
from app.staff.demo import create_demo_accounts, credential_lines
from app.staff.users import authenticate, set_password
from sync import clock
from tests.school import build_tiny_school
from tests.staff_support import family_with_link, make_accounts, post, sign_in, world

ROOT = Path(__file__).resolve().parent.parent

TOKEN_AREA = re.compile(r'<textarea id="token"[^>]*>([^<]+)</textarea>')


def _status(client, token: str) -> int:
    return client.get("/api/v1/status", headers={"Authorization": f"Bearer {token}"}).status_code


def test_registering_a_machine_shows_its_working_token_once(client):
    w = world(client)
    sign_in(client, "admin")
    response = post(client, "/staff/devices/", {"name": "Кабинет 21", "classes": [w["school"]["c7"]]})
    token = TOKEN_AREA.search(response.get_data(as_text=True)).group(1)
    assert response.headers["Cache-Control"] == "no-store"
    assert _status(client, token) == 200
    device = db.session.scalars(select(Device).where(Device.name == "Кабинет 21")).one()
    listing = client.get("/staff/devices/").get_data(as_text=True)
    assert "Кабинет 21" in listing and token not in listing
    assert re.search(r"Кабинет 21.*?<td>7А</td>", listing, re.S)
    renewed = TOKEN_AREA.search(post(client, f"/staff/devices/{device.id}/token").get_data(as_text=True)).group(1)
    assert (_status(client, token), _status(client, renewed)) == (401, 200)
    post(client, f"/staff/devices/{device.id}/revoke")
    assert _status(client, renewed) == 403
    actions = [(e.action, e.object) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == [("device.register", f"device:{device.id}"), ("device.token", f"device:{device.id}"),
                       ("device.revoke", f"device:{device.id}")]


def test_a_machine_is_silent_after_more_than_two_nights(app):
    now = dt.datetime(2026, 11, 22, 7, 0, tzinfo=dt.UTC)  # Sunday 10:00 in Moscow
    friday_night = dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC)  # 23:00 Moscow
    thursday_night = dt.datetime(2026, 11, 19, 20, 0, tzinfo=dt.UTC)
    assert machines.nights_since(friday_night, now) == 2
    assert machines.nights_since(thursday_night, now) == 3
    db.session.add_all([
        Device(id="dev-a", name="Кабинет 1", created_at=thursday_night, last_sync_at=friday_night, token_generation=1,
               acked_seq=0, last_skew_ms=0, skewed=False),
        Device(id="dev-b", name="Кабинет 2", created_at=thursday_night, last_sync_at=thursday_night,
               token_generation=1, acked_seq=0, last_skew_ms=45000, skewed=True),
        Device(id="dev-c", name="Кабинет 3", created_at=thursday_night, token_generation=1, acked_seq=0,
               last_skew_ms=0, skewed=False),
    ])
    db.session.commit()
    states = {s.device.id: s for s in machines.machine_states(now)}
    assert [(k, states[k].silent) for k in ("dev-a", "dev-b", "dev-c")] == [
        ("dev-a", False), ("dev-b", True), ("dev-c", True)]
    assert states["dev-b"].skew_seconds == 45.0


def test_the_dashboard_shows_machines_todays_review_work_and_the_site_queue(client):
    w = world(client)
    assert db.session.get(DirtyFamily, w["family"]) is not None  # queued when its link was issued
    stale = db.session.get(Device, w["device"])
    stale.last_sync_at = clock.now() - dt.timedelta(days=4)
    db.session.commit()
    sign_in(client, "director")
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/staff/dashboard/").get_data(as_text=True)))
    assert "Исправлений на утверждении за сегодня: 1" in page
    assert "Конфликтов за сегодня: 1" in page and "Всего отклонённых операций: 1" in page
    assert "Семей в очереди на пересборку сайта: 1" in page
    assert "нет связи, ночей: 4" in page
    assert "Отключить" not in page  # the director changes nothing


def test_links_are_issued_rotated_revoked_and_printed_from_the_families_page(client):
    w = world(client)
    sign_in(client, "admin")
    page = client.get(f"/staff/families/?class={w['school']['c7']}").get_data(as_text=True)
    assert "Иванова Ольга Николаевна" in page and "+7 900 000-00-01" in page
    assert "согласие дано" in page and "01.11.2026" not in page and "01.09.2026" in page and "заявление № 5" in page
    letter = client.get(f"/staff/families/links/{w['link']}/letter").get_data(as_text=True)
    token = db.session.get(FamilyLink, w["link"]).token
    assert "Уважаемая Ольга Николаевна!" in letter and f"/d/{token}/" in letter and "<svg" in letter
    assert "Иванова Мария Петровна, 7А класс" in letter
    post(client, f"/staff/families/links/{w['link']}/rotate")
    db.session.expire_all()
    old = db.session.get(FamilyLink, w["link"])
    assert old.revoked_reason == "rotated"
    new = db.session.scalars(select(FamilyLink).where(FamilyLink.revoked_at.is_(None))).one()
    assert client.get(f"/staff/families/links/{w['link']}/letter").status_code == 404
    post(client, f"/staff/families/links/{new.id}/revoke")
    db.session.expire_all()
    assert db.session.get(FamilyLink, new.id).revoked_reason == "revoked"
    post(client, f"/staff/families/{w['family']}/links", {"guardian": w["guardian"]})
    assert db.session.scalars(select(FamilyLink).where(FamilyLink.revoked_at.is_(None))).one().guardian_id == \
        w["guardian"]
    actions = [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["link.rotate", "link.revoke", "link.issue"]
    assert db.session.get(DirtyFamily, w["family"]) is not None  # the site builder will pick the family up


def test_a_link_is_refused_to_a_guardian_without_consent(client):
    w = world(client)
    father = Guardian(last_name="Иванов", first_name="Пётр", middle_name="Сергеевич", relation="отец")
    db.session.add(father)
    db.session.flush()
    family = db.session.get(Family, w["family"])
    family.guardians.append(father)
    db.session.commit()
    sign_in(client, "admin")
    post(client, f"/staff/families/{w['family']}/links", {"guardian": father.id})
    page = client.get(f"/staff/families/?class={w['school']['c7']}").get_data(as_text=True)
    assert "Нет согласия на обработку персональных данных от Иванов Пётр Сергеевич." in page
    assert db.session.scalars(select(FamilyLink).where(FamilyLink.guardian_id == father.id)).all() == []


def test_an_administrator_adds_an_account_whose_generated_password_works(client, app):
    build_tiny_school()
    make_accounts()
    sign_in(client, "admin")
    page = post(client, "/staff/accounts/", {"login": "Sekretar", "role": "administrator", "name": "Секретарь"})
    password = re.search(r'<code class="token">([^<]+)</code>', page.get_data(as_text=True)).group(1)
    other = app.test_client()
    assert sign_in(other, "sekretar", password).status_code == 302
    refused = post(client, "/staff/accounts/", {"login": "uchitel2", "role": "subject_teacher"})
    assert refused.status_code == 400 and "табельный номер" in refused.get_data(as_text=True)


def test_the_demo_has_one_account_per_role_and_urls_prints_them(app):
    build_tiny_school()
    assert create_demo_accounts() == ["admin", "director", "zavuch", "klass", "uchitel"]
    assert create_demo_accounts() == []
    users = {u.login: u for u in db.session.scalars(select(StaffUser))}
    assert users["klass"].name == "Петрова Анна Ивановна" and users["uchitel"].name == "Сидоров Олег Петрович"
    assert authenticate("zavuch", "zavuch-demo") is not None
    lines = credential_lines("http://127.0.0.1:5000")
    assert lines[0] == "  Страницы сотрудников:        http://127.0.0.1:5000/staff/"
    assert any("zavuch" in line and "zavuch-demo" in line for line in lines)
    set_password(users["admin"], "a-secret-now")
    db.session.commit()
    assert not any("admin-demo" in line for line in credential_lines("http://h"))


def test_an_administrator_rebuilds_the_family_site_with_progress(app, make_app, tmp_path):
    config = (ROOT / "config.yaml").read_text(encoding="utf-8").replace("output_dir: var/site",
                                                                         f"output_dir: {tmp_path / 'site'}")
    (tmp_path / "config.yaml").write_text(config, encoding="utf-8")
    school = build_tiny_school()
    make_accounts()
    _family, _guardian, link = family_with_link(school)
    hub = make_app(TETRAD_CONFIG=str(tmp_path / "config.yaml"), STAFF_JOBS_INLINE=True)
    client = hub.test_client()
    sign_in(client, "admin")
    job_page = post(client, "/staff/dashboard/rebuild-site").headers["Location"]
    page = client.get(job_page).get_data(as_text=True)
    assert "Завершено: 1 из 1." in page and "семей собрано" in page
    assert (tmp_path / "site" / "d" / link.token / "index.html").exists()
    assert "Последняя сборка:" in client.get("/staff/dashboard/").get_data(as_text=True)
    assert db.session.scalar(select(DirtyFamily.family_id)) is None  # the queue was taken
