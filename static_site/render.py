"""Rendering with Frozen-Flask: a small private Flask app whose one route renders a prepared page context.

The app never reads the database: the builder hands it the contexts of one batch of links, Frozen-Flask
generates exactly those URLs (no static files, no no-argument rules, no url_for crawling) and writes them
into a fresh staging folder, never into the published site: FREEZER_REMOVE_EXTRA_FILES is off and the
staging folder is new for every batch, so a freeze can neither delete nor skip another family's pages.

One rendering path: every page is the `page` view's answer, and nothing else renders the site's templates.
What a page costs beyond its template is kept out of the loop: the freezer matches each URL against the
app's URL map and calls the view itself instead of sending a test-client request through WSGI (a request
and response object per page cost as much as the template), the URLs are plain paths (one url_for per
batch, so that Frozen-Flask sees the endpoint frozen), and each page is written once with its .gz twin
straight from memory.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from pathlib import Path
from typing import Any

from flask import Flask, abort, current_app
from flask_frozen import Freezer

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS_SOURCE = Path(__file__).resolve().parent / "site.css"
STORE = "tetrad.site.pages"
COMPRESS = 6  # gzip level of the .gz twins
Page = tuple[str, dict[str, Any]]  # template name, context

_lock = threading.RLock()  # freeze() holds it while the URL generator asks for the app
_state: dict[str, Any] = {}


def css_name() -> str:
    """The stylesheet's published name, with its content hash so that browsers may cache it for good."""
    digest = hashlib.sha256(CSS_SOURCE.read_bytes()).hexdigest()[:10]
    return f"site-{digest}.css"


class PageFreezer(Freezer):  # type: ignore[misc]
    """Frozen-Flask, building each URL by calling its view rather than through a test-client request.

    Overrides Frozen-Flask's `_build_one` (pinned Frozen-Flask 1.0.2): the URL is still resolved by the
    app's URL map and answered by its view, inside the request context Frozen-Flask holds while it walks
    the URL generators; only the WSGI round trip is left out. An unknown URL raises, as a 404 does in
    Frozen-Flask (FREEZER_IGNORE_404_NOT_FOUND is off)."""

    adapter: Any = None  # the URL map bound once per freeze (freeze())
    destination: Path | None = None  # FREEZER_DESTINATION as a path, made once per freeze

    @property
    def root(self) -> Path:
        """Frozen-Flask's destination (it asks twice a page), made once per freeze."""
        return self.destination if self.destination is not None else Freezer.root.fget(self)

    def _build_one(self, url: str, last_modified: Any = None) -> Path:
        path: Path = self.root / self.urlpath_to_filepath(url)
        endpoint, values = self.adapter.match(url, method="GET")
        html = self.app.view_functions[endpoint](**values).encode()
        folders: set[Path] = self.app.extensions[STORE + ".folders"]
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        path.write_bytes(html)
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(html, COMPRESS, mtime=0))
        return path


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
            app.add_url_rule("/<token>/<name>.html", "page", _page)
            freezer = PageFreezer(app, with_static_files=False, with_no_argument_rules=False, log_url_for=False)
            freezer.register_generator(_urls)
            app.extensions[STORE] = {}
            app.extensions[STORE + ".folders"] = set()
            _state.update(app=app, freezer=freezer)
    return _state["app"], _state["freezer"]


def compile_templates() -> None:
    """Compile every template of the site now (Jinja keeps them), e.g. before forking the builders."""
    app, _ = site_app()
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)


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


def freeze(pages: dict[str, dict[str, Page]], staging: Path) -> int:
    """Write every page of the batch to staging/<token>/<name>.html plus a .gz twin; return pages written."""
    app, freezer = site_app()
    with _lock:
        app.config["FREEZER_DESTINATION"] = str(staging)
        app.extensions[STORE] = pages
        app.extensions[STORE + ".folders"] = set()
        freezer.destination = Path(app.root_path) / str(staging)  # what Freezer.root makes of the setting
        freezer.adapter = app.url_map.bind("localhost")
        try:
            return sum(1 for _ in freezer.freeze_yield())
        finally:
            app.extensions[STORE] = {}
            app.extensions[STORE + ".folders"] = set()
            freezer.destination = freezer.adapter = None
