"""The one answer to "which file is the SQLite database?", read from the database URL.

`sqlite:///var/tetrad.db` (relative to the working directory), `sqlite:////srv/tetrad/tetrad.db`, and SQLite's URI
form `sqlite:///file:/srv/tetrad/tetrad.db?mode=rwc&uri=true` name a file; `sqlite://`, `sqlite:///:memory:` and
`file:…?mode=memory` name none. The app factory makes the file owner-only before SQLite creates it, the ingest
takes its turns through a lock file beside it, backup copies it and restore places it, all by this answer.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.engine import URL, make_url


def sqlite_file(url: str | URL) -> Path | None:
    """The database file a SQLite URL names; None for another engine or a database in memory."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if str(url.query.get("uri", "")).lower() in ("true", "1") and url.database.startswith("file:"):
        # SQLAlchemy hands the URI's own parameters (mode, cache) over in url.query, not in the database string.
        parts = urlsplit(url.database)
        modes = set(parse_qs(parts.query).get("mode", [])) | {str(url.query.get("mode", ""))}
        if "memory" in modes or parts.path in ("", ":memory:"):
            return None
        return Path(parts.path)
    return Path(url.database)
