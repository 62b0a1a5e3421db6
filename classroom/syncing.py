"""Syncing from the journal: the button, what waits for the hub, what the hub held or rejected and why, USB files."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from classroom import get_client
from classroom.auth import signed_in, teacher
from classroom.school import School
from sync import clock, notices
from sync.errors import SyncError
from sync.outbox import Outcome
from sync.report import SyncReport, describe

bp = Blueprint("syncing", __name__)

ENTITY_WORDS = {"lesson": "урок", "attendance": "посещаемость", "mark": "отметка", "remark": "замечание",
                "period_grade": "отметка за период", "test_plan": "контрольная работа"}
STATUS_WORDS = {"rejected": "отклонено", "held": "ждёт утверждения завуча", "declined": "отклонено завучем"}
FIXABLE = ("lesson", "attendance", "mark")  # a rejected op of these opens its lesson with the value prefilled


def describe_op(school: School, body: dict[str, Any]) -> str:
    """One op in words: what, for whom, which day."""
    fields: dict[str, Any] = body.get("fields") or {}
    parts = [ENTITY_WORDS.get(str(body.get("entity")), str(body.get("entity")))]
    if body.get("action") == "delete":
        parts[0] += " (удаление)"
    if "value" in fields:
        parts.append(f"«{fields['value']}»")
    if "status" in fields and body.get("entity") == "attendance":
        parts.append(str(fields["status"]))
    if fields.get("student"):
        parts.append(school.name("student", str(fields["student"])))
    lesson = school.client.view("lesson", str(fields["lesson"])) if fields.get("lesson") else None
    day = (lesson.values.get("date") if lesson else None) or fields.get("date")
    if isinstance(day, str) and len(day) == 10:
        parts.append(f"{day[8:10]}.{day[5:7]}.{day[0:4]}")
    if body.get("entity") == "lesson" and fields.get("topic"):
        parts.append(f"тема «{fields['topic']}»")
    return ", ".join(p for p in parts if p)


def fix_url(school: School, outcome: Outcome) -> str | None:
    """Where a rejected op is fixed and sent again: its lesson's screen with the op's values prefilled."""
    body = outcome.body
    if outcome.status != "rejected" or body.get("entity") not in FIXABLE or body.get("action") != "upsert":
        return None
    fields: dict[str, Any] = body.get("fields") or {}
    if body.get("entity") == "lesson":
        lesson = dict(fields)
        viewed = school.client.view("lesson", str(body.get("id")))
        if viewed is not None:
            lesson = {**viewed.values, **fields}
    else:
        viewed = school.client.view("lesson", str(fields.get("lesson") or ""))
        lesson = dict(viewed.values) if viewed is not None else {}
    if not all(lesson.get(k) for k in ("date", "slot", "class")):
        return None
    args: dict[str, Any] = {"fix": outcome.op}
    if lesson.get("group"):
        args["group"] = lesson["group"]
    if lesson.get("substitute") and lesson.get("subject"):
        args["substitute"] = lesson["subject"]
    return url_for("lessons.lesson", day=str(lesson["date"]), number=int(lesson["slot"]),
                   class_id=str(lesson["class"]), **args)


def conflict_rows(school: School, me: str) -> list[dict[str, Any]]:
    """The conflicts the hub sent that concern this teacher, in words."""
    rows = []
    for item in notices.kept(school.client.store, me):
        record = school.client.view(str(item["entity"]), str(item["id"]))
        fields = dict(record.values) if record is not None else dict(item.get("fields") or {})
        what = describe_op(school, {"entity": item["entity"], "action": "upsert", "fields": fields})
        at = str(item.get("at") or "")
        rows.append({"what": what, "message": item["message"], "open": item.get("status") == "open",
                     "kind": item["kind"], "at": f"{at[8:10]}.{at[5:7]}.{at[0:4]}" if len(at) >= 10 else ""})
    return rows


@bp.get("/conflicts")
@signed_in
def conflicts() -> str:
    """What the hub recorded against this teacher's writes: conflicts lost, corrections declined."""
    client = get_client()
    me = teacher()
    assert me is not None
    kept = client.store.get(notices.KEY) or {}
    return render_template("conflicts.html", rows=conflict_rows(School(client), me), received=bool(kept))


def _page(report: SyncReport | None = None, error: str | None = None) -> str:
    client = get_client()
    school = School(client)
    pending = [(op["seq"], describe_op(school, op)) for op in client.store.pending(200)]
    outcomes = [(o, describe_op(school, o.body), STATUS_WORDS.get(o.status, o.status), fix_url(school, o))
                for o in client.store.outcomes()]
    return render_template("sync.html", report=report, error=error, pending=pending, outcomes=outcomes,
                           backlog=client.store.backlog(), last=client.store.get("last_sync"),
                           hub=client.store.get("hub"))


@bp.get("/sync")
@signed_in
def status() -> str:
    """What has not reached the hub, what it held or rejected, and the button."""
    return _page()


@bp.post("/sync")
@signed_in
def run() -> str:
    """Sync now: push the outbox, pull the hub's changes; the result on the page."""
    client = get_client()
    if not client.store.get("hub"):
        return _page(error="У компьютера нет адреса сервера (он настроен из файла): обменивайтесь файлами ниже.")
    client.attempts = 2  # a teacher waits at the screen: fail fast, the outbox keeps everything
    client.max_delay = 5.0
    return _page(report=client.sync())


@bp.post("/sync/export")
@signed_in
def export() -> Response:
    """The outbox as a batch file to carry to the hub on a USB stick."""
    client = get_client()
    stamp = clock.now().strftime("%Y%m%d-%H%M")
    name = f"tetrad-{client.device}-{stamp}.json.gz"
    with tempfile.TemporaryDirectory(prefix="tetrad-export-") as folder:
        target = Path(folder) / name
        client.export(target)
        data = target.read_bytes()
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name, mimetype="application/gzip")


@bp.post("/sync/answer")
@signed_in
def answer() -> str:
    """Read the hub's answer file brought back on the stick."""
    upload = request.files.get("answer")
    if upload is None or not upload.filename:
        return _page(error="Выберите файл ответа сервера (.answer.json.gz).")
    with tempfile.TemporaryDirectory(prefix="tetrad-answer-") as folder:
        path = Path(folder) / "answer.json.gz"
        upload.save(path)
        try:
            report = get_client().read_answer(path)
        except SyncError as exc:
            return _page(error=describe(exc))
    return _page(report=report)
