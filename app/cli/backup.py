"""`flask --app wsgi backup DIR [DIR…]`: a signed, consistent copy of the hub, to one or more destinations.

Each run writes one folder per destination, `tetrad-YYYY-MM-DD_HH-MM-SS/` (school time), owner-only:
    database.sqlite3 | database.dump   the snapshot: SQLite's `VACUUM INTO`, or `pg_dump -Fc` run on a
                                       snapshot exported by the transaction that also reads the report
    config.yaml                        the school's settings as they were
    manifest.json, manifest.sig        sizes and SHA-256 of both, the schema revision, the op log's
                                       high-water mark and the database report (app/cli/dbreport.py),
                                       signed with the hub's Ed25519 key (app/base/signed_manifest.py)
The copy is written under `.partial`, flushed, checked against its manifest and only then renamed: in the
first destination, then copied to the others and checked there. Afterwards each destination is pruned
(`backup.keep_daily`, `backup.keep_monthly`). `backup verify PATH` checks the signature, every hash and the
database itself; `backup public-key` prints the key for the archive's paper file.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any, NoReturn

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from app.base import epoch, settings, signed_manifest
from app.base.database_file import sqlite_file
from app.base.extensions import db
from app.base.keys import load_signing_key
from app.base.permissions import private_dir
from app.cli.dbreport import database_report, report_lines
from sync import clock

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
DATABASE_FILES = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
CONFIG_FILE = "config.yaml"
SET_NAME = re.compile(r"tetrad-(\d{4})-(\d{2})-(\d{2})_\d{2}-\d{2}-\d{2}")


class BackupGroup(click.Group):
    """`backup DIR…` makes a copy; `backup verify|public-key|report …` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """A first argument that is not a subcommand (nor --help) is a destination: run `make` with it."""
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["make", *args]
        return super().parse_args(ctx, args)


@click.group("backup", cls=BackupGroup)
def backup_group() -> None:
    """Резервные копии: backup ПАПКА [ПАПКА…], backup verify ПУТЬ, backup public-key, backup report."""


@backup_group.command("make", hidden=True)
@click.argument("destinations", nargs=-1, required=True, type=click.Path(path_type=Path))
def make_command(destinations: tuple[Path, ...]) -> None:
    """Сделать подписанную копию базы и настроек в каждой из папок."""
    made = make_backup(list(destinations))
    failed = False
    for dest, result in made.items():
        if isinstance(result, str):
            failed = True
            click.echo(f"Ошибка: {dest}: {result}", err=True)
            continue
        size = sum(p.stat().st_size for p in result.iterdir())
        click.echo(f"Резервная копия готова: {result} ({_mib(size)} МБ), подпись и контрольные суммы проверены.")
        for old in prune(dest, keep=result):
            click.echo(f"  удалена старая копия {old.name}")
    if failed:
        raise click.exceptions.Exit(1)


@backup_group.command("verify")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--key", "key_file", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Открытый ключ (PEM) для проверки подписи; по умолчанию ключ этого сервера.")
def verify_command(path: Path, key_file: Path | None) -> None:
    """Проверить копию: подпись, контрольные суммы всех файлов и саму базу."""
    for line in verify(path, public_key(key_file)):
        click.echo(line)


@backup_group.command("public-key")
def public_key_command() -> None:
    """Напечатать открытый ключ, которым подписаны копии и архив (для бумажного дела архива)."""
    key = public_key(None)
    click.echo(f"Отпечаток ключа: {signed_manifest.fingerprint(key)}")
    click.echo(signed_manifest.public_pem(key).rstrip())


@backup_group.command("report")
def report_command() -> None:
    """Таблицы, число строк и контрольные суммы журнала на работающем сервере (сравните с восстановленным)."""
    with db.engine.connect() as conn:
        for line in report_lines(database_report(conn)):
            click.echo(line)


def fail(message: str) -> NoReturn:
    """Print a staff-readable error and stop with exit code 1."""
    click.echo(f"Ошибка: {message}", err=True)
    raise click.exceptions.Exit(1)


def signing_key() -> Ed25519PrivateKey:
    """This hub's signing key (made on first use)."""
    return load_signing_key(Path(current_app.config["VAR_DIR"]))


def public_key(key_file: Path | None) -> Ed25519PublicKey:
    """The key to check signatures with: from a PEM file, or this hub's own."""
    if key_file is None:
        return signing_key().public_key()
    try:
        return signed_manifest.load_public(key_file.read_bytes())
    except ValueError as exc:
        fail(str(exc))


def make_backup(destinations: list[Path]) -> dict[Path, Path | str]:
    """One snapshot, written and checked in every destination: each destination's copy, or why it failed."""
    url = db.engine.url
    backend = url.get_backend_name()
    if backend not in DATABASE_FILES:
        fail(f"резервное копирование базы {backend} не поддерживается (только SQLite и PostgreSQL).")
    if backend == "sqlite" and sqlite_file(url) is None:
        fail("база находится в памяти: копировать нечего.")
    now = clock.now()
    name = "tetrad-" + now.astimezone(settings().timezone).strftime("%Y-%m-%d_%H-%M-%S")
    key = signing_key()
    results: dict[Path, Path | str] = {}
    first: Path | None = None
    for dest in destinations:
        final, partial = dest / name, dest / (name + ".partial")
        try:
            if final.exists():
                raise RuntimeError(f"копия {final.name} уже есть; подождите секунду и повторите.")
            private_dir(dest)  # a backup is the whole journal: owner-only, like the database
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(mode=0o700)
            if first is None:
                _snapshot(backend, url, partial, now, key)
            else:
                for item in first.iterdir():
                    copy_private(item, partial / item.name)
            problems = signed_manifest.problems(partial, [key.public_key()])
            if problems:
                raise RuntimeError("копия не сходится с описью: " + " ".join(problems))
            os.replace(partial, final)
            _fsync(dest)
        except (OSError, RuntimeError) as exc:
            shutil.rmtree(partial, ignore_errors=True)
            results[dest] = str(exc) if isinstance(exc, RuntimeError) else \
                f"не удалось записать копию: {exc.strerror or exc} ({exc.filename or dest})."
            continue
        results[dest] = final
        first = first or final
    return results


def _snapshot(backend: str, url: URL, folder: Path, now: dt.datetime, key: Ed25519PrivateKey) -> None:
    """Write the database, config.yaml and the signed manifest into `folder`."""
    target = folder / DATABASE_FILES[backend]
    current = epoch.current_id()
    db.session.commit()  # the first epoch, if this read made it, belongs in the copy
    if backend == "sqlite":
        _copy_sqlite(target)
        report = _sqlite_report(target)
    else:
        report = _dump_postgres(url, target)
    os.chmod(target, 0o600)
    _fsync(target)
    copy_private(Path(settings().source), folder / CONFIG_FILE)
    signed_manifest.sign(
        folder, [target.name, CONFIG_FILE], key, kind="backup", created_at=now.isoformat(timespec="seconds"),
        school=settings().school_name, engine=backend, epoch=current,
        schema_revision=report["schema_revision"], op_log_high_water=report["op_log_high_water"], report=report)


def _copy_sqlite(target: Path) -> None:
    """VACUUM INTO: one read snapshot, so writers go on and the copy is consistent."""
    with db.engine.connect() as conn:
        # VACUUM cannot run inside a transaction.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("VACUUM INTO ?", (str(target),))


def _sqlite_report(copy: Path) -> dict[str, Any]:
    """The report of the copy itself, opened read-only and immutable (its bytes stay as written)."""
    engine = create_engine(f"sqlite:///file:{copy.resolve()}?mode=ro&immutable=1&uri=true")
    try:
        with engine.connect() as conn:
            return database_report(conn)
    finally:
        engine.dispose()


def _dump_postgres(url: URL, target: Path) -> dict[str, Any]:
    """pg_dump of a snapshot exported by a repeatable-read transaction, which reads the report from it too."""
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            run_pg_tool("pg_dump", url, "--format=custom", f"--snapshot={snapshot}", f"--file={target}")
            return database_report(conn)


def run_pg_tool(name: str, url: URL, *args: str) -> str:
    """Run pg_dump or pg_restore on the database at `url`; the password travels in the environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run([pg_tool(name), *args, f"--dbname={conninfo}"], env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} завершился с ошибкой: {done.stderr.strip()}")
    return done.stdout


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


def prune(dest: Path, keep: Path) -> list[Path]:
    """Delete this hub's old copies in `dest` that neither rule keeps; return them.

    Kept: the newest copy of each of the `backup.keep_daily` most recent days that have one, the newest of
    each of the `backup.keep_monthly` most recent months that have one, and `keep`. Only folders named like
    a copy whose manifest is signed with this hub's key (fingerprint) are candidates.
    """
    rules = settings().backup
    mine = signed_manifest.fingerprint(signing_key().public_key())
    copies = []
    for path in dest.iterdir():
        match = SET_NAME.fullmatch(path.name)
        if not match or not path.is_dir():
            continue
        try:
            if signed_manifest.read(path).get("key") != mine:
                continue
        except ValueError:
            continue
        copies.append((path.name, match[1] + match[2] + match[3], match[1] + match[2], path))
    copies.sort(reverse=True)
    kept = {keep.name}
    days: list[str] = []
    months: list[str] = []
    for name, day, month, _path in copies:
        if day not in days:
            days.append(day)
            if len(days) <= rules["keep_daily"]:
                kept.add(name)
        if month not in months:
            months.append(month)
            if len(months) <= rules["keep_monthly"]:
                kept.add(name)
    gone = [path for name, _d, _m, path in copies if name not in kept]
    for path in gone:
        shutil.rmtree(path)
    return sorted(gone)


def find_copy(path: Path) -> Path:
    """The copy's folder from a path to it or to any file in it."""
    folder = path if path.is_dir() else path.parent
    if not (folder / signed_manifest.MANIFEST).is_file():
        fail(f"{path} — не резервная копия Tetrad: нет файла {signed_manifest.MANIFEST}.")
    return folder


def verify(path: Path, key: Ed25519PublicKey) -> list[str]:
    """Check a copy's signature, every file's size and hash, and the database; report lines, or stop."""
    if not path.exists():
        fail(f"{path} не найден.")
    folder = find_copy(path)
    problems = signed_manifest.problems(folder, [key])
    if problems:
        fail("копия не прошла проверку, не восстанавливайте из неё:\n" + "\n".join(f"  – {p}" for p in problems))
    manifest = signed_manifest.read(folder)
    lines = [f"Подпись верна (ключ {manifest['key']}); размеры и контрольные суммы SHA-256 всех "
             f"{len(manifest['files'])} файлов совпадают с описью."]
    database = folder / DATABASE_FILES.get(str(manifest.get("engine")), "")
    if not database.is_file():
        fail("в описи нет файла базы данных.")
    with database.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head == SQLITE_MAGIC:
        lines.append(_check_sqlite(database, manifest))
    elif head.startswith(PG_MAGIC):
        lines.append(_check_pg_archive(database))
    else:
        fail("файл базы не похож на копию базы Tetrad (ни SQLite, ни архив pg_dump).")
    lines.append(f"Копия {folder.name} в порядке: сделана {manifest.get('created_at')}, версия схемы "
                 f"{manifest.get('schema_revision')}, журнал операций до № {manifest.get('op_log_high_water')}.")
    return lines


def _check_sqlite(path: Path, manifest: dict[str, Any]) -> str:
    """PRAGMA integrity_check on a read-only, immutable open of the copy; its schema revision as signed."""
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
    if (revision[0] if revision else None) != manifest.get("schema_revision"):
        fail("версия схемы в базе не совпадает с описью.")
    return f"Проверка целостности SQLite пройдена (версия схемы {revision[0] if revision else '—'})."


def _check_pg_archive(path: Path) -> str:
    """Read the archive's table of contents, then every data block (restored into nowhere)."""
    if "alembic_version" not in _pg_restore("--list", str(path)):
        fail("в архиве нет таблицы alembic_version: это не база Tetrad.")
    _pg_restore(f"--file={os.devnull}", str(path))
    return "Архив pg_dump читается целиком (pg_restore)."


def _pg_restore(*args: str) -> str:
    """Run pg_restore on a file; return its output or stop with its error message."""
    done = subprocess.run([pg_tool("pg_restore"), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        fail(f"pg_restore не может прочитать архив:\n{done.stderr.strip()}")
    return done.stdout


def copy_private(source: Path, target: Path) -> None:
    """Copy a file readable by its owner only, flushed to the disk."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".replace(".", ",")


def _fsync(path: Path) -> None:
    """Flush a file or folder to the disk: backups often go to USB sticks pulled out right after."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
