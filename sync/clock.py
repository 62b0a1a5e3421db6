"""The one clock the hub, the family site, paper and classroom machines read for "now" and "today".

By default it is the machine's clock. `TETRAD_NOW` (ISO 8601 with an offset, e.g. `2026-11-18T12:00:00+03:00`)
sets it to that moment when the process starts; from there it runs at the real rate, so durations, throttles
and timeouts behave as they would on that day. `TETRAD_NOW_SET_AT` (unix seconds) says when that moment was
set: a child process started later then shares its parent's clock instead of starting the moment again.
Tests and the demo call `set_now()`, which also exports both variables to the processes they start.

Only the real time of files (modification times) and of HTTP dates from other machines is read directly.

    >>> set_now(dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC))
    >>> now().date()
    datetime.date(2026, 11, 18)
    >>> set_now(None)
"""

from __future__ import annotations

import datetime as dt
import os
import time

NOW_VARIABLE = "TETRAD_NOW"
SET_AT_VARIABLE = "TETRAD_NOW_SET_AT"

_offset: float | None = None  # seconds added to the machine's clock; None until first read


def _offset_from_environment() -> float:
    value = os.environ.get(NOW_VARIABLE, "").strip()
    if not value:
        return 0.0
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"{NOW_VARIABLE}: не дата и время ISO 8601: {value!r}") from None
    if moment.tzinfo is None:
        raise SystemExit(f"{NOW_VARIABLE}: укажите часовой пояс, например {value}+03:00")
    set_at = float(os.environ.get(SET_AT_VARIABLE) or time.time())
    return moment.timestamp() - set_at


def _seconds() -> float:
    global _offset
    if _offset is None:
        _offset = _offset_from_environment()
    return time.time() + _offset


def now() -> dt.datetime:
    """The current moment, timezone-aware in UTC."""
    return dt.datetime.fromtimestamp(_seconds(), dt.UTC)


def wall_ms() -> int:
    """The current moment in unix milliseconds (what an HLC starts from)."""
    return int(_seconds() * 1000)


def today(timezone: dt.tzinfo) -> dt.date:
    """Today's date in `timezone` (the school's, not the server's)."""
    return now().astimezone(timezone).date()


def set_now(moment: dt.datetime | None) -> None:
    """Run the clock from `moment` on (None: the machine's clock again), here and in processes started later."""
    global _offset
    if moment is None:
        _offset = 0.0
        os.environ.pop(NOW_VARIABLE, None)
        os.environ.pop(SET_AT_VARIABLE, None)
        return
    if moment.tzinfo is None:
        raise ValueError("set_now needs a timezone-aware moment")
    real = time.time()
    _offset = moment.timestamp() - real
    os.environ[NOW_VARIABLE] = moment.isoformat()
    os.environ[SET_AT_VARIABLE] = repr(real)
