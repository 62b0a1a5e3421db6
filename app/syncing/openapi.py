"""The sync API's OpenAPI description (docs/openapi.yaml), served as JSON at `GET /api/v1/openapi.json`."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response

SOURCE = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"

bp = Blueprint("openapi", __name__)


@functools.cache
def document() -> dict[str, Any]:
    """The OpenAPI document, read once from docs/openapi.yaml."""
    with SOURCE.open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


@bp.get("/api/v1/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of the sync API (no token needed: it holds no school data)."""
    body = json.dumps(document(), ensure_ascii=False)
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
