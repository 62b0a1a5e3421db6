"""CLI commands, all under `flask --app wsgi <command>`."""

from __future__ import annotations

import click
from flask import Flask

from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
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
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def urls_command(host: str, port: int) -> None:
    """Print what to open once the hub is running."""
    base = f"http://{host}:{port}"
    click.echo("")
    click.echo(f"Tetrad hub for {settings().school_name}")
    click.echo(f"  Sync API status:  {base}/api/v1/status   (needs a device token)")
    click.echo(f"  Hub health:       {base}/healthz")
    for line in credential_lines(base):
        click.echo(line)
    click.echo("")


@click.command("calendar")
def calendar_command() -> None:
    """Write the school, academic year, periods and holidays from config.yaml into the database."""
    year = ensure_calendar(settings())
    db.session.commit()
    click.echo(f"Учебный год {year.name}: календарь обновлён.")
