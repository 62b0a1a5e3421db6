"""Reading one cell: text, dates, class names, weekdays, lesson numbers, hours, phones, yes/no.

Every parser takes the raw cell (str, int, float, date or None) and returns the value or raises
CellError with a Russian message that quotes what was written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from app.importing.errors import CellError

WEEKDAYS = {
    "пн": 1, "понедельник": 1, "вт": 2, "вторник": 2, "ср": 3, "среда": 3, "чт": 4, "четверг": 4,
    "пт": 5, "пятница": 5, "сб": 6, "суббота": 6, "вс": 7, "воскресенье": 7,
}
WEEKDAY_SHORT = {1: "пн", 2: "вт", 3: "ср", 4: "чт", 5: "пт", 6: "сб", 7: "вс"}
YES = {"да", "д", "1", "+", "true", "yes"}
NO = {"нет", "н", "0", "-", "false", "no"}
CHANNELS = {
    "ссылка": "link", "электронный": "link", "электронно": "link",
    "бумага": "paper", "бумажный": "paper", "на бумаге": "paper",
    "оба": "both", "ссылка и бумага": "both", "электронный и бумажный": "both",
}
# Latin letters that look Cyrillic, typed by mistake in class names: 7A, 5B, 10C.
LOOKALIKES = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")

_DATE_RU = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_CLASS = re.compile(r"^(\d{1,2})\s*[-–]?\s*([А-ЯЁ]{0,2})$")
_PHONE = re.compile(r"^\+?[\d\s()\-]+$")


def is_empty(raw: Any) -> bool:
    """Whether the cell holds nothing but spaces."""
    return raw is None or (isinstance(raw, str) and not raw.strip())


def as_text(raw: Any) -> str:
    """The cell as text: spaces collapsed, whole numbers without `.0`, dates as 16.11.2026."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "да" if raw else "нет"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.date):
        return show_date(raw)
    return " ".join(str(raw).replace("\u00a0", " ").split())


def name_key(value: str) -> str:
    """A name compared the way people read it: case, ё/е and spacing ignored."""
    return " ".join(value.casefold().replace("ё", "е").split())


def show_date(day: dt.date) -> str:
    """A date as a Russian school writes it: 16.11.2026."""
    return day.strftime("%d.%m.%Y")


def text(limit: int) -> Callable[[Any], str]:
    """A parser of free text of at most `limit` characters."""

    def parse(raw: Any) -> str:
        value = as_text(raw)
        if len(value) > limit:
            raise CellError(f"слишком длинное значение ({len(value)} знаков, можно не больше {limit})")
        return value

    return parse


def date(raw: Any) -> dt.date:
    """A date: a real date cell, DD.MM.YYYY or YYYY-MM-DD."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    value = as_text(raw)
    match = _DATE_RU.match(value)
    parts = (match[3], match[2], match[1]) if match else None
    if parts is None and (match := _DATE_ISO.match(value)):
        parts = (match[1], match[2], match[3])
    try:
        if parts is None:
            raise ValueError(value)
        day = dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
        if not 1900 <= day.year <= 2100:
            raise ValueError(value)
        return day
    except ValueError:
        raise CellError(f"«{value}» — не дата; нужна дата ДД.ММ.ГГГГ или ГГГГ-ММ-ДД") from None


def class_name(raw: Any) -> tuple[int, str]:
    """A class as (grade, letter) from 7Б, 7 Б, 7-б, 10А or 5 (a class without a letter)."""
    value = as_text(raw)
    cleaned = value.upper().translate(LOOKALIKES)
    for quote in "«»\"'":
        cleaned = cleaned.replace(quote, "")
    match = _CLASS.match(cleaned.strip())
    if not match:
        raise CellError(f"«{value}» — не название класса; нужна параллель и буква, например 7Б")
    grade = int(match[1])
    if not 1 <= grade <= 11:
        raise CellError(f"класс «{value}»: параллель должна быть от 1 до 11")
    return grade, match[2]


def weekday(raw: Any) -> int:
    """A weekday, 1 = Monday: пн … вс, the full name, or 1–7."""
    value = as_text(raw)
    key = value.casefold().rstrip(".")
    if key in WEEKDAYS:
        return WEEKDAYS[key]
    if key.isdigit() and 1 <= int(key) <= 7:
        return int(key)
    raise CellError(f"«{value}» — не день недели; нужно пн, вт, ср, чт, пт, сб или число от 1 до 7")


def whole_number(raw: Any) -> int:
    """A whole number written as 3 (text or number cell)."""
    value = as_text(raw)
    if not value.isdigit():
        raise CellError(f"«{value}» — не целое число")
    return int(value)


def hours(raw: Any) -> float:
    """Hours per week: more than 0 and at most 20, a decimal comma or point allowed (1,5)."""
    value = as_text(raw)
    try:
        number = float(raw) if isinstance(raw, int | float) else float(value.replace(",", "."))
    except ValueError:
        raise CellError(f"«{value}» — не число") from None
    if not 0 < number <= 20:
        raise CellError(f"«{value}»: часов в неделю должно быть больше 0 и не больше 20")
    return number


def yes_no(raw: Any) -> bool:
    """да or нет (also 1/0, +/-)."""
    value = as_text(raw)
    key = value.casefold()
    if key in YES:
        return True
    if key in NO:
        return False
    raise CellError(f"«{value}»: нужно «да» или «нет»")


def channel(raw: Any) -> str:
    """How a family gets the diary: ссылка (link), бумага (paper) or оба (both)."""
    value = as_text(raw)
    key = name_key(value)
    if key in CHANNELS:
        return CHANNELS[key]
    raise CellError(f"«{value}»: нужно «ссылка», «бумага» или «оба»")


def phone(raw: Any) -> str:
    """A phone number; full Russian numbers become +7XXXXXXXXXX, others (short rural ones) stay as written."""
    value = as_text(raw)
    digits = re.sub(r"\D", "", value)
    if not _PHONE.match(value) or not 5 <= len(digits) <= 15 or len(value) > 30:
        raise CellError(f"«{value}» — не номер телефона")
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and not value.startswith("+"):
        return "+7" + digits
    return value


def email(raw: Any) -> str:
    """An e-mail address (only its shape is checked: something@something)."""
    value = as_text(raw)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", value) or len(value) > 200:
        raise CellError(f"«{value}» — не адрес электронной почты")
    return value
