"""`flask --app wsgi site build [--all]` and `site worker`: the family diary site."""

from __future__ import annotations

import sys

import click
from flask import current_app
from sqlalchemy import func, select

from app.base import settings
from app.base.extensions import db
from app.base.models import DirtyFamily
from static_site import publish, worker
from static_site.build import BuildReport, build_all, build_dirty, family_count, site_lock, sweep
from static_site.parallel import cores

site_group = click.Group("site", help="Сайт-дневник для семей: сборка страниц.")


def _summary(report: BuildReport) -> str:
    seconds = f"{report.seconds:.1f}".replace(".", ",")
    return (f"Готово за {seconds} с: семей {report.families}, ссылок опубликовано {report.links}, "
            f"страниц {report.pages}, убрано наборов страниц {report.removed}.")


@site_group.command("build")
@click.option("--all", "all_", is_flag=True, help="Пересобрать страницы всех семей, а не только изменившихся.")
@click.option("--jobs", type=click.IntRange(1, 16), default=cores(), show_default=True,
              help="Сколько процессов собирают страницы при --all.")
def build_command(all_: bool, jobs: int) -> None:
    """Собрать страницы семей (build): изменившиеся или, с --all, все."""
    conf = settings()
    root = conf.site_output_dir
    with site_lock(root):
        if all_:
            with click.progressbar(length=family_count(), label="Сборка страниц всех семей", file=sys.stderr) as bar:
                report = build_all(conf, progress=bar.update, processes=jobs)
        else:
            sweep(conf)
            pending = db.session.scalar(select(func.count()).select_from(DirtyFamily))
            with click.progressbar(length=pending or 0, label="Сборка изменившихся страниц", file=sys.stderr) as bar:
                report = build_dirty(conf, limit=10**9, progress=bar.update)
        publish.collect_garbage(root)
    click.echo(_summary(report))
    click.echo(f"Папка сайта: {root}")


@site_group.command("worker")
@click.option("--poll", type=float, default=0.25, show_default=True, help="Пауза между проверками очереди, с.")
@click.option("--sweep", "sweep_every", type=float, default=30.0, show_default=True,
              help="Как часто искать устаревшие страницы (отзыв согласия, выбытие), с.")
def worker_command(poll: float, sweep_every: float) -> None:
    """Держать сайт свежим (worker): собирать страницы после каждой синхронизации, рядом с хабом."""
    click.echo(f"Сборщик сайта запущен: {settings().site_output_dir}", err=True)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        worker.run(app, poll=poll, sweep_every=sweep_every, echo=lambda line: click.echo(line, err=True))
    except KeyboardInterrupt:
        click.echo("Сборщик сайта остановлен.", err=True)
