"""What goes wrong in an import, located by file and line.

    ImportFailed          the file was not imported; carries every Problem found in it
    CellError             one cell cannot be read (raised by app.importing.values, caught per cell)

Problems print the way compilers print them, `FILE:LINE: message`, so that staff (and editors) can
jump to the row; a problem of the whole file (not found, unreadable) prints as `FILE: message`.
"""

from __future__ import annotations

from dataclasses import dataclass


class CellError(ValueError):
    """A cell's value cannot be used; the message is in Russian and names the value."""


@dataclass(frozen=True)
class Problem:
    """One error in a file: its line (None for the whole file) and a Russian message."""

    line: int | None
    message: str

    def format(self, file: str) -> str:
        """`FILE:LINE: message`, or `FILE: message` for the whole file."""
        return f"{file}:{self.line}: {self.message}" if self.line else f"{file}: {self.message}"


class ImportFailed(Exception):
    """The file was not imported (nothing was changed); `problems` lists every error found."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        super().__init__(f"{file}: {len(problems)} error(s)")
        self.file = file
        self.problems = problems

    def lines(self) -> list[str]:
        """Every problem as `FILE:LINE: message`, in file order."""
        ordered = sorted(self.problems, key=lambda p: p.line or 0)
        return [p.format(self.file) for p in ordered]
