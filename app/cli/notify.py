"""`flask --app wsgi notify run | digest --week 2026-W49 [--dry-run] | calls | status | channel | teacher-email`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from sqlalchemy import select

from app.base import settings
from app.base.calendar import monday
from app.base.extensions import db
from app.base.models import Guardian, Teacher, TeacherEmail
from app.base.text import format_date, format_datetime
from app.notify import worker
from app.notify.channels import set_channel
from app.notify.digest import parse_week
from app.notify.jobs import plan_digests, queue_call_lists, queue_digests
from app.notify.optout import opt_out
from app.notify.outbox import queue_state
from app.notify.segments import segments
from app.notify.transports import phone_number
from static_site.paper.lookup import PaperError, parse_day
from sync import clock

notify_group = click.Group("notify", help="Сообщения семьям: SMS и электронная почта.")


@notify_group.command("run")
@click.option("--poll", type=float, default=5.0, show_default=True, help="Пауза, когда отправлять нечего, с.")
@click.option("--once", is_flag=True, help="Отправить всё, что пора, и выйти.")
def run_command(poll: float, once: bool) -> None:
    """Отправлять сообщения из очереди (worker), рядом с хабом."""
    click.echo("Отправка сообщений запущена.", err=True)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        worker.run(app, poll=poll, once=once, echo=lambda line: click.echo(line, err=True))
    except KeyboardInterrupt:
        click.echo("Отправка сообщений остановлена.", err=True)


@notify_group.command("digest")
@click.option("--week", "week_text", default=None, help="Неделя ISO, например 2026-W49 (по умолчанию текущая).")
@click.option("--dry-run", is_flag=True, help="Только показать, что будет поставлено в очередь.")
def digest_command(week_text: str | None, dry_run: bool) -> None:
    """Поставить в очередь недельную сводку каждой семье (повторный запуск ничего не дублирует)."""
    conf = settings()
    start = monday(conf.today()) if week_text is None else parse_week(week_text)
    if start is None:
        click.echo(f"Неделя «{week_text}» не распознана: нужно, например, 2026-W49.", err=True)
        sys.exit(2)
    if dry_run:
        plan = plan_digests(conf, start)
        sms = [d for d in plan.drafts if d.channel == "sms"]
        click.echo(f"Неделя {plan.week}: семей {plan.families}, сообщений {len(plan.drafts)} "
                   f"(SMS {len(sms)}, писем {len(plan.drafts) - len(sms)}); ничего не поставлено в очередь.")
        if sms:
            click.echo(f"Самое длинное SMS: {max(segments(d.body) for d in sms)} сегм.")
        return
    plan = queue_digests(conf, start)
    db.session.commit()
    click.echo(f"Неделя {plan.week}: семей {plan.families}, сообщений {len(plan.drafts)}, "
               f"новых в очереди {plan.new}.")


@notify_group.command("calls")
def calls_command() -> None:
    """Поставить в очередь письма классным руководителям: кому позвонить на этой неделе."""
    count = queue_call_lists(settings())
    db.session.commit()
    click.echo(f"Писем классным руководителям поставлено в очередь: {count}.")


@notify_group.command("status")
def status_command() -> None:
    """Показать очередь: сколько ждёт, отправлено, не отправлено, и последние ошибки."""
    state = queue_state()
    counts = state["counts"]
    click.echo(f"В очереди {counts['queued']}, отправляется {counts['sending']}, отправлено {counts['sent']}, "
               f"не отправлено {counts['failed']}, отменено {counts['cancelled']}.")
    if state["oldest"]:
        click.echo(f"Самое старое ожидающее: {format_datetime(state['oldest'], settings().timezone)}.")
    for message in state["failures"]:
        click.echo(f"  № {message.id} {message.kind} {message.channel}: {message.last_error}")


@notify_group.command("channel")
@click.argument("who")
@click.argument("channel", type=click.Choice(["sms", "email", "paper"]))
@click.option("--consent-on", help="Дата согласия на канал: 20.11.2026.")
@click.option("--basis", default="", help="Документ, например «заявление № 5».")
@click.option("--alerts", default="", help="Оповещения через запятую: absence, grade, correction.")
@click.option("--no-digest", is_flag=True, help="Без недельной сводки.")
@click.option("--off", is_flag=True, help="Отключить канал по просьбе законного представителя.")
def channel_command(who: str, channel: str, consent_on: str | None, basis: str, alerts: str, no_digest: bool,
                    off: bool) -> None:
    """Записать согласие законного представителя (id, телефон или e-mail) на канал или отключить канал."""
    guardian = _guardian(who)
    if off:
        changed = opt_out(guardian.id, channel, "staff", clock.now())
        db.session.commit()
        click.echo(f"{guardian.full_name}: канал {channel} " + ("отключён." if changed else "уже был отключён."))
        return
    wanted = {a.strip() for a in alerts.split(",") if a.strip()}
    unknown = wanted - {"absence", "grade", "correction"}
    if unknown or not consent_on or not basis.strip():
        click.echo("Нужны --consent-on и --basis; оповещения: absence, grade, correction.", err=True)
        sys.exit(2)
    try:
        day = parse_day(consent_on)
    except PaperError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    set_channel(guardian.id, channel, day, basis.strip(), digest=not no_digest, absence="absence" in wanted,
                grade="grade" in wanted, correction="correction" in wanted)
    db.session.commit()
    click.echo(f"{guardian.full_name}: согласие на канал {channel} от {format_date(day)} записано.")


def _guardian(who: str) -> Guardian:
    found = db.session.get(Guardian, who)
    if found is None:
        number = phone_number(who) if "@" not in who else None
        for person in db.session.scalars(select(Guardian)):
            if (number and phone_number(person.phone) == number) or (person.email and person.email == who):
                found = person
                break
    if found is None:
        click.echo(f"Законный представитель «{who}» не найден.", err=True)
        sys.exit(2)
    return found


@notify_group.command("teacher-email")
@click.argument("code")
@click.argument("email")
def teacher_email_command(code: str, email: str) -> None:
    """Адрес классного руководителя (по табельному номеру) для еженедельного списка «кому позвонить»."""
    teacher = db.session.scalars(select(Teacher).where(Teacher.code == code)).first()
    if teacher is None or "@" not in email:
        click.echo("Учитель с таким табельным номером не найден или адрес неверен.", err=True)
        sys.exit(2)
    row = db.session.get(TeacherEmail, teacher.id) or TeacherEmail(teacher_id=teacher.id)
    row.email = email.strip()
    db.session.add(row)
    db.session.commit()
    click.echo(f"{teacher.last_name}: список «кому позвонить» будет приходить на {row.email}.")
