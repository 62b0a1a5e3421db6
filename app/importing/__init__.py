"""Spreadsheet import: teachers, subjects, classes, students with families, groups, teaching load, timetable.

    from app.importing import import_file
    result = import_file("students.xlsx", settings())   # commits, or raises ImportFailed and changes nothing

The layouts are in layouts.py and docs/import.md; `flask --app wsgi import FILE…` is the command.
"""

from app.importing.errors import ImportFailed, Problem
from app.importing.layouts import LAYOUTS
from app.importing.readers import Sheet, read_sheet
from app.importing.run import KINDS, Result, find_header, import_file, run_import

__all__ = ["KINDS", "LAYOUTS", "ImportFailed", "Problem", "Result", "Sheet", "find_header", "import_file",
           "read_sheet", "run_import"]
