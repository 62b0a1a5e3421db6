"""`flask --app wsgi slips …` and `print journal|summary …`: the paper documents (static_site.paper).

Documents hold personal data: they are written where --out says (by default var/paper/), never into the
family site's folder, readable by their owner only. A file ending in .html is a print-ready page that
any browser prints; .pdf is made on the hub with WeasyPrint.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from flask import current_app

from app.base import settings
from app.base.extensions import db
from app.base.settings import Settings
from app.base.text import week_label
from static_site.paper import journal_copy, lookup, pdf, slips, summary
from static_site.paper.lookup import PaperError
from static_site.paper.options import qr_on_slips
from static_site.paper.signatures import GuardianNeeded, find_student, record_signature
from static_site.paper.snapshots import WeekSnapshot
from static_site.parallel import cores
from sync import clock


def _output(conf: Settings, out: str | None, default_name: str) -> Path:
    """The checked output path: --out, or var/paper/<default_name>."""
    path = Path(out) if out else Path(current_app.config["VAR_DIR"]) / "paper" / default_name
    target = lookup.checked_output(conf, path)
    if target.suffix.lower() == ".pdf":
        missing = pdf.pdf_missing()
        if missing:
            raise PaperError(missing)
    return target


def _fail(exc: PaperError) -> click.ClickException:
    db.session.rollback()
    return click.ClickException(str(exc))


def _pages(count: int) -> str:
    return f"страниц: {count}"


@click.group("slips", invoke_without_command=True,
             help="Выписки из дневника на бумаге за неделю (для семей без интернета); «slips sign» — подпись.")
@click.option("--class", "class_name", help="Класс, например 7Б.")
@click.option("--school", is_flag=True, help="Все классы школы в одном документе.")
@click.option("--week", help="Неделя: 2026-W47 или любой её день (16.11.2026); по умолчанию текущая.")
@click.option("--all", "everyone", is_flag=True, help="Всем ученикам, а не только семьям, выбравшим бумагу.")
@click.option("--out", help="Файл .pdf или .html (по умолчанию var/paper/…).")
@click.pass_context
def slips_group(ctx: click.Context, class_name: str | None, school: bool, week: str | None, everyone: bool,
                out: str | None) -> None:
    """Напечатать выписки за неделю: класс (--class) или вся школа (--school)."""
    if ctx.invoked_subcommand:
        return
    if bool(class_name) == school:
        raise click.UsageError("Укажите либо --class (например, --class 7Б), либо --school.")
    conf, now = settings(), clock.now()
    try:
        monday = lookup.parse_week(week) if week else lookup.parse_week(conf.today(now).isoformat())
        year = lookup.find_year(conf.year_name)
        classes = lookup.school_classes(year) if school else [lookup.find_class(class_name or "", year)]
        title = "вся школа" if school else classes[0].name
        key = f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}"
        target = _output(conf, out, f"slips-{'school' if school else classes[0].name}-{key}.pdf")
        written, count, pages = _write_slips(conf, classes, monday, everyone, now, target, title, school)
    except PaperError as exc:
        raise _fail(exc) from None
    label = week_label(monday)
    if not count:
        whom = "учеников" if everyone else "учеников, чьи семьи получают дневник на бумаге,"
        click.echo(f"Нет {whom} ({title}, неделя {label}): файл не создан."
                   + ("" if everyone else " Чтобы напечатать выписки всем ученикам, добавьте --all."))
        return
    extra = f", {_pages(pages)}" if pages else ""
    click.echo(f"Выписок: {count} ({title}, неделя {label}){extra}. Файл: {written}")


def _write_slips(conf: Settings, classes: list[Any], monday: dt.date, everyone: bool, now: dt.datetime,
                 target: Path, title: str, school: bool) -> tuple[Path, int, int]:
    """Make the slips of the classes and write them; return the file, the slips and the PDF's pages."""
    snap = WeekSnapshot(conf, monday)
    snap.classes({c.id for c in classes})
    qr = qr_on_slips(conf)
    as_pdf = target.suffix.lower() == ".pdf"
    batches: list[slips.SlipBatch] = []

    def made() -> Iterator[slips.SlipBatch]:  # class by class: the PDF's processes start on the first ones
        with click.progressbar(classes, label="Выписки по классам", file=sys.stderr,
                               show_pos=True) if school else _Plain(classes) as bar:
            for school_class in bar:
                batch = slips.class_batch(snap, school_class, everyone, qr, now)
                if batch.slips:
                    batches.append(batch)
                    yield batch

    pages = [0]

    def make_pdf() -> bytes:  # a command has no threads: the classes are laid out on every core
        stream = made()
        first = next(stream, None)
        if first is None:  # no slips: nothing written
            return b""
        data, pages[0] = slips.batches_pdf(snap, itertools.chain([first], stream), cores(), slips.paper_cache())
        return data

    def make_html() -> str:
        found = list(made())
        return slips.batches_html(snap, title, found) if found else ""

    data, _ = pdf.pdf_or_html(make_pdf, make_html, as_pdf)
    count = sum(len(b.slips) for b in batches)
    if not count:
        return target, 0, 0
    lookup.write_private(target, data)
    return target, count, pages[0]


class _Plain:
    """A stand-in for the progress bar when one class is printed."""

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def __enter__(self) -> list[Any]:
        return self.items

    def __exit__(self, *_: object) -> None:
        return None


@slips_group.command("sign")
@click.option("--student", "file_no", required=True, help="Номер личного дела ученика.")
@click.option("--week", required=True, help="Неделя выписки: 2026-W47 или любой её день.")
@click.option("--on", "signed_on", required=True, help="Дата подписи родителя: 20.11.2026.")
@click.option("--guardian", help="Кто подписал (фамилия и имя), если у ученика несколько законных представителей.")
def sign_command(file_no: str, week: str, signed_on: str, guardian: str | None) -> None:
    """Отметить возвращённую выписку, подписанную родителем: это подтверждение недели семьёй."""
    conf, now = settings(), clock.now()
    try:
        student = find_student(file_no)
        results = record_signature(conf, student, lookup.parse_week(week), lookup.parse_day(signed_on), guardian, now)
        db.session.commit()
    except GuardianNeeded as exc:
        raise _fail(PaperError(f"{exc} Укажите --guardian (фамилию и имя).")) from None
    except PaperError as exc:
        raise _fail(exc) from None
    for result in results:
        click.echo(result.message)


print_group = click.Group("print", help="Бумажные копии: классный журнал за период, сводная ведомость за год.")


@print_group.command("journal")
@click.option("--class", "class_name", required=True, help="Класс, например 7Б.")
@click.option("--period", "number", required=True, type=int, help="Номер периода: 2 — вторая четверть.")
@click.option("--year", help="Учебный год (по умолчанию текущий из config.yaml).")
@click.option("--by", "printed_by", default="", help="Кто печатает: должность и ФИО, для подписи.")
@click.option("--out", help="Файл .pdf или .html (по умолчанию var/paper/…).")
def journal_command(class_name: str, number: int, year: str | None, printed_by: str, out: str | None) -> None:
    """Напечатать классный журнал за период: список, отметки, посещаемость, темы, четвертные."""
    conf, now = settings(), clock.now()
    try:
        academic = lookup.find_year(year or conf.year_name)
        school_class = lookup.find_class(class_name, academic)
        period = lookup.year_period(academic, number)
        target = _output(conf, out, f"journal-{school_class.name}-{academic.name}-{number}.pdf")
        context = journal_copy.journal_context(conf, school_class, period, printed_by, now)
        if target.suffix.lower() == ".pdf":
            document, pages = journal_copy.journal_document(context)
            lookup.write_private(target, pdf.to_pdf(document))
            extra = f", {_pages(pages)}"
        else:
            lookup.write_private(target, journal_copy.journal_html(context, None).encode())
            extra = ""
    except PaperError as exc:
        raise _fail(exc) from None
    click.echo(f"Классный журнал {school_class.name}, {period.name} {academic.name}{extra}. Файл: {target}")


@print_group.command("summary")
@click.option("--class", "class_name", required=True, help="Класс, например 7Б.")
@click.option("--year", help="Учебный год, например 2026-2027 (по умолчанию текущий).")
@click.option("--out", help="Файл .pdf или .html (по умолчанию var/paper/…).")
def summary_command(class_name: str, year: str | None, out: str | None) -> None:
    """Напечатать сводную ведомость итоговых отметок класса за учебный год."""
    conf, now = settings(), clock.now()
    try:
        academic = lookup.find_year(year or conf.year_name)
        school_class = lookup.find_class(class_name, academic)
        target = _output(conf, out, f"summary-{school_class.name}-{academic.name}.pdf")
        context = summary.summary_context(conf, school_class, academic, now)
        if target.suffix.lower() == ".pdf":
            document = summary.summary_document(context)
            lookup.write_private(target, pdf.to_pdf(document))
            extra = f", {_pages(len(document.pages))}"
        else:
            lookup.write_private(target, summary.summary_html(context).encode())
            extra = ""
    except PaperError as exc:
        raise _fail(exc) from None
    click.echo(f"Сводная ведомость {school_class.name}, {academic.name}{extra}. Файл: {target}")
