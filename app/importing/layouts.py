"""The column layouts, declared as data: each kind of file, its Russian headers, aliases and which are required.

docs/import.md describes every layout; a test fails when a header or alias here is missing there.
Headers are compared with case, ё/е, punctuation and spacing ignored, so «Дата рождения:» and
«дата  рождения» are the same column. A header with `{n}` (guardians) matches any number in its place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.importing.values import as_text


@dataclass(frozen=True)
class Column:
    """One column: the key the importer reads, the canonical header, other accepted headers."""

    key: str
    header: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def match(self, normalized: str) -> str | None:
        """The key for this normalized header, or None; `{n}` columns fill the number into the key."""
        for header in (self.header, *self.aliases):
            if "{n}" not in header:
                if normalize(header) == normalized:
                    return self.key
                continue
            before, after = (normalize(part) for part in header.split("{n}"))
            found = re.fullmatch(rf"{re.escape(before)}\s*(\d+)\s*{re.escape(after)}", normalized)
            if found:
                return self.key.format(n=int(found[1]))
        return None


@dataclass(frozen=True)
class Layout:
    """A kind of file: its name on the command line, its Russian name, its columns."""

    kind: str
    title: str
    columns: tuple[Column, ...]

    def key_of(self, header: str) -> str | None:
        """The column key a file header stands for, or None when this layout does not use it."""
        normalized = normalize(header)
        return next((k for c in self.columns if (k := c.match(normalized))), None)

    def required(self) -> list[Column]:
        """The columns every file of this kind must have."""
        return [c for c in self.columns if c.required]


def normalize(header: str) -> str:
    """A header as compared: lower case, ё as е, punctuation as spaces, spaces collapsed."""
    return " ".join(re.sub(r"[^\w]+", " ", header.casefold().replace("ё", "е")).split())


TEACHER_CODE = ("Учитель", "Табельный номер учителя", "Табельный номер", "Таб. №")
CLASS = Column("class", "Класс", required=True)
GROUP = Column("group", "Группа", ("Подгруппа",))
SUBJECT = Column("subject", "Предмет", ("Название предмета",), required=True)
FILE_NO = Column("file_no", "Номер личного дела", ("№ личного дела", "Личное дело"), required=True)
GUARDIAN = ("Представитель {n}: ", "Родитель {n}: ")


def _guardian(key: str, *names: str) -> Column:
    headers = [prefix + name for name in names for prefix in GUARDIAN]
    return Column(f"guardian.{{n}}.{key}", headers[0], tuple(headers[1:]))


LAYOUTS: dict[str, Layout] = {
    layout.kind: layout
    for layout in (
        Layout("teachers", "учителя", (
            Column("code", "Табельный номер", ("Таб. №", "Табельный №"), required=True),
            Column("last_name", "Фамилия", required=True),
            Column("first_name", "Имя", required=True),
            Column("middle_name", "Отчество"),
            Column("active", "Работает", ("Работает в школе",)),
        )),
        Layout("subjects", "предметы", (
            Column("name", "Предмет", ("Название предмета",), required=True),
            Column("short", "Краткое название", ("Сокращение",)),
        )),
        Layout("classes", "классы", (
            CLASS,
            Column("homeroom", "Классный руководитель (табельный номер)",
                   ("Классный руководитель", "Табельный номер классного руководителя")),
        )),
        Layout("students", "ученики", (
            FILE_NO,
            Column("last_name", "Фамилия", required=True),
            Column("first_name", "Имя", required=True),
            Column("middle_name", "Отчество"),
            Column("birth_date", "Дата рождения", required=True),
            CLASS,
            Column("enrolled_on", "Дата зачисления"),
            Column("left_on", "Дата выбытия"),
            Column("family", "Семья", ("Код семьи",)),
            Column("channel", "Дневник семьи", ("Способ получения дневника",)),
            _guardian("last_name", "Фамилия"),
            _guardian("first_name", "Имя"),
            _guardian("middle_name", "Отчество"),
            _guardian("phone", "Телефон"),
            _guardian("email", "Эл. почта", "E-mail", "Электронная почта"),
            _guardian("relation", "Кем приходится", "Степень родства"),
            _guardian("consent_on", "Согласие (дата)", "Дата согласия", "Согласие"),
            _guardian("consent_basis", "Основание согласия", "Согласие: основание"),
            _guardian("consent_channel", "Согласие: способ", "Способ по согласию"),
        )),
        Layout("groups", "группы", (
            CLASS,
            Column("group", "Группа", ("Подгруппа",), required=True),
            Column("subject", "Предмет", ("Название предмета",)),
            FILE_NO,
            Column("last_name", "Фамилия"),
            Column("first_name", "Имя"),
            Column("middle_name", "Отчество"),
        )),
        Layout("assignments", "нагрузка", (
            Column("teacher", "Учитель (табельный номер)", TEACHER_CODE, required=True),
            CLASS,
            GROUP,
            SUBJECT,
            Column("hours", "Часов в неделю", ("Часы в неделю", "Часов"), required=True),
        )),
        Layout("timetable", "расписание", (
            Column("weekday", "День недели", ("День",), required=True),
            Column("slot", "Урок", ("Номер урока", "№ урока"), required=True),
            CLASS,
            GROUP,
            SUBJECT,
            Column("teacher", "Учитель (табельный номер)", TEACHER_CODE, required=True),
            Column("valid_from", "Действует с", ("Действует с даты",)),
            Column("valid_to", "Действует по", ("Действует по дату",)),
        )),
    )
}


@dataclass
class Header:
    """Where the header row is, which kind it shows, and which column index holds which key."""

    line: int
    layout: Layout
    index: dict[str, int]  # column key -> position in the row
    names: dict[str, str]  # column key -> the header as written in the file
    unused: list[str]  # headers of this file that the layout does not use
    repeated: list[str]  # headers that name a column already seen


def score(layout: Layout, cells: list[Any]) -> tuple[int, int]:
    """How well a row fits a layout as a header: known headers, then how many of them are required."""
    keys = {key for c in cells if c is not None and (key := layout.key_of(as_text(c)))}
    return len(keys), sum(1 for column in layout.required() if column.key in keys)


def detect(rows: list[tuple[int, list[Any]]], kind: str | None) -> tuple[int, list[Any], list[Layout]]:
    """The header row (line, cells) among the first ten rows and the layouts that fit it best.

    The header is the first row with any known header; the best layouts are those knowing the most of
    its headers, then the most of their required ones (one layout, unless the file is ambiguous). With
    `kind` given, only that layout is tried.
    """
    candidates = [LAYOUTS[kind]] if kind else list(LAYOUTS.values())
    for line, cells in rows[:10]:
        scores = {layout.kind: score(layout, cells) for layout in candidates}
        best = max(scores.values())
        if best[0]:
            return line, cells, [layout for layout in candidates if scores[layout.kind] == best]
    return 0, [], []


def read_header(line: int, cells: list[Any], layout: Layout) -> Header:
    """Map a header row onto a layout's columns."""
    header = Header(line, layout, {}, {}, [], [])
    for position, cell in enumerate(cells):
        written = as_text(cell)
        if not written:
            continue
        key = layout.key_of(written)
        if key is None:
            header.unused.append(written)
        elif key in header.index:
            header.repeated.append(written)
        else:
            header.index[key], header.names[key] = position, written
    return header
