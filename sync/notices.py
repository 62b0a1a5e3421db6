"""The conflicts that concern a machine's teachers, as the hub sends them on the last page of a pull.

The answer's `conflicts` (docs/protocol.md, "Conflicts in the answer") is the hub's whole current list for
this device: recorded conflicts its writes lost, and its held ops the deputy declined. The machine keeps the
newest list it saw (by the answer's `hub_time`, so an old answer file read late does not bring back an old
list), and a declined op's held outcome becomes `declined`. An answer without the key (an older hub) changes
nothing.
"""

from __future__ import annotations

from typing import Any

from sync.errors import BadAnswer
from sync.outbox import Store

KEY = "conflicts"
KINDS = ("conflict", "declined")


def check(answer: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The answer's conflicts, checked; None when it has none; BadAnswer when they are not by the protocol."""
    items = answer.get(KEY)
    if items is None:
        return None
    if not isinstance(items, list) or not all(
            isinstance(n, dict) and n.get("kind") in KINDS and isinstance(n.get("op"), str)
            and isinstance(n.get("entity"), str) and isinstance(n.get("id"), str)
            and isinstance(n.get("author"), str) and isinstance(n.get("message"), str) for n in items):
        raise BadAnswer("Ответ сервера не по протоколу: conflicts.")
    return items


def take(store: Store, answer: dict[str, Any], hub_time: str) -> None:
    """Keep the answer's conflicts when they are newer than the ones kept; mark declined held ops."""
    items = check(answer)
    if items is None:
        return
    with store.transaction():
        kept = store.get(KEY) or {}
        if str(kept.get("hub_time") or "") > hub_time:
            return
        store.put(KEY, {"hub_time": hub_time, "items": items})
        for item in items:
            if item["kind"] == "declined":
                store.db.execute("UPDATE outcome SET status = 'declined', code = 'declined', message = ? "
                                 "WHERE op = ? AND status = 'held'", (item["message"], item["op"]))


def kept(store: Store, author: str | None = None) -> list[dict[str, Any]]:
    """The conflicts last received (only those of `author` when given), newest first."""
    items = list((store.get(KEY) or {}).get("items") or [])
    return [n for n in items if author is None or n.get("author") == author]
