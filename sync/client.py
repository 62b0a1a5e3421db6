"""The classroom client: records changes offline through the hub's own checks, then syncs when it can.

    client = SyncClient("/var/lib/tetrad/client.db")
    client.connect("https://hub.school.ru", token)          # once: learns the device id and vocabulary
    lesson = client.record("lesson", {...}, author=teacher)  # validated like the hub would; RecordRefused if not
    report = client.sync()                                   # push the outbox, pull the hub's changes
    print(report.summary())

ALGORITHM of `sync()`:
1. GET /status: the device id, the vocabulary and limits; the HLC moves past `hub_time`.
2. Push: the outbox's lowest seqs in batches sized to the link (`sync.pacing`: what fits a few seconds of
   what the link has carried lately, halved after a cut, a timeout or a busy hub, grown slowly after
   successes, within the hub's limit; learned sizes kept between runs); retries with backoff and jitter on
   network failures, 5xx and malformed answers; a smaller limit after 413.
3. Each well-formed answer: ops with seq <= acked_seq and a final outcome leave the outbox in one
   transaction; applied ones are merged into the replica at the HLC (and rev) the hub applied; rejected
   and held ones are kept for the teacher.
4. Pull from the stored cursor until `more` is false, in pages sized the same way; each page replaces the
   replica's records and moves the cursor in one transaction. The hub does not send back records this
   machine's own acknowledged writes made what they are (no echo): step 3 already put them in the replica.
A failure at any step leaves the outbox as it was, and the next run resumes from there.
"""

from __future__ import annotations

import os
import random as random_module
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sync import clock, files, hlc, notices, retention
from sync.answers import Change, SyncAnswer, check_status, check_sync
from sync.check import check_op
from sync.errors import BadAnswer, BatchRejected, Busy, NotConnected, RecordRefused, SyncError, TransportError
from sync.ids import attendance_id, lesson_id, op_id, op_prefix, period_grade_id
from sync.merge import Record
from sync.outbox import Outcome, Store
from sync.pacing import FIRST_BATCH, FIRST_PAGE, TARGET_SECONDS, Link, Pace
from sync.protocol import JOURNAL, VERSION, stored_values
from sync.replica import Replica, calendar_from, merge_ops, shared_reference
from sync.report import SyncReport, describe
from sync.rules import ReferenceSnapshot
from sync.schema import Vocabulary, parse_op
from sync.transport import Transport, UrllibTransport, exchange

T = TypeVar("T")
PULL_LIMIT = 1000  # the largest pull page this client asks for (the hub may allow more)


@dataclass(frozen=True)
class Recorded:
    """An op written to the outbox: the record's id, the op id and seq, and `held` when it will need approval."""

    id: str
    op: str
    seq: int
    held: str | None = None


class SyncClient:
    """A classroom machine's outbox, replica and sync with the hub, in one SQLite file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        transport: Transport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = random_module.random,
        now_ms: Callable[[], int] = hlc.wall_ms,
        first_batch: int = FIRST_BATCH,
        attempts: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        target_seconds: float = TARGET_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = Store(path)
        self.replica = Replica(self.store)
        self._own_transport = transport is None
        self.transport: Transport = transport or UrllibTransport()
        self.sleep, self.random, self.now_ms = sleep, random, now_ms
        self.first_batch, self.attempts = first_batch, attempts
        self.base_delay, self.max_delay = base_delay, max_delay
        self.target_seconds, self.monotonic = target_seconds, monotonic
        self.max_batch = first_batch
        self.max_page = PULL_LIMIT
        self.link = Link.load(self.store.get("link"), first_batch, FIRST_PAGE)
        self._up_since: float | None = None  # when the link was last seen cut (or this run began)
        self._good_since_cut = 0
        self._cut_seen = False

    def close(self) -> None:
        """Close the SQLite file."""
        self.store.close()

    @property
    def device(self) -> str:
        """This machine's device id, as the hub named it."""
        return self.replica.device()

    # connecting

    def connect(self, hub: str, token: str) -> str:
        """Connect this machine to a hub with its device token; return the device id."""
        parts = urlsplit(hub)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SyncError(f"Неверный адрес сервера: {hub!r} (нужен http:// или https://).")
        status = self._fetch_status(hub.rstrip("/"), token)
        with self.store.transaction():
            old_device = self.store.get("device")
            if old_device is not None and old_device != status["device"]:  # another machine's token: start afresh
                if self.store.backlog():
                    raise SyncError("В очереди есть неотправленные операции другого устройства: сначала выполните "
                                    "«tetrad-sync export» и передайте файл на сервер.")
                self.store.forget_device()
            if self.store.get("cursor") is None:  # a fresh replica: its first pull brings this device's own records
                self.store.put("pull_own", True)
            self.store.put("hub", hub.rstrip("/"))
            self.store.put("token", token)
            self._keep_status(status)
        return str(status["device"])

    def refresh_status(self) -> dict[str, Any]:
        """GET /status again: vocabulary, limits and the hub's clock."""
        hub, token = self._credentials()
        status = self._fetch_status(hub, token)
        if status["device"] != self.device:
            raise SyncError(f"Ключ принадлежит другому устройству ({status['device']}); выполните tetrad-sync init.")
        with self.store.transaction():
            self._keep_status(status)
        return status

    def _credentials(self) -> tuple[str, str]:
        hub, token = self.store.get("hub"), self.store.get("token")
        if not hub or not token:
            raise NotConnected()
        return str(hub), str(token)

    def _has_device(self) -> None:
        if not self.store.get("token") or not self.store.get("device"):
            raise NotConnected()

    def _fetch_status(self, hub: str, token: str) -> dict[str, Any]:
        def call() -> dict[str, Any]:
            answer = exchange(self.transport, "GET", f"{hub}/api/v1/status", token, None)
            return check_status(answer)
        return self._with_retries(call)

    def _keep_status(self, status: dict[str, Any]) -> None:
        self.store.put("device", status["device"])
        self.store.put("status", status)
        self.store.put("next_seq", max(int(self.store.get("next_seq", 1)), int(status["acked_seq"]) + 1))
        retention.after_status(self.store, status)  # a restored hub (new epoch): resend what it lost
        self._observe([status["hub_time"]])

    # recording

    def record(self, entity: str, fields: Mapping[str, Any], *, author: str, id: str | None = None) -> Recorded:
        """Create or change a journal record (only `fields` that differ from the view are sent); or RecordRefused."""
        return self._write(entity, id or self._new_id(entity, fields), "upsert", dict(fields), author)

    def delete(self, entity: str, record_id: str, *, author: str) -> Recorded:
        """Delete a journal record (a tombstone that a later change can revive)."""
        return self._write(entity, record_id, "delete", {}, author)

    def view(self, entity: str, record_id: str) -> Record | None:
        """A record as the teacher sees it: the hub's copy with this machine's pending changes over it."""
        return self.replica.view(entity, record_id)

    def views(self, entity: str) -> dict[str, Record]:
        """Every record of an entity as the teacher sees it, deleted ones included."""
        return self.replica.views(entity)

    @staticmethod
    def _new_id(entity: str, fields: Mapping[str, Any]) -> str:
        try:
            if entity == "lesson":
                return lesson_id(fields["class"], fields.get("group"), fields["date"], fields["slot"])
            if entity == "attendance":
                return attendance_id(fields["lesson"], fields["student"])
            if entity == "period_grade":
                return period_grade_id(fields["student"], fields["subject"], fields["period"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordRefused("missing_field", str(exc).strip("'")) from None
        return ""  # a new mark, remark or test plan takes the id of the op that creates it (`_write`)

    def _write(self, entity: str, record_id: str, action: str, fields: dict[str, Any], author: str) -> Recorded:
        status = self.store.get("status")
        if not isinstance(status, dict):
            raise NotConnected()
        vocabulary = Vocabulary(frozenset(status["mark_values"]), frozenset(w["code"] for w in status["work_types"]))
        with self.store.transaction():
            clock = self._clock()
            stamp = clock.tick()
            seq = self.store.take_seq()
            new_op = op_id(self._op_prefix(), seq, stamp)
            record_id = record_id or new_op  # unique as the op id is, and gzipped beside it a few bytes, not 18
            current = self.replica.view(entity, record_id)
            if action == "upsert" and current is not None and not current.deleted and entity in JOURNAL:
                # Only what changes goes on the wire (and into the merge: a field left as it was keeps its writer).
                fields = {k: v for k, v in fields.items() if k not in current.clock or current.values.get(k) != v} \
                    or fields
            raw: dict[str, Any] = {
                "op": new_op, "seq": seq, "hlc": stamp, "author": author,
                "entity": entity, "id": record_id, "action": action, "fields": fields,
                "base": current.rev if current is not None and current.rev else None,
            }
            op = parse_op(raw)
            school = self._school()
            verdict = check_op(op, current, school, self.replica.lesson, calendar_from(self.store, status),
                               vocabulary, hlc.parse(stamp)[0], stamp)
            if verdict.rejection is not None and verdict.rejection.code == "unknown_author" and not school.teachers:
                raise SyncError("Справочники школы ещё не получены с сервера: выполните «tetrad-sync run».")
            if verdict.rejection is not None:
                raise RecordRefused(verdict.rejection.code, verdict.rejection.field)
            self.store.append(raw)
            self.store.put("hlc", clock.last)
        return Recorded(record_id, raw["op"], raw["seq"], verdict.held)

    def _op_prefix(self) -> str:
        """This outbox's op id prefix (`sync.ids.op_id`), made with its first op."""
        prefix = self.store.get("op_prefix")
        if not isinstance(prefix, str):
            prefix = op_prefix()
            self.store.put("op_prefix", prefix)
        return prefix

    def _school(self) -> ReferenceSnapshot:
        return shared_reference(self.store)  # per file and process, rebuilt when a pull or the scope changes it

    def _clock(self) -> hlc.Clock:
        return hlc.Clock(str(self.store.get("hlc", hlc.ZERO)), now_ms=self.now_ms)

    def _observe(self, stamps: list[str]) -> None:
        """Move the persisted HLC past every stamp seen in an answer."""
        clock = self._clock()
        for stamp in stamps:
            clock.observe(stamp)
        with self.store.transaction():
            if clock.last > str(self.store.get("hlc", hlc.ZERO)):
                self.store.put("hlc", clock.last)

    # syncing

    def sync(self) -> SyncReport:
        """Push the outbox and pull the hub's changes; failures are reported, never raised (but bugs are)."""
        report = SyncReport()
        self._up_since, self._good_since_cut, self._cut_seen = self.monotonic(), 0, False
        try:
            status = self.refresh_status()
            limits = status.get("limits", {})
            self.max_batch = max(1, int(limits.get("max_ops_per_batch") or FIRST_BATCH))
            self.max_page = max(1, min(PULL_LIMIT, int(limits.get("max_pull_limit") or PULL_LIMIT)))
            if self._own_transport and isinstance(self.transport, UrllibTransport):
                self.transport.timeout = self.link.timeout(self.link.target(self.target_seconds))
            self.push(report)
            self.pull(report)
        except SyncError as exc:
            report.error = describe(exc)
        report.backlog = self.store.backlog()
        with self.store.transaction():
            self.store.put("last_sync", {"at": clock.now().isoformat(timespec="seconds"),
                                         "ok": report.ok, "summary": report.summary()})
            if report.ok:
                self.store.put("last_good_sync", self.store.get("last_sync"))
        return report

    def push(self, report: SyncReport) -> None:
        """Send the outbox in batches until it is empty or the hub stops acknowledging."""
        while True:
            sent: list[dict[str, Any]] = []
            try:
                answer = self._with_retries(partial(self._push_once, sent))
            except BatchRejected as exc:
                if exc.status == 413 and len(sent) > 1:
                    self.max_batch = max(1, len(sent) // 2)
                    self.link.push.size = min(self.link.push.size, self.max_batch)
                    continue
                raise
            if answer is None:
                return
            report.sent += len(sent)
            if not self._accept(sent, answer, report):
                raise SyncError(f"Сервер не подтвердил операции начиная с № {sent[0]['seq']} (подтверждено до "
                                f"№ {answer.acked_seq}): сообщите администратору.")

    def _push_once(self, sent: list[dict[str, Any]]) -> SyncAnswer | None:
        """Send the outbox's lowest ops (as many as fit the link now, read afresh on every attempt)."""
        sent[:] = self.store.pending(self._fit(self.link.push, self.max_batch))
        return self._post(sent, None) if sent else None

    def _fit(self, pace: Pace, limit: int) -> int:
        return pace.fit(self.link.throughput, self.link.target(self.target_seconds), limit)

    def _accept(self, sent: list[dict[str, Any]], answer: SyncAnswer, report: SyncReport) -> int:
        """Settle the acknowledged ops of an answer in one transaction; return how many left the outbox."""
        done: list[int] = []
        now = clock.now().isoformat(timespec="seconds")
        with self.store.transaction():
            for op, result in zip(sent, answer.results, strict=True):
                report.outcomes[result.status] += 1
                if op["seq"] > answer.acked_seq or result.outcome == "queued":
                    continue
                if result.outcome in ("applied", "superseded", "conflict"):
                    applied = {**op, "hlc": result.applied_hlc or op["hlc"]}
                    merged = merge_ops(self.store.record(op["entity"], op["id"]), [applied], self.device,
                                       rev=result.rev or 0)
                    assert merged is not None
                    merged.values = stored_values(op["entity"], merged.values)  # as the hub holds it: no echo
                    if result.rev:  # every field of the record is this machine's: it holds the hub's rev too
                        merged.rev = max(merged.rev, result.rev)
                    self.store.put_record(op["entity"], op["id"], merged)
                else:
                    self.store.add_outcome(Outcome(op["op"], op["seq"], op["entity"], op["id"], op["author"],
                                                   result.outcome, result.code, result.message, op, now))
                done.append(op["seq"])
            retention.keep(self.store, done)
            self.store.remove(done)
        self._observe([answer.hub_time] + [r.applied_hlc for r in answer.results if r.applied_hlc])
        return len(done)

    def pull(self, report: SyncReport) -> None:
        """Pull the hub's changes from the stored cursor until there are no more."""
        while True:
            cursor = self.store.get("cursor")
            answer = self._with_retries(partial(self._pull_once, cursor))
            self._take(answer.changes, answer.cursor, done=not answer.more)
            report.pulled += len(answer.changes)
            if not answer.more:
                return
            if answer.cursor == cursor:
                raise BadAnswer("Сервер обещает ещё изменения, но не сдвигает курсор.")

    def _pull_once(self, cursor: str | None) -> SyncAnswer:
        """Ask for one page after `cursor`, as many records as fit the link now."""
        pull: dict[str, Any] = {"cursor": cursor, "limit": self._fit(self.link.pull, min(self.max_page, PULL_LIMIT))}
        if self.store.get("pull_own"):
            pull["own"] = True
        return self._post([], pull)

    def _take(self, changes: list[Change], cursor: str | None, done: bool = False) -> None:
        """Store one pulled page and its cursor in one transaction (`done`: the last page)."""
        stamps: list[str] = []
        with self.store.transaction():
            reference_changed = False
            for change in changes:
                stored = self.store.record(change.entity, change.id)
                if stored is not None and stored.rev > change.rev:
                    continue
                values = dict(change.fields)
                if change.entity in JOURNAL or change.deleted:  # a removed reference row (timetable change, holiday)
                    values["deleted"] = change.deleted
                if change.entity not in JOURNAL:
                    reference_changed = True
                self.store.put_record(change.entity, change.id, Record(values, dict(change.clock), change.rev))
                stamps += [w.hlc for w in change.clock.values()]
                self.store.settle_held(w.op for w in change.clock.values() if w.device == self.device)
            if reference_changed:
                self.store.put("reference_generation", int(self.store.get("reference_generation", 0)) + 1)
            self.store.put("cursor", cursor)
            if done:
                self.store.put("pull_own", False)
        self._observe(stamps)

    # the wire

    def _post(self, ops: list[dict[str, Any]], pull: dict[str, Any] | None) -> SyncAnswer:
        """POST one batch, check the answer's shape against it, and learn from it how the link is doing."""
        hub, token = self._credentials()
        body: dict[str, Any] = {"protocol": VERSION, "device": self.device, "ops": ops}
        if ops:
            body["results"] = "short"  # results without op ids; a hub that does not know it sends them in full
        if pull is not None:
            body["pull"] = pull
        body.update(retention.batch_fields(self.store))
        pace, limit = (self.link.pull, self.max_page) if pull is not None else (self.link.push, self.max_batch)
        sizes = [0, 0]

        def meter(sent: int, received: int) -> None:
            sizes[:] = [sent, received]

        started = self.monotonic()
        try:
            raw = exchange(self.transport, "POST", f"{hub}/api/v1/sync", token, body, meter)
            answer = check_sync(raw, ops, pull is not None)
            notices.take(self.store, raw, answer.hub_time)  # a pull's last page: the teachers' conflicts
        except (TransportError, BadAnswer, Busy) as exc:  # a cut, a timeout, a damaged answer, a busy hub
            self.link.failed(pace, sizes[0])
            if not isinstance(exc, Busy):
                now = self.monotonic()
                if self._up_since is not None and self._good_since_cut:
                    self.link.cut_after(now - self._up_since, lower_bound=not self._cut_seen)
                self._up_since, self._good_since_cut, self._cut_seen = now, 0, True
            self._keep_link()
            raise
        units = len(answer.changes) if pull is not None else len(ops)
        self._good_since_cut += 1
        self.link.succeeded(pace, units, sizes[0], sizes[1], self.monotonic() - started, limit,
                            self.link.target(self.target_seconds))
        self._keep_link()
        return answer

    def _keep_link(self) -> None:
        with self.store.transaction():
            self.store.put("link", self.link.to_json())

    def _with_retries(self, call: Callable[[], T]) -> T:
        """Run `call`, retrying network failures, 5xx and malformed answers with exponential backoff and jitter."""
        attempt = 0
        while True:
            hint: float | None = None
            try:
                return call()
            except Busy as exc:  # the exchange that met it already halved its size
                error: SyncError = exc
                hint = exc.retry_after
            except (TransportError, BadAnswer) as exc:
                error = exc
            attempt += 1
            if attempt >= self.attempts:
                raise error
            self.sleep(self.delay(attempt, hint))

    def delay(self, attempt: int, retry_after_hint: float | None = None) -> float:
        """Seconds to wait before retry number `attempt`: doubling, with jitter, never before Retry-After."""
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        backoff *= 0.5 + self.random() / 2
        return max(backoff, retry_after_hint or 0.0)

    # files instead of a link (sync/files.py)

    def export(self, path: str | os.PathLike[str]) -> int:
        """Write the outbox as a batch file (`.json`, or gzipped `.json.gz`) for the USB path; return the op count."""
        return files.export(self, path)

    def start_from_file(self, path: str | os.PathLike[str]) -> str:
        """Start this machine from a hub's setup file (token, hub address, status, first pull); no HTTP at all."""
        return files.start_from_file(self, path)

    def read_answer(self, path: str | os.PathLike[str]) -> SyncReport:
        """Read the hub's answer file to an exported batch: outcomes, acknowledged ops, other machines' rows."""
        return files.read_answer(self, path)

    def overview(self) -> dict[str, Any]:
        """What `tetrad-sync status` shows: hub, device, backlog, the last sync, the link, refused or held ops."""
        return {"hub": self.store.get("hub"), "device": self.store.get("device"), "backlog": self.store.backlog(),
                "last_sync": self.store.get("last_sync"), "outcomes": self.store.outcomes(),
                "link": self.link_report()}

    def link_report(self) -> dict[str, Any]:
        """What the client has learned of its link (`Link.report`), the ops left to send (`pending`) and when a
        sync last finished (`last_good_sync`, ISO time, None when never): for `status` and the classroom app."""
        return {**self.link.report(), "pending": self.store.backlog(),
                "last_good_sync": (self.store.get("last_good_sync") or {}).get("at")}

def main(argv: list[str] | None = None) -> int:
    """The `tetrad-sync` command."""
    from sync.cli import run

    return run(argv)
