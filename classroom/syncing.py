"""Syncing from the journal: the button, what waits for the hub, what the hub held or rejected and why, USB files."""

from __future__ import annotations

import io
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from classroom import get_client
from classroom.auth import signed_in, teacher
from classroom.i18n import N_, gettext
from classroom.school import School
from sync import clock, notices
from sync.answers import Change, SyncAnswer
from sync.client import SyncClient
from sync.errors import SyncError
from sync.outbox import Outcome
from sync.report import SyncReport, describe

bp = Blueprint("syncing", __name__)

ENTITY_WORDS = {"lesson": N_("lesson"), "attendance": N_("attendance"), "mark": N_("mark"), "remark": N_("remark"),
                "period_grade": N_("period mark"), "test_plan": N_("test")}
STATUS_WORDS = {"rejected": N_("rejected"), "held": N_("waiting for the deputy's approval"),
                "declined": N_("declined by the deputy")}
FIXABLE = ("lesson", "attendance", "mark")  # a rejected op of these opens its lesson with the value prefilled


def describe_op(school: School, body: dict[str, Any]) -> str:
    """One op in words: what, for whom, which day."""
    fields: dict[str, Any] = body.get("fields") or {}
    entity = str(body.get("entity"))
    parts = [gettext(ENTITY_WORDS[entity]) if entity in ENTITY_WORDS else entity]
    if body.get("action") == "delete":
        parts[0] += gettext(" (deleted)")
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
        parts.append(gettext("topic «%(topic)s»", topic=fields["topic"]))
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


class _Progress:
    """One client file's sync in the background: what it has done so far, and its report when finished."""

    def __init__(self, total: int) -> None:
        self.total, self.sent, self.batches, self.pages = total, 0, 0, 0
        self.last_batch = 0
        self.report: SyncReport | None = None

    def batches_total(self) -> int:
        """Batches done plus those the rest of the outbox needs at the last batch's size."""
        left = max(0, self.total - self.sent)
        size = self.last_batch or max(1, self.total)
        return self.batches + -(-left // size)


_RUNS: dict[str, _Progress] = {}
_RUNS_LOCK = threading.Lock()


class _ReportingClient(SyncClient):
    """The sync client with its progress kept for the progress page."""

    progress: _Progress

    def _accept(self, sent: list[dict[str, Any]], answer: SyncAnswer, report: SyncReport) -> int:
        done = super()._accept(sent, answer, report)
        with _RUNS_LOCK:
            self.progress.sent += len(sent)
            self.progress.batches += 1
            self.progress.last_batch = len(sent)
        return done

    def _take(self, changes: list[Change], cursor: str | None, done: bool = False) -> None:
        super()._take(changes, cursor, done)
        with _RUNS_LOCK:
            self.progress.pages += 1


def _run_in_background(path: str, transport: Any, progress: _Progress, internal: str) -> None:
    client = _ReportingClient(path, transport=transport)
    client.progress = progress
    client.attempts = 2  # a teacher waits at the screen: fail fast, the outbox keeps everything
    client.max_delay = 5.0
    try:
        report = client.sync()
    except Exception as exc:  # a bug: say so on the page instead of spinning forever
        report = SyncReport(error=f"{internal} {exc!r}.")
        raise
    finally:
        client.close()
        with _RUNS_LOCK:
            progress.report = report


@bp.post("/sync")
@signed_in
def run() -> str | Response:
    """Sync now, in a background thread: the progress page follows it (a quick sync shows its result at once)."""
    client = get_client()
    if not client.store.get("hub"):
        return _page(error=gettext("This machine has no server address (it was set up from a file): exchange "
                                   "files below."))
    path = str(client.store.path.resolve())
    with _RUNS_LOCK:
        progress = _RUNS.get(path)
        if progress is None or progress.report is not None:  # none running: start one
            progress = _RUNS[path] = _Progress(client.store.backlog())
            threading.Thread(target=_run_in_background, name="classroom-sync", daemon=True,
                             args=(path, current_app.config["CLASSROOM_TRANSPORT"], progress,
                                   gettext("Internal error of the sync:"))).start()
    waited = 0.0
    while waited < float(current_app.config["CLASSROOM_SYNC_WAIT"]):  # short sleeps: faketime breaks waits
        with _RUNS_LOCK:
            report = progress.report
        if report is not None:
            return _page(report=report)
        time.sleep(0.05)
        waited += 0.05
    return redirect(url_for("syncing.progress"))


@bp.get("/sync/progress")
@signed_in
def progress() -> str | Response:
    """How far the running sync is; the page refreshes itself until it ends, then shows the result."""
    path = str(get_client().store.path.resolve())
    with _RUNS_LOCK:
        run_ = _RUNS.get(path)
        state: dict[str, Any] | None = None if run_ is None else {
            "total": run_.total, "sent": run_.sent, "batches": run_.batches, "batches_total": run_.batches_total(),
            "pages": run_.pages, "report": run_.report}
    if state is None:
        return redirect(url_for("syncing.status"))
    if state["report"] is not None:
        return _page(report=state["report"])
    return render_template("sync_progress.html", run=state)


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
        return _page(error=gettext("Choose the server's answer file (.answer.json.gz)."))
    with tempfile.TemporaryDirectory(prefix="tetrad-answer-") as folder:
        path = Path(folder) / "answer.json.gz"
        upload.save(path)
        try:
            report = get_client().read_answer(path)
        except SyncError as exc:
            return _page(error=describe(exc))
    return _page(report=report)
