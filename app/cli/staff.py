"""`flask --app wsgi staff add|list|password`: accounts of the staff pages."""

from __future__ import annotations

import secrets

import click
from sqlalchemy import select

from app.base.extensions import db
from app.base.models import StaffUser
from app.staff.rights import ROLES
from app.staff.users import ROLE_NAMES, AccountError, create_user, normal_login, set_password

staff_group = click.Group("staff", help="Учётные записи сотрудников: создать, список, новый пароль (staff accounts).")


@staff_group.command("add")
@click.argument("login")
@click.option("--role", type=click.Choice(ROLES), required=True, help="Роль учётной записи.")
@click.option("--teacher", "teacher_code", help="Табельный номер of the teacher (needed for teachers' roles).")
@click.option("--password", help="Пароль (не короче 8 символов); без него создаётся и выводится.")
@click.option("--name", default="", help="Имя на страницах (по умолчанию — имя учителя).")
def add_command(login: str, role: str, teacher_code: str | None, password: str | None, name: str) -> None:
    """Создать учётную запись (add); созданный пароль выводится."""
    try:
        user, secret = create_user(login, role, password, teacher_code, name)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Учётная запись «{user.login}» создана: {ROLE_NAMES[user.role]}, {user.name}.")
    if password is None:
        click.echo(f"Пароль (сообщите его лично, он больше не будет показан): {secret}")


@staff_group.command("list")
def list_command() -> None:
    """Все учётные записи с ролью и состоянием (list)."""
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.login)).all()
    if not users:
        click.echo("Учётных записей нет. Добавьте: flask --app wsgi staff add LOGIN --role administrator")
        return
    for user in users:
        state = "" if user.active else " (отключена)"
        click.echo(f"{user.login:<20} {ROLE_NAMES[user.role]:<24} {user.name}{state}")


@staff_group.command("password")
@click.argument("login")
@click.option("--password", help="Новый пароль; без него создаётся и выводится.")
def password_command(login: str, password: str | None) -> None:
    """Новый пароль учётной записи (password); её открытые сеансы завершаются."""
    user = db.session.scalars(select(StaffUser).where(StaffUser.login == normal_login(login))).first()
    if user is None:
        raise click.ClickException(f"Учётная запись «{login}» не найдена.")
    secret = password or secrets.token_urlsafe(9)
    try:
        set_password(user, secret)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Пароль учётной записи «{user.login}» изменён.")
    if password is None:
        click.echo(f"Новый пароль: {secret}")
