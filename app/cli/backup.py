"""`flask --app wsgi backup`: a consistent, timestamped copy of the database with a SHA-256 file beside it.

SQLite is copied with `VACUUM INTO`, which reads one snapshot while the hub keeps writing (write-ahead
log); PostgreSQL with `pg_dump -Fc`, which reads one snapshot too. The checksum file has the format of
`sha256sum`, so `sha256sum -c FILE.sha256` checks it on any machine; `backup --verify FILE` checks it
here and also opens the copy (PRAGMA integrity_check for SQLite, `pg_restore --list` for PostgreSQL).
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy.engine import URL

from app.base import settings
from app.base.extensions import db
from app.base.permissions import private_dir
from sync import clock

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".dump"}


@click.command("backup")
@click.argument("dest_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--verify", "verify_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Проверить готовую копию (контрольная сумма и целостность) вместо создания новой.")
def backup_command(dest_dir: Path | None, verify_file: Path | None) -> None:
    """Резервная копия базы в DEST_DIR, или проверка копии: --verify FILE."""
    if (dest_dir is None) == (verify_file is None):
        fail("укажите папку для копии (backup DEST_DIR) или файл для проверки (backup --verify FILE).")
    if verify_file is not None:
        for line in verify(verify_file):
            click.echo(line)
        return
    assert dest_dir is not None
    path = make_backup(dest_dir)
    size = f"{path.stat().st_size / 1024 / 1024:.1f}".replace(".", ",")
    click.echo(f"Резервная копия готова: {path} ({size} МБ)")
    click.echo(f"Контрольная сумма: {checksum_path(path)}")


def fail(message: str) -> NoReturn:
    """Print a staff-readable error and stop with exit code 1."""
    click.echo(f"Ошибка: {message}", err=True)
    raise click.exceptions.Exit(1)


def make_backup(dest_dir: Path) -> Path:
    """Copy the running hub's database into dest_dir; return the copy's path."""
    url = db.engine.url
    backend = url.get_backend_name()
    if backend not in SUFFIXES:
        fail(f"резервное копирование базы {backend} не поддерживается (только SQLite и PostgreSQL).")
    if backend == "sqlite" and url.database in (None, "", ":memory:"):
        fail("база находится в памяти: копировать нечего.")
    private_dir(dest_dir)  # a backup is the whole journal: owner-only, like the database
    stamp = clock.now().astimezone(settings().timezone).strftime("%Y-%m-%d_%H-%M-%S")
    final = dest_dir / f"tetrad-{stamp}{SUFFIXES[backend]}"
    if final.exists():
        fail(f"файл {final} уже есть; подождите секунду и повторите.")
    partial = final.with_name(final.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if backend == "sqlite":
            _copy_sqlite(partial)
        else:
            _dump_postgres(url, partial)
        os.chmod(partial, 0o600)
        _fsync(partial)
        digest = sha256_of(partial)
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    _write_atomically(checksum_path(final), f"{digest}  {final.name}\n")
    _fsync(dest_dir)
    return final


def _copy_sqlite(target: Path) -> None:
    """VACUUM INTO: one read snapshot, so writers go on and the copy is consistent."""
    with db.engine.connect() as conn:
        # VACUUM cannot run inside a transaction.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM INTO ?", (str(target),))


def _dump_postgres(url: URL, target: Path) -> None:
    """pg_dump in custom format; the password travels in the environment, not on the command line."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    command = [pg_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={conninfo}"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        fail(f"pg_dump завершился с ошибкой:\n{done.stderr.strip()}")


def pg_tool(name: str) -> str:
    """A PostgreSQL client program: from PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")

    def version(path: str) -> tuple[int, ...]:
        """The major (and minor) version in the folder name, compared as numbers: 9.6 < 16."""
        number = re.search(r"/postgresql/([\d.]+)/", path)
        return tuple(int(p) for p in number[1].split(".")) if number else ()

    if not candidates:
        fail(f"программа {name} не найдена: установите клиент PostgreSQL (пакет postgresql-client).")
    return max(candidates, key=version)


def checksum_path(path: Path) -> Path:
    """Where the copy's checksum lives: beside it, with .sha256 added."""
    return path.with_name(path.name + ".sha256")


def sha256_of(path: Path) -> str:
    """The file's SHA-256 as hex, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path) -> list[str]:
    """Check a copy's checksum and open it; return the report lines or stop with an error."""
    if not path.is_file():
        fail(f"файл {path} не найден.")
    sums = checksum_path(path)
    if not sums.is_file():
        fail(f"рядом с копией нет файла контрольной суммы {sums.name}.")
    expected = sums.read_text(encoding="utf-8").split()
    if not expected or not re.fullmatch(r"[0-9a-f]{64}", expected[0]):
        fail(f"файл {sums.name} не содержит контрольной суммы SHA-256.")
    if sha256_of(path) != expected[0]:
        fail("контрольная сумма не совпадает: копия изменена или повреждена. Не восстанавливайте из неё.")
    lines = ["Контрольная сумма SHA-256 совпадает."]
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        lines.append(_check_sqlite(path))
    elif head.startswith(PG_MAGIC):
        lines.append(_check_pg_archive(path))
    else:
        fail("файл не похож на копию базы Tetrad (ни SQLite, ни архив pg_dump).")
    lines.append(f"Копия {path.name} в порядке.")
    return lines


def _check_sqlite(path: Path) -> str:
    """PRAGMA integrity_check on a read-only, immutable open of the copy; name its schema revision."""
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        fail(f"SQLite не может прочитать копию: {exc}.")
    if problems != ["ok"]:
        fail("проверка целостности SQLite нашла ошибки:\n" + "\n".join(problems[:20]))
    return f"Проверка целостности SQLite пройдена (версия схемы {revision[0] if revision else '—'})."


def _check_pg_archive(path: Path) -> str:
    """Read the archive's table of contents, then every data block (restored into nowhere)."""
    if "alembic_version" not in _pg_restore("--list", str(path)):
        fail("в архиве нет таблицы alembic_version: это не база Tetrad.")
    _pg_restore(f"--file={os.devnull}", str(path))
    return "Архив pg_dump читается целиком (pg_restore)."


def _pg_restore(*args: str) -> str:
    """Run pg_restore; return its output or stop with its error message."""
    done = subprocess.run([pg_tool("pg_restore"), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        fail(f"pg_restore не может прочитать архив:\n{done.stderr.strip()}")
    return done.stdout


def _write_atomically(path: Path, text: str) -> None:
    """Write a small file through a temporary name, so it is either whole or absent."""
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text, encoding="utf-8")
    _fsync(tmp)
    os.replace(tmp, path)


def _fsync(path: Path) -> None:
    """Flush a file or folder to the disk: backups often go to USB sticks pulled out right after."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
