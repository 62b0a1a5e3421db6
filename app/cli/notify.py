"""`flask --app wsgi notify run | digest --week 2026-W49 [--dry-run] | calls | status`: messages to families."""

from __future__ import annotations

import sys

import click
from flask import current_app

from app.base import settings
from app.base.calendar import monday
from app.base.extensions import db
from app.base.text import format_datetime
from app.notify import worker
from app.notify.digest import parse_week
from app.notify.jobs import plan_digests, queue_call_lists, queue_digests
from app.notify.outbox import queue_state
from app.notify.segments import segments

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
