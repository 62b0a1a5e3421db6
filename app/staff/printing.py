"""Printing: a placeholder until the paper documents exist (weekly slips, quarterly journal, summary sheet)."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.staff.access import requires

bp = Blueprint("printing", __name__, url_prefix="/printing")


@bp.route("/")
@requires("printing.view")
def index() -> str:
    """What this page will offer once the paper documents are built."""
    return render_template("staff/printing.html")
