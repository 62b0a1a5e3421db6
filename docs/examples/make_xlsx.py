"""Write an example CSV as an Excel workbook the way a school's Excel holds it.

Dates become real date cells (shown DD.MM.YYYY), whole numbers become number cells (so that номер
личного дела arrives as 1001, not "1001"), and a title row is put above the header, as on printed lists.

    python docs/examples/make_xlsx.py                     # students.csv -> students.xlsx, here
    python docs/examples/make_xlsx.py timetable.csv out.xlsx
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import sys
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent


def typed(cell: str) -> object:
    """The cell as Excel would hold it: a date, a whole number, or text."""
    if match := re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{4})", cell):
        return dt.date(int(match[3]), int(match[2]), int(match[1]))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", cell):
        return dt.date.fromisoformat(cell)
    if re.fullmatch(r"[1-9]\d{0,8}", cell):
        return int(cell)
    return cell or None


def csv_to_xlsx(source: Path, target: Path, title: str | None = "Список из школьной базы") -> None:
    """Convert one example CSV (UTF-8, `;` or `,`) into an .xlsx workbook with typed cells."""
    text = source.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.splitlines()[0].count(";") >= text.splitlines()[0].count(",") else ","
    book = Workbook()
    sheet = book.active
    sheet.title = source.stem
    if title:
        sheet.append([title])
    for number, cells in enumerate(csv.reader(text.splitlines(), delimiter=delimiter)):
        sheet.append(cells if number == 0 else [typed(c) for c in cells])
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, dt.date):
                cell.number_format = "DD.MM.YYYY"
    book.save(target)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "students.csv"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else source.with_suffix(".xlsx")
    csv_to_xlsx(source, target)
    print(f"{target}")
