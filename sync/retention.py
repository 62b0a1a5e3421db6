"""What a classroom machine keeps after the hub acknowledged it, and what it does when the hub was restored.

The hub names one life of its database with an `epoch` (in `GET /api/v1/status` and every answer); a
restore from a backup starts a new one, and the restored hub has forgotten what it acknowledged after the
copy was made. So the machine keeps acknowledged ops in the `retained` table for `retain_days` (the hub's
`sync.retain_days`, default 60), and

ALGORITHM of `after_status()` (run in the transaction that stores a status answer):
1. First epoch ever seen: remember it; nothing to resend.
2. Same epoch: forget retained ops older than the window; drop a `rebase` the hub has honoured.
3. New epoch (the hub was restored):
   a. every retained op with a seq above the hub's `acked_seq` goes back into the outbox (seq order is kept,
      so the hub applies them again exactly once: op ids it still has answer `duplicate`);
   b. if the lowest seq the machine can still send is above `acked_seq + 1` (ops older than the window are
      gone), it stores `rebase: {epoch, from_seq}`, sent with every batch until the hub's `acked_seq`
      reaches `from_seq - 1`, so the hub skips the hole instead of queueing behind it forever;
   c. the pull starts again from the beginning, and every replica record's rev is reset to 0 so that the
      hub's (restored, lower) revs replace them;
   d. the new epoch is remembered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sync import clock
from sync.outbox import Store

DEFAULT_RETAIN_DAYS = 60

def keep(store: Store, seqs: list[int]) -> None:
    """Copy acknowledged ops from the outbox into `retained` (call before they leave the outbox)."""
    now = clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")
    store.db.executemany(
        "INSERT OR REPLACE INTO retained (seq, op, entity, record_id, body, acked_at) "
        "SELECT seq, op, entity, record_id, body, ? FROM outbox WHERE seq = ?", [(now, s) for s in seqs])


def retained_count(store: Store) -> int:
    """How many acknowledged ops the machine still keeps."""
    return int(store.db.execute("SELECT count(*) FROM retained").fetchone()[0])


def after_status(store: Store, status: dict[str, Any]) -> None:
    """Act on a status answer's epoch (see the ALGORITHM above); call inside a transaction."""
    epoch = status.get("epoch")
    if not isinstance(epoch, str):
        return  # a hub without epochs: keep nothing special
    seen = store.get("epoch")
    acked = int(status["acked_seq"])
    if seen is None:
        store.put("epoch", epoch)
    elif seen == epoch:
        rebase = store.get("rebase")
        if isinstance(rebase, dict) and (rebase.get("epoch") != epoch or acked >= int(rebase["from_seq"]) - 1):
            store.db.execute("DELETE FROM meta WHERE key = 'rebase'")
    else:
        _resend_after_restore(store, epoch, acked)
    _prune(store, int(status.get("retain_days", DEFAULT_RETAIN_DAYS)))


def batch_fields(store: Store) -> dict[str, Any]:
    """Extra top-level fields for the next batch: `rebase` while one is pending."""
    rebase = store.get("rebase")
    return {"rebase": rebase} if isinstance(rebase, dict) else {}


def _resend_after_restore(store: Store, epoch: str, acked: int) -> None:
    db = store.db
    db.execute("INSERT OR IGNORE INTO outbox (seq, op, entity, record_id, body) "
               "SELECT seq, op, entity, record_id, body FROM retained WHERE seq > ?", (acked,))
    db.execute("DELETE FROM retained WHERE seq > ?", (acked,))
    lowest = db.execute("SELECT min(seq) FROM outbox").fetchone()[0]
    from_seq = int(lowest) if lowest is not None else int(store.get("next_seq", 1))
    if from_seq > acked + 1:
        store.put("rebase", {"epoch": epoch, "from_seq": from_seq})
    else:
        db.execute("DELETE FROM meta WHERE key = 'rebase'")
    store.put("cursor", None)
    db.execute("UPDATE replica SET rev = 0")
    store.put("epoch", epoch)


def _prune(store: Store, days: int) -> None:
    cutoff = (clock.now().astimezone(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")
    store.db.execute("DELETE FROM retained WHERE acked_at < ?", (cutoff,))
