"""`flask --app wsgi import FILE…`: load the school's lists from CSV or XLSX files, one transaction per file."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import click

from app.base import settings
from app.importing import KINDS, ImportFailed, Result, Sheet, read_sheet, run_import

PROGRESS_FROM_ROWS = 200  # smaller files import in a blink; a bar would only flicker


def plural(n: int, one: str, few: str, many: str) -> str:
    """`n` with the Russian word form for it: 1 ошибка, 2 ошибки, 5 ошибок."""
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} {one}"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"{n} {few}"
    return f"{n} {many}"


@contextlib.contextmanager
def progress(sheet: Sheet) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for a large file, nothing for a small one."""
    if len(sheet.rows) < PROGRESS_FROM_ROWS:
        yield None
        return
    with click.progressbar(length=len(sheet.rows) - 1, label=f"Импорт {sheet.file}", file=sys.stderr) as bar:
        yield bar.update


def summary(result: Result) -> list[str]:
    """The Russian summary of one imported file."""
    verb = "проверен, ошибок нет (ничего не записано)" if result.dry_run else "импортирован"
    lines = [f"{result.file}: {result.layout.title}, {plural(result.rows, 'строка', 'строки', 'строк')} — {verb}."]
    for label, tally in result.tallies.items():
        lines.append(f"  {label}: создано {tally.created}, обновлено {tally.updated}, "
                     f"без изменений {tally.unchanged}")
    return lines


@click.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="ФАЙЛ...")
@click.option("--kind", type=click.Choice(KINDS),
              help="Вид файла, если его нельзя понять по заголовкам.")
@click.option("--dry-run", is_flag=True, help="Только проверить файлы, ничего не записывая.")
def import_command(paths: tuple[str, ...], kind: str | None, dry_run: bool) -> None:
    """Импорт списков школы из CSV или XLSX (docs/import.md).

    Import the school's lists: teachers, subjects, classes, students with families, groups, teaching
    load, timetable. The kind of each file is told from its headers. Each file is one transaction: a
    file with any bad row changes nothing, and the files after it are not imported.
    """
    for number, path in enumerate(paths):
        try:
            sheet = read_sheet(path)
            with progress(sheet) as update:
                result = run_import(sheet, settings(), kind, progress=update, dry_run=dry_run)
        except ImportFailed as failed:
            for line in failed.lines():
                click.echo(line, err=True)
            count = plural(len(failed.problems), "ошибка", "ошибки", "ошибок")
            click.echo(f"Файл {path} не импортирован ({count}); база данных не изменена. "
                       "Исправьте файл и запустите импорт снова.", err=True)
            if paths[number + 1:]:
                click.echo("Не импортированы и следующие файлы: " + ", ".join(paths[number + 1:]), err=True)
            click.get_current_context().exit(1)
        for warning in result.warnings:
            click.echo(warning, err=True)
        for line in summary(result):
            click.echo(line)
