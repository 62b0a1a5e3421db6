"""`flask --app wsgi consent record|withdraw|decide|list`: consent and access requests for the secretary's terminal.

The same code as the staff pages (app.base.consent, static_site.requests); every record keeps who made it
(`--by`, by default the system user's name with `cli:` in front).
"""

from __future__ import annotations

import datetime as dt
import getpass

import click
from sqlalchemy import select

from app.base import settings
from app.base.consent import (
    CHANNELS,
    REFUSAL_REASONS,
    ConsentRefused,
    due_on,
    history,
    latest_consent,
    record_consent,
    record_request,
    waiting_requests,
    withdraw_consent,
    working_days_after,
)
from app.base.extensions import db
from app.base.models import AccessRequest, Family, Guardian
from app.importing import values
from static_site.links import LinkRefused, link_url
from static_site.paper.lookup import PaperError, parse_day
from static_site.requests import decide_issue, decide_refuse, invitation_code
from sync import clock

consent_group = click.Group(
    "consent", help="Согласие законных представителей на обработку персональных данных и запросы доступа "
                    "к дневнику: записать, отозвать, решить, показать.")


def _by(by: str | None) -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return (by or f"cli:{user}")[:60]


def _day(text: str | None) -> dt.date:
    today = settings().today()
    if not text:
        return today
    try:
        day = parse_day(text)
    except PaperError as exc:
        raise click.BadParameter(str(exc)) from None
    if day > today:
        raise click.BadParameter(f"дата {day:%d.%m.%Y} ещё не наступила")
    return day


def find_guardian(text: str) -> Guardian:
    """The guardian named by id, phone or name (surname first, as much as needed to be unique)."""
    found = db.session.get(Guardian, text)
    if found is not None:
        return found
    everyone = list(db.session.scalars(select(Guardian)))
    needle = values.name_key(" ".join(text.split()))
    digits = "".join(ch for ch in text if ch.isdigit())
    matches = [g for g in everyone if values.name_key(g.full_name).startswith(needle)]
    if not matches and len(digits) >= 5:
        matches = [g for g in everyone if "".join(ch for ch in g.phone if ch.isdigit()).endswith(digits)]
    if not matches:
        raise click.ClickException(f"Представитель «{text}» не найден (укажите фамилию, имя, отчество или id).")
    if len(matches) > 1:
        names = "; ".join(f"{g.full_name} {g.phone} (id {g.id})" for g in matches[:10])
        raise click.ClickException(f"«{text}» подходит нескольким представителям: {names}. Уточните или укажите id.")
    return matches[0]


def _family_of(guardian: Guardian, name: str | None) -> Family:
    families = list(db.session.scalars(select(Family).where(Family.guardians.any(Guardian.id == guardian.id))))
    if name:
        families = [f for f in families if f.id == name or values.name_key(name) in values.name_key(f.name)]
    if len(families) != 1:
        which = ", ".join(f.name for f in families) or "нет"
        raise click.ClickException(f"У {guardian.full_name} должна быть ровно одна подходящая семья (сейчас: {which}); "
                                   "укажите --family.")
    return families[0]


@consent_group.command("record")
@click.argument("guardian")
@click.option("--date", "on", help="Дата согласия (и запроса): 16.11.2026; по умолчанию сегодня.")
@click.option("--basis", required=True, help="Основание: подписанное согласие, его номер и дата.")
@click.option("--channel", type=click.Choice(list(CHANNELS)), default="link", show_default=True,
              help="Как семья получает дневник: link (ссылка), paper (бумага), both (оба).")
@click.option("--request", "with_request", is_flag=True,
              help="Согласие подано вместе с запросом доступа: записать запрос; согласие действует после решения.")
@click.option("--family", help="Семья (название или id), если представитель в нескольких.")
@click.option("--children", help="Номера личных дел детей через запятую (по умолчанию все дети семьи).")
@click.option("--documents", default="", help="Документы, предъявленные с запросом.")
@click.option("--contact", default="", help="Куда сообщить результат (телефон, эл. почта).")
@click.option("--by", help="Кто записал (по умолчанию cli:<пользователь>).")
def record_command(guardian: str, on: str | None, basis: str, channel: str, with_request: bool, family: str | None,
                   children: str | None, documents: str, contact: str, by: str | None) -> None:
    """Записать согласие представителя (и, с --request, его запрос доступа)."""
    person = find_guardian(guardian)
    day, who = _day(on), _by(by)
    request = None
    try:
        if with_request:
            home = _family_of(person, family)
            chosen = home.students
            if children:
                numbers = {n.strip() for n in children.split(",") if n.strip()}
                chosen = [s for s in home.students if s.file_no in numbers]
                missing = numbers - {s.file_no for s in chosen}
                if missing:
                    raise click.ClickException(f"Нет в семье «{home.name}»: личные дела {', '.join(sorted(missing))}.")
            request = record_request(home, person, chosen, day, documents or basis, channel,
                                     contact or person.phone or person.email, who)
        record_consent(person, day, basis, channel, who, request)
    except ConsentRefused as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if request is not None:
        due = due_on(day, settings().access_decision_days)
        click.echo(f"Запрос {request.id} и согласие {person.full_name} записаны; решение — до {due:%d.%m.%Y} "
                   f"(flask --app wsgi consent decide {request.id} --issue).")
    else:
        click.echo(f"Согласие {person.full_name} от {day:%d.%m.%Y} записано; действует со следующей сборки сайта.")


@consent_group.command("withdraw")
@click.argument("guardian")
@click.option("--statement", required=True, help="Письменное заявление об отзыве: номер и дата.")
@click.option("--date", "on", help="Дата заявления: 16.11.2026; по умолчанию сегодня.")
@click.option("--by", help="Кто записал (по умолчанию cli:<пользователь>).")
def withdraw_command(guardian: str, statement: str, on: str | None, by: str | None) -> None:
    """Записать отзыв согласия: ссылки представителя перестают открываться после следующей сборки."""
    person = find_guardian(guardian)
    try:
        withdraw_consent(person, _day(on), statement, _by(by))
    except ConsentRefused as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Согласие {person.full_name} отозвано; страницы семьи будут удалены при следующей сборке сайта.")


@consent_group.command("decide")
@click.argument("request_id")
@click.option("--issue", "issue_", is_flag=True, help="Предоставить доступ (выдать ссылку, если выбрана ссылка).")
@click.option("--refuse", type=click.Choice(list(REFUSAL_REASONS)), help="Отказать по основанию п. 2.12.1–2.12.6.")
@click.option("--by", help="Кто решил (по умолчанию cli:<пользователь>).")
def decide_command(request_id: str, issue_: bool, refuse: str | None, by: str | None) -> None:
    """Решить запрос доступа: --issue или --refuse ОСНОВАНИЕ."""
    if issue_ == bool(refuse):
        raise click.UsageError("Укажите либо --issue, либо --refuse 2.12.N.")
    request = db.session.get(AccessRequest, request_id)
    if request is None:
        raise click.ClickException(f"Запрос {request_id} не найден (flask --app wsgi consent list --waiting).")
    conf, now = settings(), clock.now()
    try:
        if refuse:
            decide_refuse(request, refuse, _by(by), conf.today(now))
            link = None
        else:
            link = decide_issue(request, _by(by), conf.today(now), now)
    except (ConsentRefused, LinkRefused) as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if refuse:
        click.echo(f"Отказано ({refuse}. {REFUSAL_REASONS[refuse]}). Решение для подписи — на странице запроса.")
    elif link is not None:
        click.echo(f"Доступ предоставлен: {link_url(conf, link.token)} (код: {invitation_code(link.token)})")
    else:
        click.echo("Доступ предоставлен: дневник на бумаге (еженедельные выписки).")


@consent_group.command("list")
@click.option("--waiting", is_flag=True, help="Только запросы, ждущие решения, и сколько рабочих дней ждут.")
@click.option("--guardian", help="История согласия одного представителя.")
def list_command(waiting: bool, guardian: str | None) -> None:
    """Показать согласия представителей, запросы или историю одного представителя."""
    conf = settings()
    today = conf.today()
    if guardian:
        person = find_guardian(guardian)
        for c in history(person.id):
            state = "дано" if c.state == "given" else "отозвано"
            who = f"{c.recorded_by or '—'}" + (f", {c.recorded_at:%d.%m.%Y %H:%M}" if c.recorded_at else "")
            extra = f", запрос {c.request_id}" if c.request_id else ""
            click.echo(f"{c.on:%d.%m.%Y}  {state}  {c.basis}  [{c.channel}{extra}]  записал {who}")
        return
    if waiting:
        rows = waiting_requests()
        for r in rows:
            asker = db.session.get(Guardian, r.guardian_id)
            waited = working_days_after(r.received_on, today)
            late = "  ПРОСРОЧЕН" if waited > conf.access_decision_days else ""
            click.echo(f"{r.id}  {r.received_on:%d.%m.%Y}  {asker.full_name if asker else r.guardian_id}  "
                       f"ждёт {waited} раб. дн.{late}")
        click.echo(f"Ждут решения: {len(rows)}")
        return
    for person in sorted(db.session.scalars(select(Guardian)), key=lambda g: g.full_name):
        last = latest_consent(person.id)
        state = "нет согласия" if last is None else (f"дано {last.on:%d.%m.%Y}" if last.state == "given"
                                                       else f"отозвано {last.on:%d.%m.%Y}")
        click.echo(f"{person.full_name}  {state}")
