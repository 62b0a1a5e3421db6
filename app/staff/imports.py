"""The secretary's spreadsheet import from the browser: upload CSV or XLSX, check it (dry run), then import.

The same code and rules as `flask --app wsgi import` (app.importing.run_import: one file, one transaction, a
file with any bad row changes nothing). Both steps run as long actions (app.staff.jobs); the check lists
every bad row as `FILE:LINE: message`. The job page shows the rows to read while it runs (the count is not
advanced row by row: writing it would commit the import's open transaction). The uploaded file is kept,
readable by the hub only, under `$TETRAD_VAR/uploads/` until it is imported.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from app.base import settings
from app.importing.errors import ImportFailed
from app.importing.readers import read_sheet
from app.importing.run import KINDS, run_import
from app.staff import jobs
from app.staff.access import requires

bp = Blueprint("imports", __name__, url_prefix="/import")
SUFFIXES = (".csv", ".xlsx", ".xlsm", ".txt")
UPLOAD_NAME = re.compile(r"^[a-z0-9]{16}\.(csv|xlsx|xlsm|txt)$")


def uploads() -> Path:
    """The folder of uploaded files, owner-only."""
    folder = Path(current_app.config["VAR_DIR"]) / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _page(errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    return render_template("staff/import.html", kinds=KINDS, errors=errors), status


@bp.route("/")
@requires("imports.run")
def index() -> tuple[str, int]:
    """The upload form: a file and, when its headers do not tell, its kind."""
    return _page({})


@bp.route("/", methods=["POST"])
@requires("imports.run")
def upload() -> Response | tuple[str, int]:
    """Keep the uploaded file and start its check (a dry run); nothing is written to the school's data."""
    sent = request.files.get("file")
    kind = request.form.get("kind") or None
    errors: dict[str, str] = {}
    name = Path(sent.filename or "").name if sent else ""
    suffix = Path(name).suffix.lower()
    if not sent or not name:
        errors["file"] = _("Choose a CSV or XLSX file.")
    elif suffix not in SUFFIXES:
        errors["file"] = _("The file must be CSV or XLSX (an .xls file: save it as .xlsx in Excel first).")
    if kind is not None and kind not in KINDS:
        errors["kind"] = _("Choose the kind of the file.")
    if errors or sent is None:
        return _page(errors, 400)
    stored = f"{secrets.token_hex(8)}{suffix}"
    target = uploads() / stored
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        sent.save(out)
    job = jobs.start("import", {"stored": stored, "name": name[:100], "kind": kind, "dry_run": True})
    return redirect(url_for("staff.jobs.show", job_id=job.id))


@bp.route("/run", methods=["POST"])
@requires("imports.run")
def run() -> Response:
    """Import a file that passed its check (the same file, checked again inside the import)."""
    stored = request.form.get("stored", "")
    kind = request.form.get("kind") or None
    if not UPLOAD_NAME.match(stored) or not (uploads() / stored).is_file() or (kind and kind not in KINDS):
        flash(_("The checked file is no longer here: upload it again."), "error")
        return redirect(url_for("staff.imports.index"))
    job = jobs.start("import", {"stored": stored, "name": request.form.get("name", "")[:100], "kind": kind,
                                "dry_run": False})
    return redirect(url_for("staff.jobs.show", job_id=job.id))


def import_job(params: dict[str, Any], _by: str, progress: jobs.Progress) -> dict[str, Any]:
    """Check or import one uploaded file; the result lists every problem or the tallies."""
    path = uploads() / str(params["stored"])
    name = str(params.get("name") or path.name)
    dry_run = bool(params.get("dry_run"))
    result: dict[str, Any] = {"file": name, "stored": params["stored"], "kind": params.get("kind") or "",
                              "dry_run": dry_run}
    try:
        sheet = read_sheet(path)
        sheet.file = name
        # The job page shows the rows to go while the file's one transaction is open. Rows are not counted
        # as they go: writing the count commits the session, which would commit half the file.
        progress.total(max(len(sheet.rows) - 1, 0))
        done = run_import(sheet, settings(), params.get("kind"), dry_run=dry_run)
    except ImportFailed as failed:
        failed.file = name
        result["problems"] = failed.lines()
        return result
    result["summary"] = [f"{label}: создано {t.created}, обновлено {t.updated}, без изменений {t.unchanged}"
                         for label, t in done.tallies.items()]
    result["warnings"] = done.warnings
    result["layout"] = done.layout.title
    if not dry_run:
        path.unlink(missing_ok=True)
    return result


jobs.register("import", import_job)
