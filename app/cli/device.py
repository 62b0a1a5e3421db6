"""`flask --app wsgi device add|list|revoke|token`: classroom machines and their tokens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from sqlalchemy import func, select

from app.base import settings
from app.base.extensions import db
from app.base.models import Device, DeviceRebase, OpLog, SchoolClass, Teacher
from app.base.text import aware, format_datetime
from app.syncing.devices import bound_classes, register, reissue, revoke, set_served, token_for
from app.syncing.pull import changes_since
from app.syncing.school_reference import chosen_teachers, served_teachers
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


def teachers_by_code(codes: tuple[str, ...]) -> list[str]:
    """Teacher ids from their codes (табельный номер) or ids, as staff type them."""
    found = []
    for code in codes:
        teacher = db.session.scalar(select(Teacher).where((Teacher.code == code) | (Teacher.id == code)))
        if teacher is None:
            raise click.ClickException(f"Учитель «{code}» не найден (нужен табельный номер).")
        found.append(teacher.id)
    return found


@device_group.command("serve")
@click.argument("device_id")
@click.option("--teacher", "teachers", multiple=True, help="A teacher's code (табельный номер), repeatable.")
@click.option("--default", "default", is_flag=True, help="Back to the default: the teachers of its classes.")
def serve_command(device_id: str, teachers: tuple[str, ...], default: bool) -> None:
    """Set the teachers a machine writes for (an op by anyone else is rejected: not_your_device)."""
    device = _get(device_id)
    if not teachers and not default:
        raise click.ClickException("Укажите учителей (--teacher ТАБ_НОМЕР …) или --default.")
    set_served(device.id, [] if default else teachers_by_code(teachers))
    db.session.commit()
    click.echo(f"Устройство {device.id} «{device.name}» записывает уроки учителей: {_served_text(device.id)}.")


def _served_text(device_id: str) -> str:
    ids = served_teachers(device_id)
    names = {t.id: f"{t.last_name} {t.first_name[:1]}." for t in db.session.scalars(select(Teacher))}
    listed = ", ".join(sorted(names.get(t, t) for t in ids)) or "никого"
    return listed if chosen_teachers(device_id) else f"по умолчанию — {listed}"


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
    lost: dict[str, list[str]] = {}
    for rebase in db.session.scalars(select(DeviceRebase).order_by(DeviceRebase.at)):
        lost.setdefault(rebase.device_id, []).append(f"{rebase.first_seq}–{rebase.last_seq}")
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
        if d.id in lost:  # after a restore: acknowledged once, no longer on the machine (docs/operations.md)
            state.append(f"после восстановления утеряны seq {', '.join(lost[d.id])}")
        classes = bound_classes(d.id)
        scope = f"классов: {len(classes)}" if classes else "вся школа"
        click.echo(f"{d.id:<18} {d.name[:22]:<22} {last:<17} {d.acked_seq:>7} {counts.get((d.id, 'queued'), 0):>7} "
                   f"{d.last_skew_ms / 1000:>9.1f} {counts.get((d.id, 'rejected'), 0):>9} "
                   f"{counts.get((d.id, 'held'), 0):>7}  {scope}{'; ' if state else ''}{', '.join(state)}")
        if classes or chosen_teachers(d.id):
            click.echo(f"{'':<18} учителя: {_served_text(d.id)}")


@device_group.command("setup-file")
@click.argument("device_id")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--hub", "hub", default="", help="The hub's address for later syncs over a link, if it has one.")
def setup_file_command(device_id: str, out: Path, hub: str) -> None:
    """Write a machine's setup file: its token, the hub's address, the status and the first pull's changes.

    The status is exactly what `GET /api/v1/status` answers this device (it is asked of the app itself),
    so a machine started from the file checks entries as one started over a link.
    """
    from flask import current_app

    from app.cli.sync_file import write_json_gz

    device = _get(device_id)
    if device.revoked_at is not None:
        raise click.ClickException(f"Устройство {device.id} отключено: выдайте новый ключ (device token).")
    token = token_for(device)
    answer = current_app.test_client().get("/api/v1/status", headers={"Authorization": f"Bearer {token}"})
    if answer.status_code != 200:
        raise click.ClickException(f"Сервер не выдал состояние устройства: {answer.status_code}.")
    changes, cursor, _more = changes_since(0, 10**9, device.id, bound_classes(device.id))
    db.session.rollback()
    write_json_gz(out, {"kind": "tetrad-setup", "protocol": 1, "hub": hub.rstrip("/") or None, "token": token,
                        "status": answer.get_json(), "pull": {"changes": changes, "cursor": cursor, "more": False}})
    click.echo(f"Файл настройки устройства {device.id} «{device.name}»: {out} (записей {len(changes)}).")
    click.echo("В нём ключ устройства: храните и переносите его как пароль. На компьютере класса: "
               "tetrad-classroom --db ФАЙЛ --setup " + out.name)


def _get(device_id: str) -> Device:
    device = db.session.get(Device, device_id)
    if device is None:
        raise click.ClickException(f"Устройство {device_id} не найдено.")
    return device
