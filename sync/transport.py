"""How the classroom client reaches the hub: a swappable transport, and the default one over urllib.

A transport is anything with `request(method, url, headers, body) -> (status, headers, body)`; it only
moves bytes. It raises `TransportError` when nothing usable came back, and returns every HTTP answer,
4xx and 5xx included. `exchange` judges them: it gzips the request, sends it through a transport and
turns the answer into JSON or the matching `SyncError`. Tests pass a transport that calls the hub in-process.

    >>> status, headers, body = UrllibTransport(timeout=30).request("GET", "http://hub/healthz", {}, None)
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from sync.answers import decode
from sync.errors import BadAnswer, BatchRejected, Busy, TransportError

Answer = tuple[int, dict[str, str], bytes]
USER_AGENT = "tetrad-sync/1"


class Transport(Protocol):
    """Sends one HTTP request and returns the status, the headers (names in lower case) and the raw body."""

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer: ...


def lower_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names in lower case, whatever the source spelled them."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {str(name).lower(): str(value) for name, value in items}


class UrllibTransport:
    """The default transport: the standard library's urllib, with a timeout on connect and on every read."""

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def request(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> Answer:
        """Send the request; any network failure becomes TransportError."""
        req = urllib.request.Request(url, data=body, headers=dict(headers), method=method)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=self.timeout) as response:
                return response.status, lower_headers(response.headers.items()), response.read()
        except urllib.error.HTTPError as exc:
            try:
                data = exc.read()
            except (OSError, http.client.HTTPException):
                data = b""
            return exc.code, lower_headers(exc.headers.items() if exc.headers else []), data
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise TransportError(f"Нет связи с сервером: {reason}") from exc


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to judge (often a captive portal), never something to follow with the token."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def exchange(transport: Transport, method: str, url: str, token: str, payload: dict[str, Any] | None,
             meter: Callable[[int, int], None] | None = None) -> Any:
    """One request: gzip the body, judge the HTTP status, return the decoded JSON of a 200 answer.

    503 raises Busy (with Retry-After), other 5xx TransportError, a protocol 4xx BatchRejected, and
    anything else (a redirect, an HTML page, a cut body) BadAnswer. `meter` hears the body sizes sent and
    received (on the wire, gzipped) of every exchange that got an answer.
    """
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", "Accept-Encoding": "gzip",
               "User-Agent": USER_AGENT}
    data = None
    if payload is not None:
        data = gzip.compress(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(), 6)
        headers.update({"Content-Type": "application/json", "Content-Encoding": "gzip"})
    status, answer_headers, body = transport.request(method, url, headers, data)
    if meter is not None:
        meter(len(data or b""), len(body))
    answer_headers = lower_headers(answer_headers)
    if status == 200:
        return decode(answer_headers, body)
    if status == 503:
        raise Busy(retry_after(answer_headers.get("retry-after")))
    if status >= 500:
        raise TransportError(f"Сервер ответил ошибкой {status}.")
    if 400 <= status < 500:
        error = _error_body(answer_headers, body)
        if error is not None:
            raise BatchRejected(error[0], error[1], status)
        if status == 413:
            raise BatchRejected("too_large", None, 413)
    raise BadAnswer(f"Сервер ответил {status} не по протоколу: возможно, сеть требует входа через браузер.")


def retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (seconds or an HTTP date); 5 when missing or unreadable."""
    if not value:
        return 5.0
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - dt.datetime.now(dt.UTC)).total_seconds())
    except (TypeError, ValueError):
        return 5.0


def _error_body(headers: dict[str, str], body: bytes) -> tuple[str, str] | None:
    """The protocol's `{"error": {"code", "message"}}`, or None when the body is something else."""
    try:
        answer = decode(headers, body)
    except BadAnswer:
        return None
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str):
        return error["code"], error["message"]
    return None
