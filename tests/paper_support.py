"""The paper tests' school: the tiny school with families and a week of journal sent through real sync batches;
and how a reader checks a PDF: its text (pdftotext), its pages (pdfinfo), a page as PNG (pdftoppm) under artifacts/.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.base import settings
from app.base.extensions import db
from app.base.models import Consent, Family, Guardian, Period, Student
from static_site.access import family_access
from static_site.links import issue
from static_site.paper.pdf import pdf_missing
from sync import clock
from tests.school import Machine, TinySchool, attendance_key, build_tiny_school, lesson_fields, ms_at, period_grade_key

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "paper"
W47 = dt.date(2026, 11, 16)  # Monday of the week the journal below fills
LONG_HOMEWORK = ("Прочитать главу 3 учебника и выписать в тетрадь все определения; " * 24).strip()

needs_pdf = pytest.mark.skipif(pdf_missing() is not None, reason=f"WeasyPrint cannot make PDFs here: {pdf_missing()}")


def day(offset: int) -> dt.date:
    """A day of week 47: 0 is Monday 16.11.2026."""
    return W47 + dt.timedelta(days=offset)


def family(name: str, channel: str, students: list[str], guardian: tuple[str, str, str, str],
           consent: bool = True) -> tuple[Family, Guardian]:
    """A family with one guardian (surname, first name, patronymic, relation) and, unless told, consent given."""
    last, first, middle, relation = guardian
    person = Guardian(last_name=last, first_name=first, middle_name=middle, relation=relation,
                      phone=f"+7 900 {sum(map(ord, name)) % 1000:03d}-00-00")
    group = Family(name=name, channel=channel, guardians=[person],
                   students=[db.session.get(Student, s) for s in students])
    db.session.add(group)
    db.session.flush()
    if consent:
        db.session.add(Consent(guardian_id=person.id, state="given", on=dt.date(2026, 9, 1), basis="заявление",
                               channel="paper"))
    db.session.flush()
    return group, person


def give_link(group: Family, guardian: Guardian) -> str:
    """Issue the guardian a link; return its token."""
    now = clock.now()
    access = family_access([group.id], settings().today(now), now)[group.id]
    link = issue(access, guardian, now)
    db.session.commit()
    return link.token


class PaperSchool:
    """The tiny school: Ивановы on paper, Смирновы by link, Беловы (1А) on paper; a week 47 of journal."""

    def __init__(self, client: Any) -> None:
        self.ids: TinySchool = build_tiny_school()
        self.ivanovy, self.mother = family("Ивановы", "paper", [self.ids["st_ivanova"]],
                                           ("Иванова", "Ольга", "Николаевна", "мать"))
        self.smirnovy, self.father = family("Смирновы", "link", [self.ids["st_smirnov"]],
                                            ("Смирнов", "Олег", "Петрович", "отец"))
        self.belovy, _ = family("Беловы", "paper", [self.ids["st_first_grader"]], ("Белова", "Анна", "Сергеевна",
                                                                                     "мать"))
        db.session.commit()
        self.machine = Machine(client)
        self.lessons: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        return self.ids[key]

    def post(self, ops: list[dict[str, Any]]) -> None:
        """Send ops as one batch; every op must apply."""
        body = self.machine.post(ops).get_json()
        statuses = {r["status"] for r in body["results"]}
        assert statuses <= {"applied"}, body["results"]

    def lesson(self, name: str, when: dt.date, slot: int, subject: str = "s_math", teacher: str = "t_petrova",
               cls: str = "c7", **changes: Any) -> dict[str, Any]:
        """A lesson op, remembered by name."""
        lesson_id, fields = lesson_fields(self.ids, day=when, slot=slot, cls=cls, subject=subject, teacher=teacher,
                                          **changes)
        self.lessons[name] = lesson_id
        return self.machine.op("lesson", lesson_id, fields, author=self.ids[teacher], at=ms_at(when, 9 + slot))

    def mark(self, mark_id: str, lesson: str, student: str, value: str, work_type: str, when: dt.date,
             teacher: str = "t_petrova", comment: str = "") -> dict[str, Any]:
        """A mark op given on the lesson's day."""
        return self.machine.op("mark", mark_id, {"lesson": self.lessons[lesson], "student": self.ids[student],
                                                 "value": value, "work_type": work_type, "comment": comment},
                               author=self.ids[teacher], at=ms_at(when, 15))

    def absence(self, lesson: str, student: str, status: str, when: dt.date,
                teacher: str = "t_petrova") -> dict[str, Any]:
        """An attendance op."""
        return self.machine.op("attendance", attendance_key(self.lessons[lesson], self.ids[student]),
                               {"lesson": self.lessons[lesson], "student": self.ids[student], "status": status},
                               author=self.ids[teacher], at=ms_at(when, 15))

    def week_47(self) -> None:
        """Lessons, marks, absences, remarks and a test planned for next week, all through sync."""
        self.post([
            self.lesson("mon-math", day(0), 2, topic="Линейные уравнения", homework="№ 245, 247"),
            self.lesson("tue-russian", day(1), 1, subject="s_russian", teacher="t_sidorov",
                        topic="Причастный оборот", homework="Упр. 112"),
            self.lesson("wed-math", day(2), 3, topic="Системы уравнений", homework="№ 260"),
            self.lesson("g1-math", day(0), 1, cls="c1", teacher="t_kuznetsova", topic="Счёт до десяти",
                        homework="Пропись, с. 4"),
        ])
        self.post([
            self.mark("m-iv-1", "mon-math", "st_ivanova", "5", "test", day(0), comment="Отличная работа"),
            self.mark("m-sm-1", "mon-math", "st_smirnov", "3", "oral", day(0), comment="Смирнову повторить теорему"),
            self.mark("m-iv-2", "tue-russian", "st_ivanova", "4", "dictation", day(1), teacher="t_sidorov"),
            self.absence("tue-russian", "st_smirnov", "ill", day(1), teacher="t_sidorov"),
            self.absence("wed-math", "st_ivanova", "late", day(2)),
            self.absence("g1-math", "st_first_grader", "absent_excused", day(0), teacher="t_kuznetsova"),
            self.machine.op("remark", "r-iv", {"student": self["st_ivanova"], "date": day(2).isoformat(),
                                               "kind": "praise", "subject": self["s_math"],
                                               "text": "Помогала одноклассникам"},
                            author=self["t_petrova"], at=ms_at(day(2), 16)),
            self.machine.op("remark", "r-sm", {"student": self["st_smirnov"], "date": day(2).isoformat(),
                                               "kind": "remark", "subject": None,
                                               "text": "Смирнов опоздал без записки"},
                            author=self["t_petrova"], at=ms_at(day(2), 16)),
            self.machine.op("test_plan", "tp-1", {"class": self["c7"], "group": None, "subject": self["s_math"],
                                                  "date": "2026-11-25", "work_type": "test",
                                                  "title": "Контрольная работа «Уравнения»"},
                            author=self["t_petrova"], at=ms_at(day(2), 16)),
        ])

    def deferred_period_mark(self) -> None:
        """Иванова's maths mark for the 1st quarter is deferred (she was ill); Смирнов's is 4."""
        q1 = db.session.scalars(select(Period).where(Period.number == 1)).one().id
        at = ms_at(dt.date(2026, 10, 23), 12)
        self.post([
            self.machine.op("period_grade", period_grade_key(self["st_ivanova"], self["s_math"], q1),
                            {"student": self["st_ivanova"], "subject": self["s_math"], "period": q1, "value": None,
                             "status": "deferred"}, author=self["t_petrova"], at=at),
            self.machine.op("period_grade", period_grade_key(self["st_smirnov"], self["s_math"], q1),
                            {"student": self["st_smirnov"], "subject": self["s_math"], "period": q1, "value": "4",
                             "status": "graded"}, author=self["t_petrova"], at=at),
        ])


def pdf_text(path: Path, page: int | None = None) -> str:
    """The PDF's text as pdftotext reads it (one page when given), whitespace squeezed to single spaces."""
    assert shutil.which("pdftotext"), "poppler-utils is needed to read PDFs: apt-get install poppler-utils"
    args = ["pdftotext", "-enc", "UTF-8"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return " ".join(text.split())


def pdf_lines(path: Path, page: int) -> list[str]:
    """A page's lines as pdftotext -layout lays them out (table rows stay rows), spaces squeezed."""
    args = ["pdftotext", "-layout", "-enc", "UTF-8", "-f", str(page), "-l", str(page), str(path), "-"]
    text = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def pdf_pages(path: Path) -> int:
    """The page count pdfinfo reports."""
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_fonts(path: Path) -> list[list[str]]:
    """pdffonts' table: one list of columns per font."""
    lines = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout.splitlines()
    return [line.split() for line in lines[2:] if line.strip()]


def keep_png(path: Path, name: str, page: int = 1) -> Path:
    """Render one page to PNG under artifacts/paper/ (git-ignored) for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / name
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", str(page), "-l", str(page), "-singlefile", str(path),
                    str(stem)], check=True)
    png = stem.with_suffix(".png")
    assert png.stat().st_size > 10_000, "the rendered page is blank"
    return png
