"""`flask --app wsgi demo`: a realistic demo school for a first look, built the same way for the same seed."""

from __future__ import annotations

import datetime as dt
import sys
import time

import click
from sqlalchemy import func, select

from app.base import settings
from app.base.calendar import ensure_calendar
from app.base.extensions import db
from app.base.models import Lesson, StaffUser
from app.base.text import format_date
from app.base.timetable_changes import active_change, plan
from app.demo import DEFAULT_SEED
from app.demo.journal import DemoDevice, demo_day, demo_devices
from app.demo.school import DemoSchool, build_school, school_has_data, write_school
from app.staff.demo import create_demo_accounts
from app.syncing.devices import register
from app.syncing.ingest import apply_in_batches
from static_site.links import issue_missing
from sync import clock
from sync.schema import parse_batch


@click.command("demo")
@click.option(
    "--seed",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Число, от которого строится школа: с тем же числом получаются те же данные.",
)
@click.option(
    "--if-empty",
    is_flag=True,
    help="Ничего не делать, если в базе уже есть школа (ученики, учителя, классы или предметы).",
)
def demo_command(seed: int, if_empty: bool) -> None:
    """Создать демо-школу: классы, ученики, семьи, учителя, расписание (build the demo school)."""
    if school_has_data():
        if if_empty:
            click.echo("В базе уже есть данные школы: демо-школа не создаётся.")
            stale = stale_demo_journal()
            if stale:
                click.echo(stale)
            return
        raise click.ClickException(
            "В базе уже есть данные школы. Демо-школа создаётся только в пустой базе "
            "(с --if-empty команда просто ничего не делает)."
        )
    started = time.monotonic()
    click.echo(f"Создаю демо-школу (seed {seed})…")
    year = ensure_calendar(settings())
    school = build_school(settings(), seed, year.id)
    click.echo("  расписание составлено, записываю в базу:")
    write_school(school, progress=lambda label, count: click.echo(f"  ✓ {label}: {count}"))
    db.session.commit()
    day, current = demo_day(settings(), settings().today())
    if not current:
        click.echo(f"  Сегодня вне учебного года {settings().year_name} из config.yaml: журнал заполнен "
                   f"до конца года ({format_date(day - dt.timedelta(days=1))}).")
    push_journal(school, day)
    now = clock.now()
    links = issue_missing(settings().today(now), now)
    db.session.commit()
    click.echo(f"  ✓ ссылки на дневник для родителей с согласием: {len(links)}")
    click.echo(f"  ✓ учётные записи сотрудников: {', '.join(create_demo_accounts()) or 'уже есть'}")
    left = sum(1 for s in school.students if s.left_on is not None)
    click.echo(
        f"Готово за {time.monotonic() - started:.1f} с".replace(".", ",")
        + f": классов {len(school.classes)}, учеников {len(school.students)} (выбыли: {left}), "
        f"учителей {len(school.teachers)}, семей {len(school.families)}, "
        f"уроков в неделю по расписанию {len({(e.class_id, e.weekday, e.slot) for e in school.timetable})}."
    )


def plan_substitutions(machines: list[DemoDevice]) -> None:
    """The deputy planned the demo's substitute lessons, so that the class's machine may write them."""
    for machine in machines:
        for op in machine.ops:
            fields = op["fields"]
            if op["entity"] != "lesson" or not fields.get("substitute"):
                continue
            day = dt.date.fromisoformat(fields["date"])
            if active_change(day, fields["slot"], fields["class"], fields["group"]) is None:
                plan("substitution", day, fields["slot"], fields["class"], group_id=fields["group"],
                     teacher_id=fields["teacher"], subject_id=fields["subject"], note="Курсы повышения квалификации",
                     by="demo")
    db.session.commit()


def stale_demo_journal() -> str | None:
    """A hint when the database holds the demo school and its journal stops before the day it should reach."""
    if db.session.scalar(select(StaffUser.id).where(StaffUser.login == "zavuch")) is None:
        return None  # not the demo school (or its accounts are gone): a real school's journal is its own
    last = db.session.scalar(select(func.max(Lesson.date)).where(Lesson.deleted.is_(False)))
    day, _current = demo_day(settings(), settings().today())
    yesterday = day - dt.timedelta(days=1)
    if last is None or last >= yesterday or not _school_day_between(last, yesterday):
        return None
    return (f"Демо-журнал заполнен по {format_date(last)}, а должен — по {format_date(yesterday)}: недели после "
            "этого пусты. Пересоздайте демо-школу: make demo-again (удалит базу var/tetrad.db и папку сайта).")


def _school_day_between(last: dt.date, until: dt.date) -> bool:
    conf = settings()
    day = last + dt.timedelta(days=1)
    while day <= until:
        off = conf.holiday_on(day) is not None
        if day.isoweekday() <= conf.school_days and not off and conf.period_on(day) is not None:
            return True
        day += dt.timedelta(days=1)
    return False


def push_journal(school: DemoSchool, day: dt.date | None = None) -> None:
    """Register the demo's classroom machines and send their weeks of lessons, up to `day` (by default the
    school's today, see demo_day), through the real sync path."""
    machines = demo_devices(school, settings(), day or demo_day(settings(), settings().today())[0])
    plan_substitutions(machines)
    total = sum(len(m.ops) for m in machines)
    with click.progressbar(length=total, label="  журнал с компьютеров классов", file=sys.stderr) as bar:
        for machine in machines:
            device, _token = register(machine.name, machine.class_ids)
            db.session.commit()
            batch = parse_batch({"protocol": 1, "device": device.id, "ops": machine.ops}, max_ops=10**9, max_pull=1)
            outcomes = apply_in_batches(device.id, batch, bar.update)
            if outcomes["rejected"] or outcomes["held"]:
                raise click.ClickException(f"{machine.name}: журнал демо-школы не принят полностью: {dict(outcomes)}")
    click.echo(f"  ✓ журнал: {total} операций с {len(machines)} компьютеров классов")

