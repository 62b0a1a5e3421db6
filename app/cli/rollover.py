"""`flask --app wsgi year close`, `year reopen NAME`, `year open 2027-2028 --order ORDER.csv [--apply]` and `year move`.

The roll-over and the close are app/base/rollover.py (and static_site/last_year.py for the families' pages of
the closed year), shared with the administrator's page (app/staff/year.py); this module only prints.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from app.base import enrolment, rollover, settings
from app.base.extensions import db
from app.base.models import Student
from app.base.rollover import RolloverError
from app.base.text import format_date
from app.cli.backup import fail
from static_site import last_year
from static_site.paper import lookup
from static_site.paper.lookup import PaperError


def register(year_group: click.Group) -> None:
    """Add `close`, `reopen`, `open` and `move` to the `year` group."""
    year_group.add_command(close_command)
    year_group.add_command(reopen_command)
    year_group.add_command(open_command)
    year_group.add_command(move_command)


@click.command("close")
@click.option("--apply", "apply", is_flag=True, help="Закрыть год (без этого флага — только проверка).")
@click.option("--allow-missing-marks", is_flag=True, help="Закрыть, даже если не все итоговые отметки выставлены.")
def close_command(apply: bool, allow_missing_marks: bool) -> None:
    """Закрыть учебный год: проверить итоговые отметки, сохранить страницы семей за год только для чтения."""
    conf = settings()
    try:
        year = lookup.find_year(conf.year_name)
    except PaperError as exc:
        fail(str(exc))
    try:
        closing = last_year.close_year(conf, year, apply=False)
        for line in closing.missing:
            click.echo(f"  нет итоговой отметки: {line}")
        click.echo(f"Итоговые отметки {year.name}: " + (f"не хватает {len(closing.missing)}."
                                                         if closing.missing else "выставлены все."))
        if apply:
            closing = last_year.close_year(conf, year, apply=True, allow_missing=allow_missing_marks, by="cli")
            db.session.commit()
    except RolloverError as exc:
        fail(str(exc))
    keep = (f"страницы {closing.kept} семей за {year.name} остаются доступны по их ссылкам только для чтения "
            f"(…/d/<ссылка>-{year.name}/)" if conf.site_keep_last_year
            else "страницы семей за год не сохраняются (site.keep_last_year: false)")
    if not apply:
        click.echo(f"Пробный запуск, ничего не изменено: {keep}; семей выпускников {closing.graduates} — их "
                   "страницы не сохраняются. Для закрытия повторите с --apply.")
        return
    click.echo(f"Год {year.name} закрыт: {keep}; семей выпускников {closing.graduates}; журнал года в архиве — "
               "решения сотрудников, меняющие его записи, отклоняются (исправление: year reopen). Дальше: впишите "
               "новый год в config.yaml, перезапустите сервер и выполните year open НОВЫЙ_ГОД --order ПРИКАЗ.csv.")


@click.command("reopen")
@click.argument("name")
def reopen_command(name: str) -> None:
    """Снова открыть закрытый учебный год NAME для исправления журнала (по решению администрации)."""
    try:
        year = lookup.find_year(name)
    except PaperError as exc:
        fail(str(exc))
    if year.closed_at is None:
        fail(f"учебный год {year.name} не закрыт: открывать нечего.")
    year.closed_at = year.closed_by = None
    db.session.commit()
    click.echo(f"Учебный год {year.name} снова открыт: журнал можно исправлять. После исправления закройте год ещё "
               "раз (year close --apply, пока config.yaml называет этот год), страницы семей за год будут "
               "скопированы заново.")


@click.command("open")
@click.argument("name")
@click.option("--order", "order", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="CSV исключений из приказа о переводе: file_no;action;class[;last_name;first_name;middle_name;"
                   "birth_date].")
@click.option("--apply", "apply", is_flag=True, help="Выполнить перевод (без этого флага — только план).")
def open_command(name: str, order: Path | None, apply: bool) -> None:
    """Перевод на новый учебный год NAME: план по каждому ученику, с --apply — перевод одной транзакцией."""
    conf = settings()
    try:
        the_plan = rollover.make_plan(conf, name, order.read_text(encoding="utf-8-sig") if order else None,
                                      applying=apply)
    except RolloverError as exc:
        fail(str(exc))
    click.echo(f"Перевод из {the_plan.old.name} в {name}{'' if apply else ' — пробный запуск, ничего не изменено'}:")
    for line in the_plan.lines():
        click.echo("  " + line)
    click.echo(the_plan.total_line())
    if not apply:
        click.echo("Проверьте план. Для перевода повторите команду с --apply.")
        return
    try:
        rollover.carry_out(the_plan, conf)
        db.session.commit()
    except RolloverError as exc:
        db.session.rollback()
        fail(str(exc))
    click.echo(f"Перевод выполнен: {name} учебный год открыт.")


@click.command("move")
@click.argument("file_no")
@click.argument("class_name")
@click.argument("day")
def move_command(file_no: str, class_name: str, day: str) -> None:
    """Перевести ученика (номер личного дела) в другой класс с указанного дня (20.03.2027)."""
    conf = settings()
    try:
        on = lookup.parse_day(day)
        year = lookup.find_year(conf.year_name)
        target = lookup.find_class(class_name, year)
    except PaperError as exc:
        fail(str(exc))
    student = db.session.scalars(select(Student).where(Student.file_no == file_no)).first()
    if student is None:
        fail(f"ученик с номером личного дела {file_no} не найден.")
    old = student.school_class.name
    try:
        enrolment.move(student, target.id, on)
    except ValueError as exc:
        fail(str(exc))
    db.session.commit()
    click.echo(f"{student.full_name}: {old} → {target.name} с {format_date(on)}.")


