"""One lesson on one screen: attendance through the class list, topic, homework, marks, remarks.

Saving turns the form into ops through `SyncClient.record()` inside one transaction of the client file:
the same checks the hub runs (`sync.rules`) refuse a wrong entry on the spot with the hub's message, and
then nothing of the form is written. A lesson in the future takes only its planning fields.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from classroom import get_client
from classroom.auth import signed_in, teacher
from classroom.i18n import N_, gettext
from classroom.school import School, Slot, find, today
from sync.client import SyncClient
from sync.errors import RecordRefused
from sync.ids import attendance_id
from sync.merge import Record
from sync.outbox import Outcome
from sync.protocol import REMARK_KINDS
from sync.schema import parse_date

bp = Blueprint("lessons", __name__)

ATTENDANCE = (("present", N_("present")), ("absent_excused", N_("У — excused")),
              ("absent_unexcused", N_("Н — unexcused")), ("ill", N_("Б — ill")), ("late", N_("late")))
REMARK_WORDS = {"remark": N_("remark"), "recommendation": N_("recommendation"), "praise": N_("praise")}
RU_DATE = re.compile(r"\s*([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})\s*")


def read_date(text: str | None) -> str | None:
    """A date typed as 16.11.2026 or 2026-11-16, as YYYY-MM-DD; None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    match = RU_DATE.fullmatch(text)
    if match:
        try:
            return dt.date(int(match[3]), int(match[2]), int(match[1])).isoformat()
        except ValueError:
            return "bad"
    day = parse_date(text)
    return day.isoformat() if day else "bad"


@dataclass
class Row:
    """One student's line of the lesson screen."""

    id: str
    name: str
    status: str | None
    marks: list[tuple[str, Record]] = field(default_factory=list)


def find_slot(school: School, me: str, day: dt.date, number: int, class_id: str, group_id: str | None,
              substitute_subject: str | None = None) -> Slot:
    """The teacher's lesson of that day, slot and class; an unplanned substitution when a subject is given for a
    lesson that is not theirs; 404 otherwise."""
    for slot in school.day(me, day):
        if (slot.slot, slot.class_id, slot.group_id) == (number, class_id, group_id):
            return slot
    if substitute_subject and class_id in school.records("class") and substitute_subject in school.records("subject"):
        return Slot(day, number, class_id, group_id, substitute_subject, me, "substitution",
                    gettext("not planned by the deputy"))
    abort(404, gettext("This lesson is not in your timetable."))


def rows_for(client: SyncClient, school: School, slot: Slot) -> list[Row]:
    """The class list with each student's attendance and marks in this lesson."""
    lesson = slot.lesson_id
    marks: dict[str, list[tuple[str, Record]]] = {}
    for mark_id, mark in find(client, "mark", "lesson", lesson, clocks=False).items():
        if not mark.deleted:
            marks.setdefault(str(mark.values.get("student")), []).append((mark_id, mark))
    present = find(client, "attendance", "lesson", lesson, clocks=False)  # one query, not one per student
    rows = []
    for sid, name in school.class_list(slot.class_id, slot.group_id, slot.date):
        row = present.get(attendance_id(lesson, sid))
        status = row.values.get("status") if row is not None and not row.deleted else None
        rows.append(Row(sid, name, status, marks.get(sid, [])))
    return rows


@bp.route("/lesson/<day>/<int:number>/<class_id>", methods=["GET", "POST"])
@signed_in
def lesson(day: str, number: int, class_id: str) -> tuple[str, int] | Response:
    """Show or save one lesson."""
    client = get_client()
    school = School(client)
    me = teacher()
    assert me is not None
    date = parse_date(day)
    if date is None:
        abort(404)
    group_id = request.args.get("group") or None
    slot = find_slot(school, me, date, number, class_id, group_id, request.args.get("substitute") or None)
    future = date > today(client)
    error = None
    if request.method == "POST":
        fixed = rejected_op(client, me, request.form.get("fix"))
        try:
            written = save(client, school, slot, me, request.form, future, fixed)
        except RecordRefused as refused:
            error = refused
        else:
            flash(gettext("The lesson is saved on this machine (entries: %(n)s); it goes to the server at the "
                          "next sync.", n=written), "ok")
            if fixed is not None:
                flash(gettext("The corrected entry goes to the server anew; the rejected one is off the list."), "ok")
            kept: dict[str, Any] = {k: v for k, v in request.args.items() if k != "fix"}
            return redirect(url_for("lessons.lesson", day=day, number=number, class_id=class_id, **kept))
    record = client.view("lesson", slot.lesson_id)
    values = dict(record.values) if record is not None and not record.deleted else {}
    rows = rows_for(client, school, slot)
    fixing = rejected_op(client, me, request.values.get("fix"))
    form: Any = request.form if error is not None else None
    if form is None and fixing is not None:
        form = prefilled(values, rows, fixing)
    return render_template(
        "lesson.html", school=school, slot=slot, lesson=values, rows=rows, future=future,
        error=error, form=form, fixing=fixing, attendance=[(code, gettext(word)) for code, word in ATTENDANCE],
        remark_kinds=[(k, gettext(REMARK_WORDS[k])) for k in REMARK_KINDS],  # translated once, not once a row
        work_types=school.work_types(), mark_values=school.mark_values(), subject=school.name("subject",
                                                                                          slot.subject_id),
        class_name=school.name("class", slot.class_id), group_name=school.name("group", slot.group_id),
    ), 422 if error is not None else 200


def rejected_op(client: SyncClient, me: str, op: str | None) -> Outcome | None:
    """This teacher's op the hub rejected, by its op id (what «Исправить и отправить снова» fixes)."""
    if not op:
        return None
    return next((o for o in client.store.outcomes() if o.op == op and o.status == "rejected" and o.author == me),
                None)


def prefilled(lesson: dict[str, Any], rows: list[Row], fixing: Outcome) -> dict[str, str]:
    """The lesson's form as it stands, with the rejected op's values typed in again."""
    due = str(lesson.get("homework_due") or "")
    form = {"topic": str(lesson.get("topic") or ""), "homework": str(lesson.get("homework") or ""),
            "homework_due": f"{due[8:10]}.{due[5:7]}.{due[0:4]}" if due else "",
            **({"cancelled": "on"} if lesson.get("cancelled") else {})}
    form.update({f"att-{row.id}": row.status or "present" for row in rows})
    fields: dict[str, Any] = fixing.body.get("fields") or {}
    student = str(fields.get("student") or "")
    if fixing.entity == "mark":
        form.update({f"mark-{student}": str(fields.get("value") or ""),
                     f"wt-{student}": str(fields.get("work_type") or "")})
    elif fixing.entity == "attendance":
        form[f"att-{student}"] = str(fields.get("status") or "present")
    elif fixing.entity == "lesson":
        for name in ("topic", "homework"):
            if name in fields:
                form[name] = str(fields[name] or "")
        if fields.get("homework_due"):
            due = str(fields["homework_due"])
            form["homework_due"] = f"{due[8:10]}.{due[5:7]}.{due[0:4]}"
        if "cancelled" in fields:
            form.pop("cancelled", None)
            form.update({"cancelled": "on"} if fields["cancelled"] else {})
    return form


class Refused(RecordRefused):
    """A refusal with the student or field it concerns, for the screen."""

    def __init__(self, cause: RecordRefused, where: str) -> None:
        super().__init__(cause.code, cause.field)
        self.message = f"{where}: {cause.message}" if where else cause.message


def save(client: SyncClient, school: School, slot: Slot, me: str, form: Any, future: bool,
         fixed: Outcome | None = None) -> int:
    """Write the form's changes as ops in one transaction; return how many; raise Refused for the first bad one.
    `fixed`: the rejected op the form corrects, dropped from the outcomes in the same transaction."""
    record = client.view("lesson", slot.lesson_id)
    current = dict(record.values) if record is not None and not record.deleted else {}
    due = read_date(form.get("homework_due"))
    if due == "bad":
        raise Refused(RecordRefused("bad_value", "homework_due"), gettext("Homework due date"))
    planned: dict[str, Any] = {"topic": form.get("topic", "").strip(), "homework": form.get("homework", "").strip(),
                               "homework_due": due, "cancelled": form.get("cancelled") == "on"}
    fields = {k: v for k, v in planned.items() if not current or current.get(k) != v}
    if not current:
        fields.update({"date": slot.date.isoformat(), "slot": slot.slot, "class": slot.class_id,
                       "group": slot.group_id, "subject": slot.subject_id, "teacher": me,
                       "substitute": slot.substitute})
    written = 0
    where = gettext("Lesson")
    try:
        with client.store.transaction():
            if fixed is not None:  # its correction goes through the same checks below, as new ops
                client.store.db.execute("DELETE FROM outcome WHERE op = ? AND status = 'rejected'", (fixed.op,))
            if fields:
                client.record("lesson", fields, author=me, id=slot.lesson_id)
                written += 1
            if future or planned["cancelled"]:
                return written
            for row in rows_for(client, school, slot):
                where = row.name
                status = form.get(f"att-{row.id}") or "present"
                if status != row.status:
                    client.record("attendance", {"lesson": slot.lesson_id, "student": row.id, "status": status},
                                  author=me)
                    written += 1
                for mark_id, _mark in row.marks:
                    if form.get(f"del-{mark_id}") == "on":
                        client.delete("mark", mark_id, author=me)
                        written += 1
                value = form.get(f"mark-{row.id}") or ""
                if value:
                    client.record("mark", {"lesson": slot.lesson_id, "student": row.id, "value": value,
                                           "work_type": form.get(f"wt-{row.id}") or "", "comment": ""}, author=me)
                    written += 1
                text = (form.get(f"remark-{row.id}") or "").strip()
                if text:
                    client.record("remark", {"student": row.id, "date": slot.date.isoformat(),
                                             "kind": form.get(f"rkind-{row.id}") or "remark",
                                             "subject": slot.subject_id, "text": text}, author=me)
                    written += 1
    except RecordRefused as refused:
        raise Refused(refused, where) from None
    return written

