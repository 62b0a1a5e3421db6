"""`flask --app wsgi sync import FILE`: a batch carried on a USB stick, applied as over HTTP."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.base import settings
from app.base.extensions import db
from app.base.models import Device
from app.syncing.api import decode_json, inflate
from app.syncing.ingest import apply_in_batches
from sync.errors import BatchRejected
from sync.schema import parse_batch

sync_group = click.Group("sync", help="Пакеты с компьютеров классов без связи (batch files).")


@sync_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Применить файл пакета (.json или .json.gz) из `tetrad-sync export` — с теми же итогами, что по сети."""
    conf = settings()
    data = path.read_bytes()
    try:
        if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
            data = inflate(data, conf.sync["max_inflated_bytes"])
        batch = parse_batch(decode_json(data), max_ops=10**9, max_pull=1)
        device = db.session.get(Device, batch.device)
        if device is None:
            raise BatchRejected("unauthorized", f"Устройство {batch.device} не зарегистрировано на этом сервере.")
        if device.revoked_at is not None:
            raise BatchRejected("device_revoked")
        db.session.rollback()
        with click.progressbar(length=len(batch.ops), label="Применение операций", file=sys.stderr) as bar:
            outcomes = apply_in_batches(batch.device, batch, bar.update)
    except BatchRejected as exc:
        raise click.ClickException(f"{path.name}: {exc.message}") from None
    acked = outcomes.pop("acked_seq", 0)
    summary = ", ".join(f"{status}: {count}" for status, count in sorted(outcomes.items())) or "операций нет"
    click.echo(f"{path.name}: устройство {batch.device}, операций {len(batch.ops)} ({summary}); "
               f"подтверждено до seq {acked}.")
