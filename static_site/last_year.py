"""Last year's family pages, kept read-only at `year close` (config `site.keep_last_year`).

LAYOUT: d/<token>-<year>/ (index.html, the weeks, the child pages, each + .gz), a plain folder beside the
link's own d/<token>: served like it (serve.py serves d/…), never touched by a build (publish.py knows only
32-letter token names), and gone with the link whenever its pages are unpublished (publish.unpublish:
revoked, rotated, no consent, the family deleted). A rotation gives the new link a copy of the old link's kept
year at once (`carry_over`): the family reads last year under its new link, and the old token's copy goes at
the next build with the rest of its pages.

ALGORITHM of `keep_year(conf, year, skip)`:
1. Every published page set d/<token> of a family not in `skip` (families whose every child leaves with the
   year: 11th-graders) is copied to d/<token>-<year>.partial, its confirmation forms removed (the year is
   closed: nothing to confirm), .gz files made again, then renamed to d/<token>-<year> (replacing an older
   copy of the same year: `year close` may run again).
2. Copies of any other year are removed: a family keeps reading last year, not every year before it.
With `site.keep_last_year: false`, `drop_years` removes every copy instead.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.base import enrolment
from app.base.extensions import db
from app.base.models import AcademicYear, FamilyLink, family_student
from app.base.rollover import RolloverError, final_marks_missing, year_classes
from app.base.settings import Settings
from static_site.publish import LINKS, TOKEN_NAME, published_tokens
from sync import clock

FORM = re.compile(r"<form\b.*?</form>", re.S | re.I)
KEPT = re.compile(r"^([a-z2-7]{32})-(\d{4}-\d{4})$")  # publish.KEPT_YEAR, with its parts
NOTE = ('<p class="closed-year" role="note">Учебный год {year} закрыт: страницы сохранены только для '
        "просмотра.</p>")


def keep_year(root: Path, year: str, tokens: Collection[str]) -> int:
    """Copy these tokens' published pages to d/<token>-<year>/, read-only; return how many were kept."""
    links = root / LINKS
    kept = 0
    for token in sorted(tokens):
        source = links / token
        if not TOKEN_NAME.match(token) or not (source / "index.html").is_file():
            continue
        _place(source, links / f"{token}-{year}", lambda folder: _close_pages(folder, year))
        kept += 1
    drop_years(root, keep=year)
    return kept


def _close_pages(folder: Path, year: str) -> None:
    """Remove the confirmation forms, add the "year closed" note, make the .gz files again."""
    for page in folder.glob("*.html"):
        text = FORM.sub("", page.read_text(encoding="utf-8"))
        text = text.replace("<body>", "<body>" + NOTE.format(year=year), 1) if "<body>" in text else text
        page.write_text(text, encoding="utf-8")
        (page.with_name(page.name + ".gz")).write_bytes(gzip.compress(text.encode(), mtime=0))


def _place(source: Path, target: Path, finish: Callable[[Path], None] | None = None) -> None:
    """Copy a page set to `target` (a kept year's folder) whole: into a dot-named partial folder, then renamed
    over any older copy, so a reader never finds half of it."""
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(os.path.realpath(source), partial)
    if finish is not None:
        finish(partial)
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)


def carry_over(root: Path, old: str, new: str) -> int:
    """Copy the kept years of link `old` to link `new` (a rotation: same guardian, same children); return how many.

    A copy, not a move: the old token keeps its copy until its pages are unpublished at the next build (as its
    current pages), and a rotation whose transaction fails leaves the old link whole."""
    links = root / LINKS
    if not (TOKEN_NAME.match(old) and TOKEN_NAME.match(new)) or not links.is_dir():
        return 0
    carried = 0
    for entry in sorted(os.scandir(links), key=lambda e: e.name):
        match = KEPT.match(entry.name)
        if match and match[1] == old and not entry.is_symlink() and entry.is_dir():
            _place(Path(entry.path), links / f"{new}-{match[2]}")
            carried += 1
    return carried


def drop_years(root: Path, keep: str | None = None) -> int:
    """Remove every kept year's copy (but `keep`'s); return how many went."""
    links = root / LINKS
    if not links.is_dir():
        return 0
    gone = 0
    for entry in os.scandir(links):
        match = KEPT.match(entry.name)
        if match and match[2] != keep and not entry.is_symlink():
            shutil.rmtree(entry.path)
            gone += 1
    return gone


def kept_tokens(root: Path, year: str) -> set[str]:
    """Tokens with a kept copy of this year."""
    links = root / LINKS
    if not links.is_dir():
        return set()
    return {m[1] for e in os.scandir(links) if (m := KEPT.match(e.name)) and m[2] == year}


@dataclass
class Closing:
    """What `year close` found and did."""

    year: str
    missing: list[str] = field(default_factory=list)  # final marks not given, «7А, Иванова …: Математика»
    kept: int = 0  # families' page sets kept read-only
    graduates: int = 0  # families whose every child leaves with the year: not kept
    done: bool = False


def close_year(conf: Settings, year: AcademicYear, *, apply: bool, allow_missing: bool = False, by: str = "",
               ) -> Closing:
    """Check the final marks, then (with `apply`) keep or drop the families' pages of the year and mark the year
    closed (its journal archived: app/base/closed_years.py; the caller commits).

    Refuses (RolloverError) to apply while final marks are missing, unless `allow_missing`.
    """
    closing = Closing(year.name, final_marks_missing(year, conf))
    classes = year_classes(year)
    last_grade = {c.id for c in classes if c.grade == 11}
    members = enrolment.members([c.id for c in classes], year.end)
    children: dict[str, set[bool]] = {}
    by_student = {m.student.id: m.class_id in last_grade for m in members}
    for family_id, student_id in db.session.execute(select(family_student.c.family_id, family_student.c.student_id)):
        if student_id in by_student:
            children.setdefault(family_id, set()).add(by_student[student_id])
    leaving = {f for f, grades in children.items() if grades == {True}}
    closing.graduates = len(leaving)
    published = published_tokens(conf.site_output_dir)
    tokens = [t for t, f in db.session.execute(select(FamilyLink.token, FamilyLink.family_id)
                                                .where(FamilyLink.revoked_at.is_(None)))
              if t in published and f in children and f not in leaving]
    if not apply:
        closing.kept = len(tokens) if conf.site_keep_last_year else 0
        return closing
    if closing.missing and not allow_missing:
        raise RolloverError(f"год не закрыт: нет {len(closing.missing)} итоговых отметок (список выше). Выставьте "
                            "их или закройте год с --allow-missing-marks по решению администрации.")
    if conf.site_keep_last_year:
        closing.kept = keep_year(conf.site_output_dir, year.name, tokens)
    else:
        drop_years(conf.site_output_dir)
    if year.closed_at is None:  # closing again (to copy the pages afresh) keeps the first date
        year.closed_at, year.closed_by = clock.now(), by
    closing.done = True
    return closing
