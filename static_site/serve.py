"""Serving the site folder from the hub: WhiteNoise, re-checked on every request, with private headers.

WhiteNoise normally scans its folder once at start-up; the site changes all the time, so it runs with
`autorefresh` (a stat per request, cheap next to a 2G round trip) and only for the site's own paths, so
that the sync API never touches the disk. Two more guards:
- the published path d/<token> is a symlink that a build swaps; each request resolves it once (realpath),
  so the file that was measured is the file that is sent, and a page removed a moment ago answers 404;
- dot-folders (.pages, .staging, .state.json) are never served, nor any directory listing;
- a path the file system cannot even look up (a NUL byte, a character the disk's encoding lacks) is no file:
  the hub answers it, with a 404.
Pages are revalidated on every visit (`Cache-Control: private, no-cache`: no shared cache keeps them) with an
ETag unique to each build, so a family never sees a stale page; the redirect from /d/<token> to /d/<token>/
is `no-store`, and the stylesheet's name carries its hash and is cached for good.
"""

from __future__ import annotations

import os
import re
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise

from app.base.permissions import private_dir
from app.base.settings import Settings

CSS = re.compile(r"^/site-[0-9a-f]{10}\.css$")
SHARED = ("/robots.txt", "/404.html")
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
               "frame-ancestors 'none'")


def private_headers(headers: Any, path: str, url: str) -> None:
    """Headers that keep tokens and pages private (WhiteNoise's add_headers_function)."""
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Robots-Tag"] = "noindex, nofollow"
    headers["X-Content-Type-Options"] = "nosniff"
    if url.startswith("/d/"):
        headers["Cache-Control"] = "private, no-cache"
        headers["Content-Security-Policy"] = PAGE_POLICY
        headers["X-Frame-Options"] = "DENY"
        version = os.path.basename(os.path.dirname(path)).rpartition(".")[2]
        headers["ETag"] = f'"{version}-{os.path.basename(path)}"'


class SiteFiles(WhiteNoise):  # type: ignore[misc]
    """WhiteNoise limited to the site's paths, resolving each page set once per request."""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Serve a site file, or hand the request to the hub (which answers 404 for a page just removed)."""
        try:
            return super().__call__(environ, start_response)
        except OSError:  # removed between the lookup and the open
            return self.application(environ, start_response)

    def find_file(self, url: str) -> Any:
        """Only d/…, the stylesheet, robots.txt and 404.html; never a dot-path."""
        if not (url.startswith("/d/") or url in SHARED or CSS.match(url)) or "/." in url or "\x00" in url:
            return None
        try:
            return super().find_file(url)
        except (ValueError, UnicodeError):  # not a path the file system can look up
            return None

    def candidate_paths_for_url(self, url: str) -> Any:
        """The real path behind the symlink, so that stat and open see the same page set."""
        for path in super().candidate_paths_for_url(url):
            real = os.path.realpath(path)
            if url.endswith("/") and not real.endswith(os.sep):
                real += os.sep
            yield real

    def redirect(self, from_url: str, to_url: str) -> Any:
        """WhiteNoise's relative redirect (/d/<token> → /d/<token>/), with the private headers too."""
        redirect = super().redirect(from_url, to_url)
        headers = [(k, v) for k, v in redirect.response.headers if k.lower() != "cache-control"]
        redirect.response.headers[:] = headers + [("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer"),
                                                  ("X-Robots-Tag", "noindex, nofollow")]
        return redirect

    def find_file_at_path(self, path: str, url: str) -> Any:
        """index.html is served as itself too (pages link to it so that they work from a USB stick)."""
        if url.endswith("/index.html"):
            return self.get_static_file(path, url)
        return super().find_file_at_path(path, url)


def serve_site(app: Flask) -> None:
    """Put the site folder in front of the hub's WSGI app (used by wsgi.py, so `flask run` serves it too)."""
    conf: Settings = app.extensions["tetrad.settings"]
    root = private_dir(conf.site_output_dir)
    app.wsgi_app = SiteFiles(  # type: ignore[method-assign]
        app.wsgi_app, root=str(root), autorefresh=True, max_age=300, index_file=True, allow_all_origins=False,
        add_headers_function=private_headers, immutable_file_test=lambda path, url: bool(CSS.match(url)),
    )

