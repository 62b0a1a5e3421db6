"""`flask --app wsgi sync import FILE`: a batch carried on a USB stick, applied as over HTTP, answered by file.

Beside the imported file the hub writes its *answer file* (`NAME.answer.json.gz`): the same JSON as the HTTP
answer to that batch (results, acked_seq, and the changes since the batch's pull cursor that the device may
see), which the machine reads back with `tetrad-sync import-answer` or its classroom app.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from app.base import settings
from app.base.extensions import db
from app.base.models import Device
from app.syncing.api import inflate, read_batch
from app.syncing.devices import bound_classes
from app.syncing.ingest import apply_batch
from app.syncing.pull import changes_since, conflicts_for
from sync import hlc
from sync.errors import BatchRejected
from sync.protocol import VERSION
from sync.schema import Batch

sync_group = click.Group("sync", help="Пакеты с компьютеров классов без связи (batch files).")
ALL = 10**9


def answer_path(path: Path) -> Path:
    """Where the answer to a batch file goes: beside it, `NAME.answer.json.gz`."""
    name = path.name
    for suffix in (".json.gz", ".json", ".gz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return path.with_name(f"{name}.answer.json.gz")


def write_json_gz(path: Path, body: dict[str, Any]) -> None:
    """Write gzipped JSON atomically (a pulled stick never holds half a file)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(gzip.compress(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()))
    os.replace(temporary, path)


@sync_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-answer", is_flag=True, help="Не писать файл ответа рядом с пакетом.")
def import_command(path: Path, no_answer: bool) -> None:
    """Применить файл пакета (.json или .json.gz) из `tetrad-sync export` — с теми же итогами, что по сети."""
    conf = settings()
    data = path.read_bytes()
    try:
        if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
            data = inflate(data, conf.sync["max_inflated_bytes"])
        batch = read_batch(data, max_ops=10**9, max_pull=ALL)  # each op logged with the text it came as
        device = db.session.get(Device, batch.device)
        if device is None:
            raise BatchRejected("unauthorized", f"Устройство {batch.device} не зарегистрировано на этом сервере.")
        if device.revoked_at is not None:
            raise BatchRejected("device_revoked")
        db.session.rollback()
        limit = conf.sync["max_ops_per_batch"]
        results: list[dict[str, Any]] = []
        answer: dict[str, Any] = {"acked_seq": device.acked_seq, "hub_time": hlc.make(hlc.wall_ms())}
        with click.progressbar(length=len(batch.ops), label="Применение операций", file=sys.stderr) as bar:
            for start in range(0, max(len(batch.ops), 1), limit):
                part = Batch(batch.device, batch.ops[start:start + limit], None)
                answer = apply_batch(batch.device, part)
                results += answer["results"]
                bar.update(len(part.ops))
    except BatchRejected as exc:
        raise click.ClickException(f"{path.name}: {exc.message}") from None
    counts: dict[str, int] = {}
    for result in results:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
    summary = ", ".join(f"{status}: {count}" for status, count in sorted(counts.items())) or "операций нет"
    click.echo(f"{path.name}: устройство {batch.device}, операций {len(batch.ops)} ({summary}); "
               f"подтверждено до seq {answer['acked_seq']}.")
    if no_answer:
        return
    cursor = batch.pull.cursor if batch.pull is not None else 0
    changes, next_cursor, _more = changes_since(cursor, ALL, batch.device, bound_classes(batch.device))
    conflicts = conflicts_for(batch.device)
    db.session.rollback()
    target = answer_path(path)
    write_json_gz(target, {"protocol": VERSION, "device": batch.device, "hub_time": answer["hub_time"],
                           "acked_seq": answer["acked_seq"], "results": results, "changes": changes,
                           "cursor": next_cursor, "more": False, "conflicts": conflicts})
    click.echo(f"Ответ для устройства: {target} (изменений {len(changes)}). Отнесите его на компьютер класса: "
               "«tetrad-sync import-answer ФАЙЛ» или страница «Синхронизация» журнала.")
