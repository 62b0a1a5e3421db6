"""Rendering with Frozen-Flask: a small private Flask app whose one route renders a prepared page context.

The app never reads the database: the builder hands it the contexts of one batch of links, Frozen-Flask
requests exactly those URLs (no static files, no no-argument rules, no url_for crawling) and writes them
into a fresh staging folder, never into the published site: FREEZER_REMOVE_EXTRA_FILES is off and the
staging folder is new for every batch, so a freeze can neither delete nor skip another family's pages.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app
from flask.testing import FlaskClient
from flask_frozen import Freezer

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS_SOURCE = Path(__file__).resolve().parent / "site.css"
STORE = "tetrad.site.pages"
Page = tuple[str, dict[str, Any]]  # template name, context

_lock = threading.RLock()  # freeze() holds it while the URL generator asks for the app
_state: dict[str, Any] = {}


def css_name() -> str:
    """The stylesheet's published name, with its content hash so that browsers may cache it for good."""
    digest = hashlib.sha256(CSS_SOURCE.read_bytes()).hexdigest()[:10]
    return f"site-{digest}.css"


class _Client(FlaskClient):
    """Frozen-Flask's client for our pages: no cookie jar to fill and read on every page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["use_cookies"] = False
        super().__init__(*args, **kwargs)


def site_app() -> tuple[Flask, Freezer]:
    """The rendering app and its freezer, made once per process."""
    with _lock:
        if "app" not in _state:
            app = Flask(__name__, static_folder=None, template_folder=str(TEMPLATES), root_path=str(TEMPLATES))
            app.jinja_env.trim_blocks = True
            app.jinja_env.lstrip_blocks = True
            app.config.update(FREEZER_REMOVE_EXTRA_FILES=False, FREEZER_SKIP_EXISTING=False,
                              FREEZER_IGNORE_404_NOT_FOUND=False, FREEZER_REDIRECT_POLICY="error",
                              FREEZER_IGNORE_MIMETYPE_WARNINGS=True)  # every page is text/html
            app.test_client_class = _Client
            app.add_url_rule("/<token>/<name>.html", "page", _page)
            freezer = Freezer(app, with_static_files=False, with_no_argument_rules=False, log_url_for=False)
            freezer.register_generator(_urls)
            app.extensions[STORE] = {}
            _state.update(app=app, freezer=freezer)
    return _state["app"], _state["freezer"]


def _page(token: str, name: str) -> str:
    """Render one prepared page; anything not prepared for this batch is a 404."""
    pages: dict[str, dict[str, Page]] = current_app.extensions[STORE]
    prepared = pages.get(token, {}).get(name)
    if prepared is None:
        abort(404)
    template, context = prepared
    # straight from the environment: a page needs no request, session or g in its context
    return current_app.jinja_env.get_template(template).render(context)


def _urls() -> Any:
    """The URLs of the batch being frozen: the first by endpoint (so Frozen-Flask knows "page" was
    frozen), the rest as plain paths, sparing a url_for per page."""
    app, _ = site_app()
    first = True
    for token, pages in app.extensions[STORE].items():
        for name in pages:
            yield ("page", {"token": token, "name": name}) if first else f"/{token}/{name}.html"
            first = False


def freeze(pages: dict[str, dict[str, Page]], staging: Path, compress: int = 6) -> int:
    """Write every page of the batch to staging/<token>/<name>.html plus a .gz twin; return pages written."""
    app, freezer = site_app()
    with _lock:
        app.config["FREEZER_DESTINATION"] = str(staging)
        app.extensions[STORE] = pages
        try:
            written = 0
            for page in freezer.freeze_yield():
                path = staging / page.path
                path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes(), compress, mtime=0))
                written += 1
        finally:
            app.extensions[STORE] = {}
    return written


def render_with(template: str, context: dict[str, Any]) -> str:
    """Render a site template outside a freeze."""
    app, _ = site_app()
    return app.jinja_env.get_template(template).render(context)
