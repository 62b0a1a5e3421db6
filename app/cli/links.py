"""`flask --app wsgi links issue|rotate|revoke|export|example`: family links for the staff who hand them out."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import click
from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import FamilyLink, Guardian, Student
from static_site.access import family_access
from static_site.invitations import issue_code, spoken
from static_site.links import (
    LinkRefused,
    active,
    export_rows,
    families_named,
    find_link,
    issue,
    issue_missing,
    issue_student,
    link_url,
    revoke,
    rotate,
)
from sync import clock

links_group = click.Group("links", help="Ссылки на дневник: выдать (и ученику — свою), заменить, отозвать, выгрузить.")


def _expiry(days: int | None, now: dt.datetime) -> dt.datetime | None:
    return now + dt.timedelta(days=days) if days else None


def _echo_link(link: FamilyLink) -> None:
    guardian = db.session.get(Guardian, link.guardian_id)
    click.echo(f"{guardian.full_name if guardian else link.guardian_id}: {link_url(settings(), link.token)}")


@links_group.command("issue")
@click.option("--all", "all_", is_flag=True, help="Каждому родителю с согласием, у кого ещё нет действующей ссылки.")
@click.option("--family", help="Семья: её id или часть названия.")
@click.option("--guardian", "guardian_id", help="Родитель (законный представитель): его id.")
@click.option("--days", type=click.IntRange(1, 3650), help="Срок действия в днях (по умолчанию бессрочно).")
@click.option("--quiet", is_flag=True, help="Только итог, без списка ссылок.")
def issue_command(all_: bool, family: str | None, guardian_id: str | None, days: int | None, quiet: bool) -> None:
    """Выдать ссылки (issue links): по одной на каждого родителя с согласием."""
    conf, now = settings(), clock.now()
    today = conf.today(now)
    if all_:
        issued = issue_missing(today, now, _expiry(days, now))
    else:
        if not (family or guardian_id):
            raise click.UsageError("Укажите --all, --family или --guardian.")
        issued = []
        families = families_named(family) if family else []
        if guardian_id:
            guardian = db.session.get(Guardian, guardian_id)
            if guardian is None:
                raise click.ClickException(f"Родитель {guardian_id} не найден.")
            accesses = family_access(None, today, now).values()
            pairs = [(a, guardian) for a in accesses if guardian in a.family.guardians
                     and (not families or a.family in families)]
        else:
            if not families:
                raise click.ClickException(f"Семья «{family}» не найдена.")
            accesses = family_access([f.id for f in families], today, now).values()
            pairs = [(a, g) for a in accesses for g in a.family.guardians if g.id in a.consenting]
        if not pairs:
            raise click.ClickException("Некому выдать ссылку: нет родителя с согласием в такой семье.")
        try:
            for access, guardian in pairs:
                issued.append(issue(access, guardian, now, _expiry(days, now)))
        except LinkRefused as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
    db.session.commit()
    if not quiet:
        for link in issued:
            _echo_link(link)
    click.echo(f"Выдано ссылок: {len(issued)}. Страницы появятся после ближайшей сборки сайта.")


@links_group.command("student")
@click.argument("student")
@click.option("--days", type=click.IntRange(1, 3650), help="Срок действия в днях (по умолчанию бессрочно).")
def student_command(student: str, days: int | None) -> None:
    """Выдать ученику собственную ссылку (student link): только его дневник, с согласия родителя.

    STUDENT — id ученика или номер личного дела. Ученик должен быть не младше access.student_min_age лет.
    """
    conf, now = settings(), clock.now()
    today = conf.today(now)
    found = db.session.get(Student, student) or db.session.scalars(
        select(Student).where(Student.file_no == student)).first()
    if found is None:
        raise click.ClickException(f"Ученик «{student}» не найден (id или номер личного дела).")
    families = [a for a in family_access(None, today, now).values() if found in a.family.students]
    if not families:
        raise click.ClickException(f"{found.full_name} не входит ни в одну семью.")
    try:
        link = issue_student(families[0], found, now, today, conf.student_min_age, _expiry(days, now))
    except LinkRefused as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{found.full_name} (ученик): {link_url(conf, link.token)}")
    click.echo("Страницы появятся после ближайшей сборки сайта.")


@links_group.command("code")
@click.argument("link")
@click.option("--by", default="cli", show_default=True, help="Кто выдаёт код (для журнала действий).")
def code_command(link: str, by: str) -> None:
    """Выдать пригласительный код к ссылке (invitation code): продиктовать по телефону, действует один раз.

    Семья открывает адрес хаба /code и вводит код; код показывается только сейчас и нигде не хранится.
    """
    conf, now = settings(), clock.now()
    found = find_link(link)
    if found is None or found.revoked_at is not None:
        raise click.ClickException("Такой действующей ссылки нет.")
    access = family_access([found.family_id], conf.today(now), now)[found.family_id]
    if found not in access.live:
        raise click.ClickException("По этой ссылке сейчас ничего не показывается, код к ней выдать нельзя.")
    code = issue_code(found, by, now, conf.code_hours)
    db.session.commit()
    until = (now + dt.timedelta(hours=conf.code_hours)).astimezone(conf.timezone)
    click.echo(f"Пригласительный код: {spoken(code)} (до {until:%d.%m.%Y %H:%M}, один раз)")
    click.echo(f"Семья вводит его на странице {conf.site_base_url}/code")


@links_group.command("rotate")
@click.argument("link")
def rotate_command(link: str) -> None:
    """Заменить ссылку новой (rotate): старая перестанет открываться после ближайшей сборки."""
    conf, now = settings(), clock.now()
    found = find_link(link)
    if found is None or found.revoked_at is not None:
        raise click.ClickException("Такой действующей ссылки нет.")
    try:
        new = rotate(found, conf.today(now), now)
    except LinkRefused as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    _echo_link(new)


@links_group.command("revoke")
@click.argument("links", nargs=-1)
@click.option("--family", help="Все ссылки семьи: её id или часть названия.")
@click.option("--guardian", "guardian_id", help="Все ссылки родителя: его id.")
def revoke_command(links: tuple[str, ...], family: str | None, guardian_id: str | None) -> None:
    """Отозвать ссылки (revoke): страницы исчезнут после ближайшей сборки."""
    now = clock.now()
    chosen: list[FamilyLink] = []
    for text in links:
        found = find_link(text)
        if found is None:
            raise click.ClickException(f"Ссылка «{text}» не найдена.")
        chosen.append(found)
    if family:
        ids = [f.id for f in families_named(family)]
        if not ids:
            raise click.ClickException(f"Семья «{family}» не найдена.")
        chosen += db.session.scalars(select(FamilyLink).where(FamilyLink.family_id.in_(ids)))
    if guardian_id:
        chosen += db.session.scalars(select(FamilyLink).where(FamilyLink.guardian_id == guardian_id))
    if not chosen:
        raise click.UsageError("Укажите ссылку, --family или --guardian.")
    count = 0
    for link in chosen:
        if active(link, now):
            revoke(link, now)
            count += 1
    db.session.commit()
    click.echo(f"Отозвано ссылок: {count}. Страницы исчезнут после ближайшей сборки сайта.")


@links_group.command("export")
@click.option("--format", "format_", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Файл (по умолчанию — на экран).")
def export_command(format_: str, output: Path | None) -> None:
    """Выгрузить действующие ссылки (export): семья, родитель, ссылка, дети."""
    conf, now = settings(), clock.now()
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["Семья", "Родитель", "Ссылка", "Дети"])
    rows = export_rows(conf, conf.today(now), now)
    for row in rows:
        writer.writerow([row.family, row.guardian, row.url, row.children])
    if output is None:
        click.echo(buffer.getvalue(), nl=False)
    else:
        output.write_text(buffer.getvalue(), encoding="utf-8-sig", newline="")  # the BOM lets Excel read UTF-8
        click.echo(f"Ссылок: {len(rows)} → {output}", err=True)


@links_group.command("example")
def example_command() -> None:
    """Показать одну действующую ссылку, чтобы открыть дневник (for `make run`)."""
    conf, now = settings(), clock.now()
    rows = export_rows(conf, conf.today(now), now)
    if not rows:
        click.echo("Действующих ссылок нет: flask --app wsgi links issue --all")
        return
    several = [r for r in rows if ";" in r.children]
    row = (several or rows)[0]
    click.echo(f"  Дневник семьи «{row.family}» ({row.children}):")
    click.echo(f"  {row.url}")
