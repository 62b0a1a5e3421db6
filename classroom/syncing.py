"""Syncing from the journal: the button, what waits for the hub, what the hub held or rejected and why, USB files."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, render_template, request, send_file
from werkzeug.wrappers import Response

from classroom import get_client
from classroom.auth import signed_in
from classroom.school import School
from sync import clock
from sync.errors import SyncError
from sync.report import SyncReport, describe

bp = Blueprint("syncing", __name__)

ENTITY_WORDS = {"lesson": "урок", "attendance": "посещаемость", "mark": "отметка", "remark": "замечание",
                "period_grade": "отметка за период", "test_plan": "контрольная работа"}
STATUS_WORDS = {"rejected": "отклонено", "held": "ждёт утверждения завуча"}


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


def _page(report: SyncReport | None = None, error: str | None = None) -> str:
    client = get_client()
    school = School(client)
    pending = [(op["seq"], describe_op(school, op)) for op in client.store.pending(200)]
    outcomes = [(o, describe_op(school, o.body), STATUS_WORDS.get(o.status, o.status))
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
