"""Last year's family pages, kept read-only at `year close` (config `site.keep_last_year`).

LAYOUT: d/<token>-<year>/ (index.html, the weeks, the child pages, each + .gz), a plain folder beside the
link's own d/<token>: served like it (serve.py serves d/…), never touched by a build (publish.py knows only
32-letter token names), and gone with the link whenever its pages are unpublished (publish.unpublish:
revoked, rotated, no consent, the family deleted).

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
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.base import enrolment
from app.base.extensions import db
from app.base.models import AcademicYear, FamilyLink, family_student
from app.base.rollover import RolloverError, final_marks_missing, year_classes
from app.base.settings import Settings
from static_site.publish import LINKS, TOKEN_NAME, published_tokens

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
        target = links / f"{token}-{year}"
        partial = links / f".{token}-{year}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(os.path.realpath(source), partial, ignore=shutil.ignore_patterns("*.gz"))
        for page in partial.glob("*.html"):
            text = FORM.sub("", page.read_text(encoding="utf-8"))
            text = text.replace("<body>", "<body>" + NOTE.format(year=year), 1) if "<body>" in text else text
            page.write_text(text, encoding="utf-8")
            (page.with_name(page.name + ".gz")).write_bytes(gzip.compress(text.encode(), mtime=0))
        if target.exists():
            shutil.rmtree(target)
        partial.rename(target)
        kept += 1
    drop_years(root, keep=year)
    return kept


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


def close_year(conf: Settings, year: AcademicYear, *, apply: bool, allow_missing: bool = False) -> Closing:
    """Check the final marks, then (with `apply`) keep or drop the families' pages of the year.

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
    closing.done = True
    return closing
