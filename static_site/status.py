"""The site's own record of its builds, in the output folder's .state.json (never served).

    full_on  the school day of the last full rebuild (a new day rebuilds everything: weeks move on)
    css      the stylesheet that rebuild linked (a new stylesheet rebuilds everything too)
    last_at  when pages were last published, full or incremental (shown to staff)
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from app.base import settings
from app.base.settings import Settings
from static_site.publish import write_atomic
from static_site.render import css_name
from sync import clock

STATE = ".state.json"


def read_state(conf: Settings) -> dict[str, Any]:
    """The recorded state, empty when there is none yet."""
    try:
        data: dict[str, Any] = json.loads((conf.site_output_dir / STATE).read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        return {}


def record_build(conf: Settings, full: bool) -> None:
    """Note a finished build (and, for a full one, its day and stylesheet)."""
    state = read_state(conf)
    state["last_at"] = clock.now().isoformat(timespec="seconds")
    if full:
        state.update(full_on=conf.today().isoformat(), css=css_name())
    conf.site_output_dir.mkdir(parents=True, exist_ok=True)
    write_atomic(conf.site_output_dir / STATE, json.dumps(state).encode())


def full_rebuild_due(conf: Settings) -> bool:
    """Whether the day or the stylesheet moved on since the last full rebuild."""
    state = read_state(conf)
    return state.get("full_on") != conf.today().isoformat() or state.get("css") != css_name()


def last_build() -> dt.datetime | None:
    """When pages were last published (for the staff dashboard), or None."""
    value = read_state(settings()).get("last_at")
    return dt.datetime.fromisoformat(value) if value else None
