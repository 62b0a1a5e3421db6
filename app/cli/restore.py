"""`flask --app wsgi restore PATH`: a verified backup into the hub's empty database, then a new epoch.

ALGORITHM:
1. Verify the copy (signature, every hash, the database itself): a copy that fails is refused.
2. Refuse unless the target (`DATABASE_URL`: an SQLite file, or a PostgreSQL database) is empty, so a
   restore never overwrites a hub by mistake.
3. SQLite: the file is copied into place (owner-only). PostgreSQL: `pg_restore --single-transaction`.
4. Migrations bring a copy from an older Tetrad up to this one's schema.
5. A new epoch begins (app/base/epoch.py): classroom machines that see it resend what they retained from
   their `acked_seq` on, so nothing a machine still holds is lost (docs/protocol.md, "Restores").
6. The database report is printed and compared with the one signed into the copy's manifest.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import click
from flask_migrate import upgrade
from sqlalchemy import inspect

from app.base import epoch, signed_manifest
from app.base.database_file import sqlite_file
from app.base.extensions import db
from app.cli.backup import DATABASE_FILES, fail, find_copy, public_key, run_pg_tool, verify
from app.cli.dbreport import database_report, report_lines


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--key", "key_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Открытый ключ (PEM) для проверки подписи; по умолчанию ключ этого сервера.")
def restore_command(path: Path, key_file: Path | None) -> None:
    """Восстановить проверенную копию в пустую базу (DATABASE_URL) и начать новую эпоху сервера."""
    for line in verify(path, public_key(key_file)):
        click.echo(line)
    folder = find_copy(path)
    manifest = signed_manifest.read(folder)
    engine = db.engine
    backend = engine.url.get_backend_name()
    if backend != manifest.get("engine"):
        fail(f"копия сделана с базы {manifest.get('engine')}, а сервер настроен на {backend}: "
             "восстановите в базу того же вида.")
    target = sqlite_file(engine.url)
    if backend == "sqlite":
        if target is None:
            fail("база находится в памяти: восстанавливать некуда.")
        target.parent.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        tables = inspect(conn).get_table_names()
    if tables:
        fail(f"база {engine.url.render_as_string(hide_password=True)} не пуста ({len(tables)} таблиц): "
             "восстановление делается только в пустую базу. Создайте новую и укажите её в DATABASE_URL.")
    database = folder / DATABASE_FILES[backend]
    if target is not None:
        _place_sqlite(database, target)
    else:
        try:
            run_pg_tool("pg_restore", engine.url, "--no-owner", "--exit-on-error", "--single-transaction",
                        str(database))
        except RuntimeError as exc:
            fail(str(exc))
    upgrade()
    started = epoch.begin_after_restore(folder.name)
    db.session.commit()
    click.echo(f"Копия {folder.name} восстановлена. Новая эпоха сервера: {started.epoch}.")
    with db.engine.connect() as conn:
        report = database_report(conn)
    for line in report_lines(report):
        click.echo(line)
    signed = manifest.get("report") or {}
    same = {k: v for k, v in report["tables"].items() if k in signed.get("tables", {})} == signed.get("tables") \
        and all(report[k] == signed.get(k) for k in ("journal_sha256", "op_log_sha256", "op_log_high_water"))
    if not same:
        fail("восстановленная база не совпадает с отчётом, подписанным в копии.")
    click.echo("Отчёт совпадает с подписанным в копии: таблицы, число строк, журнал и журнал операций те же.")


def _place_sqlite(copy: Path, target: Path) -> None:
    """Put the copy where the hub's SQLite file goes (an empty file and its -wal/-shm are replaced)."""
    db.engine.dispose()
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        leftover.unlink(missing_ok=True)
    partial = target.with_name(target.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, copy.open("rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, target)
