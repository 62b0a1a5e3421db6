"""Files instead of a link: the outbox written as a batch file for a USB stick, a machine started from the hub's
setup file, and the hub's answer file read back (any order, twice, or stale: nothing lost, nothing twice).

`SyncClient.export`, `start_from_file` and `read_answer` call these; the HTTP path is in `sync/client.py`.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync import notices, retention
from sync.answers import SyncAnswer, check_status, check_sync
from sync.errors import BadAnswer, SyncError
from sync.protocol import VERSION
from sync.report import SyncReport

if TYPE_CHECKING:
    from sync.client import SyncClient


def export(client: SyncClient, path: str | os.PathLike[str]) -> int:
    """Write the outbox as a batch file (`.json`, or gzipped `.json.gz`) for the USB path; return the op count."""
    client._has_device()  # a machine set up from a file has no hub address, and needs none here
    ops = client.store.pending()
    batch = {"protocol": VERSION, "device": client.device, "ops": ops, **retention.batch_fields(client.store),
             "pull": {"cursor": client.store.get("cursor"), "limit": client.max_page}}  # the answer file's changes
    data = json.dumps(batch, ensure_ascii=False, indent=1).encode()
    target = Path(path)
    if target.name.endswith(".gz"):
        data = gzip.compress(data)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
    return len(ops)


def start_from_file(client: SyncClient, path: str | os.PathLike[str]) -> str:
    """Start this machine from a hub's setup file (token, hub address, status, first pull); no HTTP at all."""
    setup = read_json_file(path)
    if not isinstance(setup, dict) or setup.get("kind") != "tetrad-setup" or not isinstance(setup.get("token"),
                                                                                         str):
        raise SyncError(f"Файл {Path(path).name} не похож на файл настройки устройства «Тетрадь».")
    status = check_status(setup.get("status"))
    answer = check_sync({**setup.get("pull", {}), "protocol": VERSION, "hub_time": status["hub_time"],
                         "acked_seq": status["acked_seq"], "results": []}, [], True)
    with client.store.transaction():
        old_device = client.store.get("device")
        if old_device is not None and old_device != status["device"]:
            if client.store.backlog():
                raise SyncError("В очереди есть неотправленные операции другого устройства: сначала выполните "
                                "«tetrad-sync export» и передайте файл на сервер.")
            client.store.forget_device()
        if setup.get("hub"):
            client.store.put("hub", str(setup["hub"]).rstrip("/"))
        client.store.put("token", setup["token"])
        client._keep_status(status)
        take_file(client, answer)
    return str(status["device"])


def read_answer(client: SyncClient, path: str | os.PathLike[str]) -> SyncReport:
    """Read the hub's answer file to an exported batch: outcomes, acknowledged ops, other machines' rows.

    Answer files may come in any order or twice: ops already settled are skipped, the highest
    `acked_seq` is kept, and pulled records older than the replica's (by `rev`) are ignored.
    """
    client._has_device()
    data = read_json_file(path)
    if not isinstance(data, dict) or data.get("device") not in (None, client.device):
        raise SyncError(f"Файл {Path(path).name} — ответ для другого устройства.")
    raw_results = data.get("results")
    if not isinstance(raw_results, list):
        raise BadAnswer("Ответ сервера не по протоколу: results.")
    sent_ids = [r.get("op") for r in raw_results if isinstance(r, dict)]
    answer = check_sync(data, [{"op": op} for op in sent_ids], True)
    notices.check(data)
    pending = {op["op"]: op for op in client.store.pending()}
    report = SyncReport()
    acked = max(answer.acked_seq, int(client.store.get("file_acked_seq", 0)))
    pairs = [(pending[r.op], r) for r in answer.results if r.op in pending]
    settled = SyncAnswer(answer.hub_time, answer.acked_seq, [r for _, r in pairs], [], None, False)
    client._accept([op for op, _ in pairs], settled, report)
    report.sent = len(pairs)
    with client.store.transaction():
        client.store.put("file_acked_seq", acked)
    report.pulled = take_file(client, answer)
    notices.take(client.store, data, answer.hub_time)  # the teachers' conflicts, when the file is the newest
    report.backlog = client.store.backlog()
    return report


def take_file(client: SyncClient, answer: SyncAnswer) -> int:
    """Apply a file's pulled changes by rev; the cursor only ever moves forward."""
    cursor = client.store.get("cursor")
    newest = answer.cursor if cursor is None or int(answer.cursor or 0) > int(cursor) else cursor
    client._take(answer.changes, newest)
    return len(answer.changes)


def read_json_file(path: str | os.PathLike[str]) -> Any:
    """A `.json` or gzipped `.json.gz` file's JSON; SyncError when it cannot be read."""
    try:
        data = Path(path).read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return json.loads(data.decode("utf-8"))
    except (OSError, EOFError, ValueError) as exc:
        raise SyncError(f"Файл {Path(path).name} не читается: {exc}") from None
