"""The school's order of classes: by grade, then letter (1А, 1Б, 2А … 10А, 11А), never by text (10А, 11А, 1А).

One place for it: every list of classes, and every list named after classes (machines «Ноутбук 7А, 7Б»),
sorts with these keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol, TypeVar

_NUMBER = re.compile(r"(\d+)")
LATIN_LOOKALIKES = str.maketrans("ABEKMHOPCTXY", "АВЕКМНОРСТХУ")  # a class letter typed on a Latin layout


class _Class(Protocol):
    grade: int
    letter: str


C = TypeVar("C", bound=_Class)


def class_key(school_class: _Class) -> tuple[int, str]:
    """Sort key of a class: its grade, then its letter."""
    return (school_class.grade, school_class.letter or "")


def sorted_classes(classes: Iterable[C]) -> list[C]:
    """Classes in the school's order."""
    return sorted(classes, key=class_key)


def name_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key of a text that holds class names (7Б, «Ноутбук 10А, 10Б»): numbers compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold()) for part in _NUMBER.split(text) if part)
