"""Rows of a CSV or XLSX file, each with the line number staff see in their editor.

CSV: UTF-8 with or without BOM, else cp1251 (Excel on Russian Windows); the delimiter (`;`, `,` or tab)
is the one that splits the first lines into the most columns. XLSX: the first sheet, with real date and
number cells kept as such. Completely empty rows are dropped here.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.importing.errors import ImportFailed, Problem

DELIMITERS = (";", ",", "\t")


@dataclass
class Sheet:
    """A file's non-empty rows as (line number, cells); `file` is the name used in messages."""

    file: str
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)


def read_sheet(path: str | Path) -> Sheet:
    """Read a .csv or .xlsx file; raise ImportFailed when it cannot be read."""
    name = str(path)
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(name, [Problem(None, "файл не найден")])
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return Sheet(name, _xlsx_rows(path, name))
    if suffix == ".xls":
        raise ImportFailed(name, [Problem(None, "формат .xls не поддерживается: сохраните файл как .xlsx или CSV")])
    return Sheet(name, _csv_rows(decode(path.read_bytes()), name))


def decode(data: bytes) -> str:
    """Text of a CSV file: UTF-8 (BOM optional), else cp1251."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def sniff_delimiter(text: str) -> str:
    """The delimiter that gives the first non-empty lines the most columns (`;` on a tie)."""
    sample = [line for line in text.splitlines()[:20] if line.strip()][:5]
    best, best_width = ";", 0
    for delimiter in DELIMITERS:
        try:
            widths = Counter(len(row) for row in csv.reader(sample, delimiter=delimiter))
        except csv.Error:  # a damaged line; reading the file will report it with its line number
            continue
        width = max(widths, key=lambda w: (widths[w], w)) if widths else 0
        if width > best_width:
            best, best_width = delimiter, width
    return best


def _csv_rows(text: str, name: str) -> list[tuple[int, list[Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    rows: list[tuple[int, list[Any]]] = []
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFailed(name, [Problem(start, f"файл CSV повреждён ({exc})")]) from None
    return rows


def _xlsx_rows(path: Path, name: str) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        # openpyxl warns about Excel features it ignores (data validation, styles); they do not matter here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or mislabelled file
        raise ImportFailed(name, [Problem(None, f"не удалось открыть файл Excel ({exc})")]) from None
    try:
        if not book.worksheets:
            return []
        rows: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            cells = [_cell(v) for v in values]
            if any(c not in (None, "") for c in cells):
                rows.append((number, cells))
        return rows
    finally:
        book.close()


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, dt.datetime):
        return value.date()
    return value
