"""`flask --app wsgi teacher pin|demo-pins`: the PINs teachers sign in with on classroom machines."""

from __future__ import annotations

import click
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import Teacher
from app.staff.devices import set_pin
from sync.pins import new_pin, valid_pin

teacher_group = click.Group("teacher", help="Teachers: classroom sign-in PINs.")


def _by_code(code: str) -> Teacher:
    teacher = db.session.scalar(select(Teacher).where(Teacher.code == code))
    if teacher is None:
        raise click.ClickException(f"Учитель с табельным номером «{code}» не найден.")
    return teacher


@teacher_group.command("pin")
@click.argument("code")
@click.option("--pin", "pin", help="The PIN to set (4 to 8 digits); without it a random one is made and printed.")
def pin_command(code: str, pin: str | None) -> None:
    """Set the classroom sign-in PIN of the teacher with this staff number (табельный номер)."""
    teacher = _by_code(code)
    if pin is not None and not valid_pin(pin):
        raise click.ClickException("PIN должен состоять из 4–8 цифр.")
    chosen = pin or new_pin()
    set_pin(teacher, chosen)
    db.session.commit()
    name = " ".join(p for p in (teacher.last_name, teacher.first_name, teacher.middle_name) if p)
    click.echo(f"PIN для входа на компьютерах классов установлен: {name} ({teacher.code}).")
    if pin is None:
        click.echo("Сообщите учителю PIN (он не хранится на сервере и больше не будет показан):")
        click.echo(chosen)


def demo_pin(teacher: Teacher) -> str:
    """The demo school's PIN of a teacher: the last four digits of the staff number."""
    digits = "".join(ch for ch in teacher.code if ch.isdigit())
    return digits[-4:].rjust(4, "0")


@teacher_group.command("demo-pins")
def demo_pins_command() -> None:
    """Demo only: give every teacher without a PIN the last four digits of their staff number; print them all."""
    teachers = db.session.scalars(select(Teacher).order_by(Teacher.last_name, Teacher.first_name)).all()
    for teacher in teachers:
        if teacher.pin_hash is None:
            set_pin(teacher, demo_pin(teacher))
    db.session.commit()
    for teacher in teachers:
        name = " ".join(p for p in (teacher.last_name, teacher.first_name, teacher.middle_name) if p)
        click.echo(f"  {name:<40} PIN {demo_pin(teacher)}")
