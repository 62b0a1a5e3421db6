"""`tetrad-sync`: the classroom machine's command, for a person or for cron / a systemd timer.

    tetrad-sync init --hub https://hub.school.ru --token TOKEN [--db PATH]
    tetrad-sync run          # push and pull; one line; exit code 0 when done, 1 otherwise
    tetrad-sync status       # backlog, the last sync, the link's learned speed, refused and held ops
    tetrad-sync export FILE  # the outbox as a batch file (.json or .json.gz) for the USB path
    tetrad-sync init --from-file SETUP.json.gz   # start from the hub's setup file, with no link at all
    tetrad-sync import-answer FILE               # read the hub's answer file to an exported batch

The file is `--db`, else $TETRAD_CLIENT_DB, else ~/.local/share/tetrad/client.db.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.client import SyncClient
from sync.errors import SyncError
from sync.outbox import Outcome
from sync.report import describe, plural

ENTITY_WORDS = {"lesson": "урок", "attendance": "посещаемость", "mark": "отметка", "remark": "замечание",
                "period_grade": "отметка за период", "test_plan": "контрольная работа в графике"}
STATUS_WORDS = {"rejected": "отклонено", "held": "отложено"}


def default_db() -> Path:
    """The client file when neither --db nor TETRAD_CLIENT_DB names one."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tetrad" / "client.db"


def parser() -> argparse.ArgumentParser:
    """The command line."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="файл данных компьютера (по умолчанию $TETRAD_CLIENT_DB или "
                                     "~/.local/share/tetrad/client.db)")
    main = argparse.ArgumentParser(prog="tetrad-sync",
                                   description="Синхронизация классного компьютера с сервером школы «Тетрадь».")
    commands = main.add_subparsers(dest="command", required=True, metavar="КОМАНДА")
    init = commands.add_parser("init", parents=[common], help="подключить компьютер к серверу школы")
    init.add_argument("--hub", help="адрес сервера, например https://hub.school.ru")
    init.add_argument("--token", help="ключ устройства, выданный на сервере")
    init.add_argument("--from-file", dest="from_file", help="файл настройки с сервера (без связи)")
    commands.add_parser("run", parents=[common], help="отправить записи и получить изменения (для cron)")
    commands.add_parser("status", parents=[common], help="очередь, последняя синхронизация, отклонённые записи")
    export = commands.add_parser("export", parents=[common], help="записать очередь в файл для переноса на флешке")
    export.add_argument("file", help="файл .json или .json.gz")
    answer = commands.add_parser("import-answer", parents=[common], help="прочитать файл ответа сервера")
    answer.add_argument("file", help="файл ответа .answer.json.gz")
    return main


def run(argv: list[str] | None = None, out: TextIO | None = None, client: SyncClient | None = None) -> int:
    """Run one command; return the exit code (0 done, 1 failed)."""
    out = out or sys.stdout
    args = parser().parse_args(argv)
    path = Path(args.db or os.environ.get("TETRAD_CLIENT_DB") or default_db())
    if client is None and args.command != "init" and not path.exists():
        print(f"Файл данных {path} не найден: сначала выполните «tetrad-sync init --hub АДРЕС --token КЛЮЧ».",
              file=out)
        return 1
    client = client or SyncClient(path)
    try:
        return _COMMANDS[args.command](client, args, out)
    except SyncError as exc:
        print(f"Ошибка: {describe(exc)}", file=out)
        return 1
    finally:
        client.close()


def _init(client: SyncClient, args: argparse.Namespace, out: TextIO) -> int:
    if args.from_file:
        device = client.start_from_file(args.from_file)
        print(f"Компьютер настроен из файла {args.from_file} как устройство {device}, без связи с сервером.",
              file=out)
        return 0
    if not args.hub or not args.token:
        print("Укажите --hub и --token, или --from-file ФАЙЛ.", file=out)
        return 1
    device = client.connect(args.hub, args.token)
    print(f"Компьютер подключён к серверу {args.hub.rstrip('/')} как устройство {device}.", file=out)
    report = client.sync()  # the first pull brings the school's reference data for the checks
    print(report.summary(), file=out)
    return 0 if report.ok else 1


def _run(client: SyncClient, _args: argparse.Namespace, out: TextIO) -> int:
    report = client.sync()
    print(report.summary(), file=out)
    return 0 if report.ok else 1


def _export(client: SyncClient, args: argparse.Namespace, out: TextIO) -> int:
    count = client.export(args.file)
    print(f"В файл {args.file} записано {count} {plural(count, 'операция', 'операции', 'операций')}. "
          "Передайте его администратору: «flask --app wsgi sync import ФАЙЛ» на сервере.", file=out)
    return 0


def _import_answer(client: SyncClient, args: argparse.Namespace, out: TextIO) -> int:
    report = client.read_answer(args.file)
    print(f"Ответ сервера прочитан: {report.summary()}", file=out)
    return 0


def _status(client: SyncClient, _args: argparse.Namespace, out: TextIO) -> int:
    info = client.overview()
    if not info["hub"]:
        print("Компьютер не подключён к серверу школы: выполните «tetrad-sync init».", file=out)
        return 1
    zone = _zone(client)
    backlog = info["backlog"]
    print(f"Сервер: {info['hub']}, устройство {info['device']}", file=out)
    print(f"В очереди: {backlog} {plural(backlog, 'операция', 'операции', 'операций')}", file=out)
    last = info["last_sync"]
    if last:
        when = dt.datetime.fromisoformat(last["at"]).astimezone(zone)
        word = "выполнена" if last["ok"] else "не завершена"
        print(f"Последняя синхронизация: {when:%d.%m.%Y} {when.hour}:{when:%M} — {word}", file=out)
        print(f"  {last['summary']}", file=out)
    else:
        print("Синхронизации ещё не было.", file=out)
    _print_link(info["link"], zone, out)
    outcomes: list[Outcome] = info["outcomes"]
    if outcomes:
        print(f"Отклонённые и ждущие утверждения записи ({len(outcomes)}):", file=out)
        for outcome in outcomes:
            print(f"  {_describe_outcome(client, outcome)}", file=out)
    return 0


def _print_link(link: dict[str, Any], zone: dt.tzinfo, out: TextIO) -> None:
    """What the client learned of its link: speed, the sizes it starts from, the last finished sync."""
    speed = link["bytes_per_second"]
    if speed:
        kilobytes = f"{speed / 1000:.1f}".replace(".", ",")
        seconds = f"{link['seconds_per_exchange'] or 0:.1f}".replace(".", ",")
        print(f"Связь: {kilobytes} КБ/с (последний обмен {seconds} с); пакет до {link['batch_ops']} "
              f"{plural(link['batch_ops'], 'операции', 'операций', 'операций')}, страница до {link['page_records']} "
              f"{plural(link['page_records'], 'записи', 'записей', 'записей')}", file=out)
    else:
        print("Связь: ещё не измерена.", file=out)
    if link["failures_in_a_row"]:
        print(f"  Обрывов связи подряд: {link['failures_in_a_row']}", file=out)
    if link["last_good_sync"]:
        when = dt.datetime.fromisoformat(link["last_good_sync"]).astimezone(zone)
        print(f"Последняя завершённая синхронизация: {when:%d.%m.%Y} {when.hour}:{when:%M}", file=out)


def _describe_outcome(client: SyncClient, outcome: Outcome) -> str:
    """One refused or held op: what it was, for whom, and the hub's reason."""
    fields: dict[str, Any] = outcome.body.get("fields") or {}
    parts = [f"№ {outcome.seq}", ENTITY_WORDS.get(outcome.entity, outcome.entity)]
    if outcome.body.get("action") == "delete":
        parts[-1] += " (удаление)"
    if "value" in fields:
        parts.append(f"«{fields['value']}»")
    student = client.store.record("student", str(fields.get("student"))) if fields.get("student") else None
    if student is not None:
        parts.append(" ".join(str(student.values.get(k) or "") for k in ("last_name", "first_name")).strip())
    day = fields.get("date")
    lesson = client.view("lesson", str(fields["lesson"])) if fields.get("lesson") else None
    if lesson is not None:
        day = lesson.values.get("date")
    if isinstance(day, str) and len(day) == 10:
        parts.append(f"{day[8:10]}.{day[5:7]}.{day[0:4]}")
    reason = outcome.message or outcome.code or ""
    code = f" ({outcome.code})" if outcome.code else ""
    return f"{', '.join(parts)}: {STATUS_WORDS.get(outcome.status, outcome.status)} — {reason}{code}"


def _zone(client: SyncClient) -> dt.tzinfo:
    """The school's timezone as pulled, for showing times."""
    schools = list(client.store.records("school").values())
    try:
        return ZoneInfo(str(schools[0].values.get("timezone"))) if schools else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


_COMMANDS = {"init": _init, "run": _run, "status": _status, "export": _export, "import-answer": _import_answer}
