"""CLI commands, all under `flask --app wsgi <command>`."""

from __future__ import annotations

import os

import click
from flask import Flask

from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.school_calendar import CalendarError
from app.base.settings import hub_url, is_loopback
from app.staff.demo import credential_lines


def init_app(app: Flask) -> None:
    """Register every command on the app."""
    from app.cli import (
        backup,
        consent,
        demo,
        device,
        importer,
        links,
        notify,
        paper,
        restore,
        rollover,
        site,
        staff,
        sync_file,
        teacher,
        timetable,
        year,
    )

    app.cli.add_command(urls_command)
    app.cli.add_command(calendar_command)
    app.cli.add_command(demo.demo_command)
    app.cli.add_command(importer.import_command)
    app.cli.add_command(backup.backup_group)
    app.cli.add_command(restore.restore_command)
    rollover.register(year.year_group)
    app.cli.add_command(year.year_group)
    app.cli.add_command(year.archive_group)
    app.cli.add_command(device.device_group)
    app.cli.add_command(sync_file.sync_group)
    app.cli.add_command(timetable.timetable_group)
    app.cli.add_command(staff.staff_group)
    app.cli.add_command(teacher.teacher_group)
    app.cli.add_command(links.links_group)
    app.cli.add_command(site.site_group)
    app.cli.add_command(paper.slips_group)
    app.cli.add_command(paper.print_group)
    app.cli.add_command(consent.consent_group)
    app.cli.add_command(notify.notify_group)


@click.command("urls")
@click.option("--host", help="Адрес, на котором запущен хаб (по умолчанию — из TETRAD_HUB_URL или 127.0.0.1).")
@click.option("--port", type=int, help="Порт хаба (по умолчанию 5000).")
def urls_command(host: str | None, port: int | None) -> None:
    """Показать, что открыть, когда хаб запущен (print the hub's addresses)."""
    env = os.environ.get("TETRAD_HUB_URL")
    base = hub_url(host or "127.0.0.1", port or 5000) if (host or port or not env) else env.rstrip("/")
    conf = settings()
    click.echo("")
    click.echo(f"Хаб «Тетрадь» школы «{conf.school_name}»")
    click.echo(f"  Состояние API синхронизации: {base}/api/v1/status   (нужен токен устройства)")
    click.echo(f"  Проверка хаба:               {base}/healthz")
    for line in credential_lines(base):
        click.echo(line)
    if is_loopback(conf.site_base_url):
        click.echo(f"  Внимание: ссылки семей ведут на {conf.site_base_url} — этот адрес открывается только на "
                   "этом компьютере. Задайте site.base_url в config.yaml или запустите хаб на адресе сети "
                   "(make run HOST=0.0.0.0).")
    click.echo("")


@click.command("calendar")
def calendar_command() -> None:
    """Записать в базу школу, учебный год, периоды и каникулы из config.yaml (calendar)."""
    try:
        year = ensure_calendar(settings())
    except CalendarError as exc:  # nothing written: the database keeps its calendar
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    if year.calendar_edited_at is not None:  # the school's own calendar wins (app/base/school_calendar.py)
        click.echo(f"Учебный год {year.name}: периоды и каникулы изменены на странице «Календарь» и остаются "
                   "такими (config.yaml их не меняет; вернуть календарь файла можно там же).")
        return
    click.echo(f"Учебный год {year.name}: календарь обновлён.")
