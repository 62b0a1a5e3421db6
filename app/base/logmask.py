"""Family tokens never reach a log: request lines of `/d/<token>/…` are written as `/d/…/…`.

Two loggers print request lines: Werkzeug's (the `flask run` of `make run`) and gunicorn's access log. The
first gets a logging filter (`mask_request_logs`, installed by the app factory), the second the logger class
below, named in gunicorn.conf.py. nginx needs its own log format: see docs/deployment.md.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# A family link's token follows /d/ (static_site.links.TOKEN_PATTERN: 32 base32 letters); anything after /d/ up
# to the next / or ? or space is masked, so a mistyped or foreign token is not kept either. `token=` in a query
# (the "Ознакомлен(а)" form posts it in the body, but a hand-made GET might carry it) is masked too.
_PATH_TOKEN = re.compile(r"(/d/)[^/?#\s\"]+", re.IGNORECASE)
_QUERY_TOKEN = re.compile(r"((?:^|[?&\s;])token=)[^&\s\";]*", re.IGNORECASE)
MASK = "…"


def mask_tokens(text: str) -> str:
    """`text` with every family token in a path or a `token=` parameter replaced by `…`."""
    return _QUERY_TOKEN.sub(rf"\g<1>{MASK}", _PATH_TOKEN.sub(rf"\g<1>{MASK}", text))


class TokenFilter(logging.Filter):
    """Rewrites a record's message with the tokens masked (it never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the formatted message in place."""
        message = record.getMessage()
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_request_logs(*loggers: logging.Logger) -> None:
    """Install the filter on Werkzeug's request logger and the given ones (the app's: "Exception on /d/…")."""
    for logger in (logging.getLogger("werkzeug"), *loggers):
        if not any(isinstance(f, TokenFilter) for f in logger.filters):
            logger.addFilter(TokenFilter())


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover - gunicorn is in requirements.txt; only the CLI may run without it
    _GunicornLogger = object


class MaskingGunicornLogger(_GunicornLogger):  # type: ignore[misc]
    """gunicorn's logger with the request line, path and query of the access log masked."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """The access log's fields (`%(r)s`, `%(U)s`, `%(q)s`, `%({raw_uri}e)s`…) without tokens."""
        found: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key, value in list(found.items()):
            if isinstance(value, str) and ("/d/" in value or "token=" in value.lower()):
                found[key] = mask_tokens(value)
        return found
