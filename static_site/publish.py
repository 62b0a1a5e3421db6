"""The output folder: each link's page set appears, changes and disappears atomically.

LAYOUT (under settings().site_output_dir):
    d/<token>                  a symlink to ../.pages/<token>.<version>: the only published path of a link
    .pages/<token>.<version>/  one immutable page set (index.html, 2026-W46.html, child-1.html, each + .gz)
    .staging/<batch>/          where Frozen-Flask writes; moved into .pages/ by rename (same file system)
    site-<hash>.css (old ones kept for cached pages), robots.txt, 404.html, .lock, .state.json

ALGORITHM of a publication:
1. The batch is frozen into .staging/<batch>/<token>/ (never into a published folder).
2. The folder is renamed to .pages/<token>.<version> (atomic).
3. A new symlink is made beside d/<token> and renamed over it (atomic): a reader resolves either the old
   page set or the new one, never a mix, never a half-written file.
4. The superseded page set is touched and removed by the next garbage collection once older than GRACE
   seconds, so a request that resolved it a moment before the swap still finds its files.
Removing a link's pages unlinks d/<token> (atomic); its page set goes the same way as a superseded one.
Dot-folders are never served (see serve.py); copy the site elsewhere with `cp -rL d site-css robots.txt`.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

from static_site.render import CSS_SOURCE, css_name

LINKS = "d"
PAGES = ".pages"
STAGING = ".staging"
GRACE = 10.0
TOKEN_NAME = re.compile(r"^[a-z2-7]{32}$")
KEPT_YEAR = re.compile(r"^[a-z2-7]{32}-\d{4}-\d{4}$")  # a closed year's copy, static_site/last_year.py
NOT_FOUND = """<!doctype html>
<html lang="ru"><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>Страница не найдена</title>
<body style="font:16px/1.4 sans-serif;margin:1em;max-width:36em">
<h1 style="font-size:1.2em">Страница не найдена</h1>
<p>Ссылка на дневник больше не действует или набрана с ошибкой.
Обратитесь к классному руководителю, чтобы получить новую ссылку.</p>
</body></html>
"""


def write_atomic(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old or the new content, never a part."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def robots_txt(base_url: str) -> str:
    """robots.txt that keeps crawlers away from every link path and the hub's form endpoint."""
    prefix = urlsplit(base_url).path.rstrip("/")
    return f"User-agent: *\nDisallow: {prefix}/{LINKS}/\nDisallow: {prefix}/ack\n"


def prepare(root: Path, base_url: str) -> str:
    """Create the folder layout and the shared files; return the stylesheet's published name."""
    for name in (LINKS, PAGES, STAGING):
        (root / name).mkdir(parents=True, exist_ok=True)
    css = css_name()
    if not (root / css).exists():
        write_atomic(root / css, CSS_SOURCE.read_bytes())
    for name, text in (("robots.txt", robots_txt(base_url)), ("404.html", NOT_FOUND)):
        path = root / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text.encode())
    return css


def staging_folder(root: Path) -> Path:
    """A fresh, empty folder for one batch."""
    folder = root / STAGING / f"{time.time_ns():x}-{secrets.token_hex(3)}"
    folder.mkdir(parents=True)
    return folder


def published_tokens(root: Path) -> set[str]:
    """Tokens that have a published page set on disk."""
    links = root / LINKS
    if not links.is_dir():
        return set()
    return {entry.name for entry in os.scandir(links) if TOKEN_NAME.match(entry.name)}


def is_published(root: Path, token: str) -> bool:
    """Whether d/<token> resolves to a page set."""
    return (root / LINKS / token / "index.html").is_file()


def _retire(root: Path, link: Path) -> None:
    """Mark the page set a link pointed to as superseded now (garbage collection waits GRACE from here).

    Only a link as `publish` makes it (../.pages/<version>) names a page set: read as text, without
    resolving each component of the path (that cost more than the publication's own system calls)."""
    try:
        target = os.readlink(link)
    except OSError:
        return
    prefix, _, version = target.rpartition("/")
    if prefix == f"../{PAGES}" and version not in ("", ".", ".."):
        folder = os.path.join(root, PAGES, version)
        if os.path.isdir(folder) and not os.path.islink(folder):
            os.utime(folder)


def publish(root: Path, token: str, staged: Path) -> None:
    """Make a staged page set the published one of a link, in one atomic step."""
    version = f"{token}.{time.time_ns():x}{secrets.token_hex(2)}"
    os.rename(staged, root / PAGES / version)
    link = root / LINKS / token
    tmp = root / LINKS / f".{version}.tmp"
    os.symlink(f"../{PAGES}/{version}", tmp)
    if link.is_symlink():
        _retire(root, link)
    elif link.is_dir():  # a page set left by hand or an older layout
        shutil.rmtree(link)
    os.replace(tmp, link)


def unpublish(root: Path, token: str) -> bool:
    """Remove a link's page set from the site at once; False when there was none.

    A closed year's read-only copy (d/<token>-<year>/, static_site/last_year.py) goes with it: a revoked link
    reads nothing, this year or last.
    """
    for kept in (root / LINKS).glob(f"{token}-*"):
        if KEPT_YEAR.match(kept.name) and not kept.is_symlink():
            shutil.rmtree(kept, ignore_errors=True)
    link = root / LINKS / token
    if link.is_symlink():
        _retire(root, link)
        link.unlink()
        return True
    if link.is_dir():
        shutil.rmtree(link)
        return True
    return False


def collect_garbage(root: Path, grace: float = GRACE) -> int:
    """Delete page sets no link points to and stale staging folders, once older than `grace` seconds."""
    links = root / LINKS
    live: set[str] = set()
    if links.is_dir():
        for entry in os.scandir(links):
            if entry.name.endswith(".tmp"):  # a publication cut short (builds hold the lock, so not running)
                os.unlink(entry.path)
            elif entry.is_symlink():
                live.add(os.path.basename(os.readlink(entry.path)))
    removed, cutoff = 0, time.time() - grace
    for folder in (root / PAGES, root / STAGING):
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            if entry.name not in live and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
    return removed
