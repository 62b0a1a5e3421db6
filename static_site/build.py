"""Building the site: the families on the DirtyFamily queue, every family, and the sweep for stale pages.

ALGORITHM of a build of some families:
1. Decide access (static_site.access) for the families: visible children, live links.
2. Read the journal of their children's classes once (static_site.data), make each family's content and
   each live link's pages (static_site.pages).
3. Freeze a batch of links with Frozen-Flask into a fresh staging folder, then publish each link's page
   set by an atomic swap; remove the page sets of the families' links that are no longer live.
4. Write down which children each published link shows, mark confirmed weeks whose content changed since
   (the "orange" state), and only then take exactly the queue rows that were read: a family marked again
   while it was being built keeps its newer row and is built again.
Builders take an exclusive lock on the output folder, so a worker and a hand-run build never interleave.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Row, bindparam, delete, select, update

from app.base.extensions import db
from app.base.gcpause import fewer_collections
from app.base.journal_store import chunks
from app.base.models import DirtyFamily, Family, FamilyLink, Guardian, WeekAck
from app.base.permissions import private_dir
from app.base.rebuild_queue import mark_families_dirty
from app.base.settings import Settings
from app.base.text import aware
from static_site import publish
from static_site.access import FamilyAccess, family_access
from static_site.data import Snapshot
from static_site.pages import Confirmation, common_context, family_content, link_pages
from static_site.render import freeze
from static_site.status import record_build
from sync import clock

log = logging.getLogger(__name__)
BATCH = 40  # families frozen together: fewer freezer runs, still a small staging folder
QUEUE_TAKE = 500
Progress = Callable[[int], None]


@dataclass
class BuildReport:
    """What a build did, and the database writes it still owes (made at the end, in one short transaction)."""

    families: int = 0
    links: int = 0
    pages: int = 0
    removed: int = 0
    seconds: float = 0.0
    digests: dict[str, str | None] = field(default_factory=dict)  # link id → published digest
    changed: set[int] = field(default_factory=set)  # confirmations whose week changed since

    def save(self, now: dt.datetime) -> None:
        """Write what was published and which confirmed weeks changed (the caller commits)."""
        if self.digests:
            table = FamilyLink.__table__
            db.session.connection().execute(
                update(table).where(table.c.id == bindparam("_id"))
                .values(published_digest=bindparam("_digest"), published_at=bindparam("_at")),
                [{"_id": k, "_digest": v, "_at": now if v else None} for k, v in self.digests.items()])
        for part in chunks([str(i) for i in self.changed]):
            db.session.execute(update(WeekAck).where(WeekAck.id.in_([int(i) for i in part]),
                                                     WeekAck.changed_at.is_(None)).values(changed_at=now))


class SiteLocked(Exception):
    """Another builder holds the output folder."""


@contextlib.contextmanager
def site_lock(root: Path, wait: bool = True) -> Iterator[None]:
    """Hold the output folder's build lock (flock: released by the system if the process dies)."""
    private_dir(root)  # the families' pages: only the hub's user reads them (it serves them itself)
    with (root / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise SiteLocked from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_families(conf: Settings, family_ids: Collection[str] | None, now: dt.datetime | None = None,
                   progress: Progress | None = None) -> BuildReport:
    """Rebuild the pages of these families (all when None); the caller holds the lock, saves and commits."""
    with fewer_collections():  # the build's contexts and rows live until it ends: no full collections over them
        return _build_families(conf, family_ids, now, progress)


def _build_families(conf: Settings, family_ids: Collection[str] | None, now: dt.datetime | None,
                    progress: Progress | None) -> BuildReport:
    started = time.perf_counter()
    now = now or clock.now()
    today = conf.today(now)
    root = conf.site_output_dir
    css = publish.prepare(root, conf.site_base_url)
    accesses = family_access(family_ids, today, now)
    snap = Snapshot(conf, today)
    common = common_context(snap, css, now)
    acks = _confirmations(list(accesses))
    report = BuildReport(families=len(accesses))
    ordered = sorted(accesses.values(), key=lambda a: min((s.class_id for s in a.children), default=""))
    snap.load_stays([s for access in ordered for s in access.children])  # moves: one query per chunk of students
    users: dict[str, int] = defaultdict(int)  # families still to build per class (a moved child's old one too)
    for access in ordered:
        for class_id in snap.class_ids(access.children):
            users[class_id] += 1
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start:start + BATCH]
        _build_batch(conf, root, snap, common, batch, acks, now, report)
        done = set()
        for access in batch:
            for class_id in snap.class_ids(access.children):
                users[class_id] -= 1
                if not users[class_id]:
                    done.add(class_id)
        if start + BATCH < len(ordered):  # after the last batch the snapshot goes as a whole
            snap.release(done)
        if progress:
            progress(len(batch))
    report.seconds = time.perf_counter() - started
    return report


def _build_batch(conf: Settings, root: Path, snap: Snapshot, common: dict[str, object], batch: list[FamilyAccess],
                 acks: dict[str, list[WeekAck]], now: dt.datetime, report: BuildReport) -> None:
    """Freeze, publish and record one batch of families."""
    # the journals of the whole batch in one load (a few queries per class and per chunk of the batch's
    # children), not one load per family; classmates' own records are not read (their pages are not made here)
    children = [s for access in batch if access.live for s in access.children]
    snap.classes(snap.class_ids(children), children)
    pages, contents = {}, {}
    guardians: dict[str, Guardian] = {}
    for access in batch:
        if not access.live:
            continue
        content = family_content(snap, access.children)
        contents[access.family.id] = content
        guardians.update({g.id: g for g in access.family.guardians})
        for link in access.live:
            if link.student_id is not None:  # a student's own link: their diary only, nothing to confirm
                own = access.shown(link)
                pages[link.token] = link_pages(family_content(snap, own), common, guardians[link.guardian_id],
                                               link.token, {}, conf.timezone, student=own[0])
                continue
            mine = {a.week: Confirmation(aware(a.confirmed_at), a.digest, a.changed_at is not None)
                    for a in acks.get(access.family.id, []) if a.guardian_id == link.guardian_id}
            pages[link.token] = link_pages(content, common, guardians[link.guardian_id], link.token, mine,
                                           conf.timezone)
    staging = publish.staging_folder(root)
    try:
        report.pages += freeze(pages, staging) if pages else 0
        for access in batch:
            live = {link.id for link in access.live}
            for link in access.links:
                if link.id in live:
                    publish.publish(root, link.token, staging / link.token)
                    report.digests[link.id] = access.digest(link)
                    report.links += 1
                elif publish.unpublish(root, link.token) or link.published_digest is not None:
                    report.digests[link.id] = None
                    report.removed += 1
            shown = contents.get(access.family.id)
            for ack in acks.get(access.family.id, []):
                current = shown.digests.get(ack.week) if shown else None
                if ack.changed_at is None and current is not None and current != ack.digest:
                    report.changed.add(ack.id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _confirmations(family_ids: list[str]) -> dict[str, list[WeekAck]]:
    found: dict[str, list[WeekAck]] = defaultdict(list)
    for part in chunks(family_ids):
        for ack in db.session.scalars(select(WeekAck).where(WeekAck.family_id.in_(part))):
            found[ack.family_id].append(ack)
    return found


def build_dirty(conf: Settings, limit: int = QUEUE_TAKE, progress: Progress | None = None,
                now: dt.datetime | None = None) -> BuildReport:
    """Build the families on the queue and take off exactly the rows read; the caller holds the lock."""
    rows = db.session.execute(select(DirtyFamily.family_id, DirtyFamily.marked_at, DirtyFamily.rev)
                              .order_by(DirtyFamily.marked_at).limit(limit)).all()
    if not rows:
        return BuildReport()
    report = build_families(conf, [r.family_id for r in rows], now, progress)
    report.save(now or clock.now())
    _take(rows)
    db.session.commit()
    record_build(conf, full=False)
    return report


def _take(rows: Sequence[Row[str, dt.datetime, int]]) -> None:
    """Delete the queue rows exactly as they were read; a newer mark (other marked_at or rev) stays.

    One statement run for every row (executemany): the same compiled statement whatever the number of rows."""
    if not rows:
        return
    table = DirtyFamily.__table__
    db.session.connection().execute(
        delete(table).where(table.c.family_id == bindparam("_family"), table.c.marked_at == bindparam("_at"),
                            table.c.rev == bindparam("_rev")),
        [{"_family": r.family_id, "_at": r.marked_at, "_rev": r.rev} for r in rows])


def build_all(conf: Settings, progress: Progress | None = None, now: dt.datetime | None = None,
              processes: int = 1) -> BuildReport:
    """Rebuild every family, remove every page set no live link owns, and take the queue read at the start.

    With `processes` > 1 the families are built by forked processes (static_site.parallel): only from a
    process without threads, such as the CLI or the worker.
    """
    rows = db.session.execute(select(DirtyFamily.family_id, DirtyFamily.marked_at, DirtyFamily.rev)).all()
    if processes > 1:
        from static_site.parallel import build_in_parallel  # it builds on this module

        report = build_in_parallel(processes, now, progress)
    else:
        report = build_families(conf, None, now, progress)
    report.removed += remove_orphans(conf)
    report.save(now or clock.now())
    _take(rows)
    db.session.commit()
    record_build(conf, full=True)
    return report


def family_count() -> int:
    """How many families a full rebuild goes through (for a progress bar)."""
    return len(db.session.scalars(select(Family.id)).all())


def remove_orphans(conf: Settings) -> int:
    """Unpublish page sets whose token no longer belongs to any link (a deleted family, say)."""
    root = conf.site_output_dir
    known = set(db.session.scalars(select(FamilyLink.token)))
    orphans = publish.published_tokens(root) - known
    for token in orphans:
        publish.unpublish(root, token)
    return len(orphans)


def sweep(conf: Settings, now: dt.datetime | None = None) -> set[str]:
    """Queue every family whose pages on disk differ from what it may see now; remove orphans.

    Catches what no sync batch announces: consent withdrawn, a child who left or turned 18, an expired
    link, a link revoked by hand in the database, a page set lost from the disk.
    """
    now = now or clock.now()
    root = conf.site_output_dir
    on_disk = publish.published_tokens(root)
    stale: set[str] = set()
    for access in family_access(None, conf.today(now), now).values():
        live = {link.id for link in access.live}
        for link in access.links:
            wanted = access.digest(link) if link.id in live else None
            shown = link.token in on_disk and (wanted is None or publish.is_published(root, link.token))
            if link.published_digest != wanted or shown != (wanted is not None):
                stale.add(access.family.id)
    remove_orphans(conf)
    if stale:
        mark_families_dirty(stale)
    db.session.commit()
    return stale
