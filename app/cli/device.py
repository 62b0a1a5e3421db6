"""`flask --app wsgi device add|list|revoke|token`: classroom machines and their tokens."""

from __future__ import annotations

import datetime as dt

import click
from sqlalchemy import func, select

from app.base import settings
from app.base.extensions import db
from app.base.models import Device, OpLog, SchoolClass
from app.base.text import aware, format_datetime
from app.syncing.devices import bound_classes, register, reissue, revoke
from sync import clock

device_group = click.Group("device", help="Компьютеры классов: регистрация, список, отключение (classroom machines).")


def _classes_by_name(names: tuple[str, ...]) -> list[str]:
    known = {c.name.upper(): c.id for c in db.session.scalars(select(SchoolClass))}
    missing = [n for n in names if n.upper() not in known]
    if missing:
        raise click.ClickException(f"Класс «{missing[0]}» не найден.")
    return [known[n.upper()] for n in names]


@device_group.command("add")
@click.argument("name")
@click.option("--class", "classes", multiple=True, help="Класс компьютера (можно несколько раз), например 7Б.")
def add_command(name: str, classes: tuple[str, ...]) -> None:
    """Зарегистрировать компьютер класса (register); ключ выводится последней строкой."""
    device, token = register(name, _classes_by_name(classes))
    db.session.commit()
    scope = ", ".join(classes) if classes else "вся школа"
    click.echo(f"Устройство {device.id} «{name}» зарегистрировано (доступ: {scope}).")
    click.echo("Ключ устройства (введите его на компьютере класса: tetrad-sync init --token …):")
    click.echo(token)


@device_group.command("token")
@click.argument("device_id")
def token_command(device_id: str) -> None:
    """Выдать компьютеру новый ключ (token); прежние ключи перестают действовать."""
    device = _get(device_id)
    token = reissue(device)
    db.session.commit()
    click.echo(f"Новый ключ устройства {device.id}; прежние ключи больше не действуют:")
    click.echo(token)


@device_group.command("revoke")
@click.argument("device_id")
def revoke_command(device_id: str) -> None:
    """Отключить компьютер (revoke): со следующего запроса его ключ получает 403."""
    device = _get(device_id)
    revoke(device)
    db.session.commit()
    click.echo(f"Устройство {device.id} «{device.name}» отключено.")


@device_group.command("list")
def list_command() -> None:
    """Компьютеры (list): последняя синхронизация, подтверждённый seq, очередь, сдвиг часов, отклонённые операции."""
    devices = db.session.scalars(select(Device).order_by(Device.created_at)).all()
    if not devices:
        click.echo("Устройств нет. Добавьте: flask --app wsgi device add «Кабинет 12»")
        return
    counts = {
        (d, s): n for d, s, n in db.session.execute(
            select(OpLog.device_id, OpLog.status, func.count()).group_by(OpLog.device_id, OpLog.status))
    }
    tz = settings().timezone
    now = clock.now()
    click.echo(f"{'устройство':<18} {'название':<22} {'синхронизация':<17} {'seq':>7} {'очередь':>7} "
               f"{'сдвиг, с':>9} {'отклонено':>9} {'на утв.':>7}  состояние")
    for d in devices:
        last = format_datetime(d.last_sync_at, tz) if d.last_sync_at else "никогда"
        state = []
        if d.revoked_at:
            state.append("отключено")
        if d.gap_since and aware(d.gap_since) < now - dt.timedelta(hours=settings().sync["gap_alert_hours"]):
            state.append("пропуск в seq больше суток")
        if d.skewed:
            state.append("часы спешат")
        classes = bound_classes(d.id)
        scope = f"классов: {len(classes)}" if classes else "вся школа"
        click.echo(f"{d.id:<18} {d.name[:22]:<22} {last:<17} {d.acked_seq:>7} {counts.get((d.id, 'queued'), 0):>7} "
                   f"{d.last_skew_ms / 1000:>9.1f} {counts.get((d.id, 'rejected'), 0):>9} "
                   f"{counts.get((d.id, 'held'), 0):>7}  {scope}{'; ' if state else ''}{', '.join(state)}")


def _get(device_id: str) -> Device:
    device = db.session.get(Device, device_id)
    if device is None:
        raise click.ClickException(f"Устройство {device_id} не найдено.")
    return device
