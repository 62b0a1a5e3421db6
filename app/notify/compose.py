"""The texts: the family's link, the weekly digest (SMS within two segments, e-mail text + HTML), the call list.

Every text is built from one family's `FamilyWeek` (children the access rule allows) and one guardian's own
link, so nothing of another family can get in.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from app.base.models import Guardian
from app.base.text import format_date, greeting
from app.notify.digest import ChildWeek, FamilyWeek
from app.notify.segments import segments

SMS_SEGMENTS = 2


def dm(day: dt.date) -> str:
    """30.11"""
    return day.strftime("%d.%m")


def week_span(start: dt.date) -> str:
    """30.11–05.12 (Monday to Saturday)."""
    return f"{dm(start)}–{dm(start + dt.timedelta(days=5))}"


def link_sms(family_name: str, url: str, stop_word: str, rotated: bool) -> str:
    """The family's link by SMS."""
    head = "Новая ссылка на дневник" if rotated else "Ссылка на электронный дневник"
    text = f"{head} ({family_name}): {url} Не пересылайте её. Отписка: {stop_word}"
    if segments(text) > SMS_SEGMENTS:
        text = f"{head}: {url}"
    return text


def link_email(guardian: Guardian, family_name: str, school: str, url: str, rotated: bool) -> tuple[str, str, str]:
    """Subject, text and HTML of the link e-mail."""
    subject = ("Новая ссылка на электронный дневник" if rotated else "Ссылка на электронный дневник") + \
        f" — {family_name}"
    lines = [f"{greeting(guardian)}!", "",
             ("Ссылка на электронный дневник вашей семьи заменена; прежняя больше не действует."
              if rotated else "Для вашей семьи открыт электронный дневник."),
             "", f"Дневник: {url}", "",
             "Ссылка — ваш личный ключ: не пересылайте её другим людям.", "", school]
    html = (f"<p>{escape(greeting(guardian))}!</p><p>{escape(lines[2])}</p>"
            f'<p><a href="{escape(url)}">Открыть дневник</a><br>{escape(url)}</p>'
            f"<p>Ссылка — ваш личный ключ: не пересылайте её другим людям.</p><p>{escape(school)}</p>")
    return subject, "\n".join(lines), html


def _child_summary(child: ChildWeek, detailed: bool) -> str:
    parts = []
    if child.marks:
        values = " ".join(m[2] for m in child.marks)
        parts.append(values if detailed else f"отметок {len(child.marks)}")
    if child.absences:
        parts.append(f"пропусков {len(child.absences)}")
    if child.tests:
        parts.append(f"к/р {len(child.tests)}")
    return f"{child.first_name}: {', '.join(parts) if parts else 'без новых записей'}"


def digest_sms(week: FamilyWeek, url: str | None, stop_word: str) -> str:
    """At most two segments: the week's summary per child and the link; shorter forms when it does not fit."""
    tail = (f" {url}" if url else "") + f" Отписка: {stop_word}"
    span = week_span(week.start)
    candidates = [
        f"Дневник {span}. " + "; ".join(_child_summary(c, True) for c in week.children) + "." + tail,
        f"Дневник {span}. " + "; ".join(_child_summary(c, False) for c in week.children) + "." + tail,
        f"Дневник за {span}: новые записи." + tail,
        f"Дневник {span}:" + (f" {url}" if url else " см. бумажную выписку"),
    ]
    for text in candidates:
        if segments(text) <= SMS_SEGMENTS:
            return text
    return candidates[-1]


def _child_lines(child: ChildWeek) -> list[str]:
    lines = [f"{child.name}, {child.class_name} класс", ""]
    lines.append("Отметки:" if child.marks else "Отметки: нет")
    lines += [f"  {dm(d)} {subject}: {value}" + (f" ({short})" if short else "")
              for d, subject, value, short in child.marks]
    lines.append("Пропуски:" if child.absences else "Пропуски: нет")
    lines += [f"  {dm(d)} {subject}: н ({reason})" for d, subject, reason in child.absences]
    if child.late:
        lines.append(f"Опозданий: {child.late}")
    lines.append("Домашнее задание на следующую неделю:" if child.homework else
                 "Домашнее задание на следующую неделю: нет")
    lines += [f"  к {dm(d)} {subject}: {text}" for d, subject, text in child.homework]
    lines.append("Контрольные работы на следующей неделе:" if child.tests else
                 "Контрольные работы на следующей неделе: нет")
    lines += [f"  {dm(d)} {subject}: {title}" for d, subject, title in child.tests]
    return [*lines, ""]


def digest_email(week: FamilyWeek, guardian: Guardian, url: str | None, school: str,
                 unsubscribe: str) -> tuple[str, str, str]:
    """Subject, plain text with the whole week, and a small HTML part."""
    names = ", ".join(c.name for c in week.children)
    end = week.start + dt.timedelta(days=5)
    subject = f"Дневник за неделю {format_date(week.start)}–{format_date(end)}: {names}"
    lines = [f"{greeting(guardian)}!", "",
             f"Неделя {format_date(week.start)}–{format_date(end)} в электронном дневнике.", ""]
    for child in week.children:
        lines += _child_lines(child)
    lines += [f"Дневник: {url}" if url else "Ссылку на дневник выдаст классный руководитель.", "", school, "",
              f"Отписаться от писем: {unsubscribe}"]
    html = [f"<p>{escape(greeting(guardian))}!</p>"]
    for child in week.children:
        html.append(f"<h2>{escape(child.name)}, {escape(child.class_name)}</h2><ul>")
        html.append(f"<li>Отметки: {escape(' '.join(m[2] for m in child.marks) or 'нет')}</li>")
        html.append(f"<li>Пропуски: {len(child.absences)}</li>")
        html.append(f"<li>Домашних заданий на следующую неделю: {len(child.homework)}</li>")
        html.append(f"<li>Контрольных работ на следующей неделе: {len(child.tests)}</li></ul>")
    if url:
        html.append(f'<p><a href="{escape(url)}">Открыть дневник</a></p>')
    html.append(f'<p><small>{escape(school)}. <a href="{escape(unsubscribe)}">Отписаться от писем</a></small></p>')
    return subject, "\n".join(lines), "".join(html)


def calls_email(teacher_name: str, class_name: str, rows: list[tuple[str, str, str]], start: dt.date,
                ) -> tuple[str, str]:
    """Subject and text of a class teacher's weekly call list: (family, guardian, phone) rows."""
    subject = f"Кому позвонить: {class_name}, неделя {format_date(start)}"
    lines = [f"{teacher_name},", "",
             "Эти семьи не открывали дневник и не подписывали бумажную выписку две недели:", ""]
    lines += [f"  {family} — {guardian}, {phone or 'телефон не указан'}" for family, guardian, phone in rows]
    if not rows:
        lines.append("  таких семей нет.")
    return subject, "\n".join(lines)
