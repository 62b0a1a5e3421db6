"""The weekly timetable: every class's hours placed in its days so that no teacher is in two places at once.

ALGORITHM:
1. Each class gets a fixed number of lessons per weekday (its hours spread evenly, the extra ones
   mid-week), always from the first slot, so that a class never has a gap in its day.
2. Classes are placed one by one, busiest first. Each hour is a block: one lesson, or the parallel lessons
   of a class split into groups, where every group has its own teacher.
3. A block goes to the free cell of its class where all its teachers are free, preferring a day that does
   not have that subject yet and, for difficult subjects, the middle of the day.
4. When no such cell is left, the block takes the cell of a placed block that can itself move to a
   free cell; when that fails too, the class is cleared and placed again in another order.
5. Finally, pairs of the class's lessons swap cells while that lowers the penalty (a subject twice in
   a day, a difficult subject first or late) and every teacher stays free.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

# Weekdays in the order they get one lesson more than the others: the middle of the week first.
_EXTRA_ORDER = (2, 3, 4, 1, 5, 6, 7)
ATTEMPTS = 80


class SchedulingError(RuntimeError):
    """The hours cannot be placed without double-booking a teacher."""


@dataclass(frozen=True)
class Part:
    """One group's (or the whole class's) lesson within a block."""

    group_id: str | None
    subject_id: str
    teacher_id: str


Block = tuple[Part, ...]
Cell = tuple[int, int]  # weekday, slot


def day_lengths(hours: int, days: int, slots: int) -> dict[int, int]:
    """Lessons per weekday for a class with these weekly hours."""
    base, extra = divmod(hours, days)
    lengths = {day: base for day in range(1, days + 1)}
    for day in [d for d in _EXTRA_ORDER if d <= days][:extra]:
        lengths[day] += 1
    if max(lengths.values()) > slots:
        raise SchedulingError(f"{hours} ч в неделю не помещаются в {days} дней по {slots} уроков")
    return lengths


class Scheduler:
    """Places classes' blocks into cells, keeping track of which teacher is busy when."""

    def __init__(self, rng: random.Random, difficult: Collection[str] = ()) -> None:
        self.rng = rng
        self.difficult = difficult
        self.busy: dict[tuple[str, int, int], str] = {}

    def place(self, class_id: str, blocks: Sequence[Block], lengths: dict[int, int]) -> dict[Cell, Block]:
        """Place one class's blocks; return its grid (cell → block)."""
        cells = [(day, slot) for day, count in lengths.items() for slot in range(1, count + 1)]
        if len(cells) != len(blocks):
            raise SchedulingError(f"{len(blocks)} уроков на {len(cells)} мест")
        load = {t: sum(1 for key in self.busy if key[0] == t) for b in blocks for t in _teachers(b)}
        hours = Counter(b[0].subject_id for b in blocks)
        for _attempt in range(ATTEMPTS):
            order = sorted(
                blocks,
                key=lambda b: (
                    -sum(load[t] for t in _teachers(b)),
                    -hours[b[0].subject_id],
                    self.rng.random(),
                ),
            )
            grid: dict[Cell, Block] = {}
            if all(
                self._put_best(class_id, b, grid, cells) or self._swap_in(class_id, b, grid, cells)
                for b in order
            ):
                self._polish(class_id, grid)
                return dict(sorted(grid.items()))
            for cell, block in list(grid.items()):
                self._remove(block, cell, grid)
        raise SchedulingError(f"не удалось составить расписание класса {class_id}")

    def _free(self, block: Block, cell: Cell, ignore: Block = ()) -> bool:
        """Whether every teacher of the block is free in this cell (or busy only with `ignore`)."""
        others = _teachers(ignore)
        return all((t, *cell) not in self.busy or t in others for t in _teachers(block))

    def _score(self, block: Block, cell: Cell, grid: dict[Cell, Block]) -> float:
        """Lower is better: spread a subject over the week, difficult subjects in slots 2–4."""
        subject = block[0].subject_id
        same_day = sum(
            1 for (day, _), other in grid.items() if day == cell[0] and other[0].subject_id == subject
        )
        edge = 1.0 if subject in self.difficult and (cell[1] == 1 or cell[1] >= 6) else 0.0
        return 10.0 * same_day + edge + self.rng.random()

    def _penalty(self, grid: dict[Cell, Block]) -> float:
        """How far a grid is from the ideal: a subject twice in a day, difficult ones at the edges."""
        per_day = Counter((day, block[0].subject_id) for (day, _), block in grid.items())
        edges = sum(
            1
            for (_, slot), block in grid.items()
            if block[0].subject_id in self.difficult and (slot == 1 or slot >= 6)
        )
        return 10.0 * sum(count - 1 for count in per_day.values()) + edges

    def _polish(self, class_id: str, grid: dict[Cell, Block]) -> None:
        """Swap pairs of the class's lessons while that lowers the penalty and keeps teachers free."""
        best = self._penalty(grid)
        improved = True
        while improved:
            improved = False
            cells = list(grid)
            for i, first in enumerate(cells):
                for second in cells[i + 1 :]:
                    a, b = grid[first], grid[second]
                    if a[0].subject_id == b[0].subject_id:
                        continue
                    if not (self._free(a, second, ignore=b) and self._free(b, first, ignore=a)):
                        continue
                    grid[first], grid[second] = b, a
                    penalty = self._penalty(grid)
                    if penalty < best:
                        self._exchange(class_id, (a, first), (b, second))
                        best, improved = penalty, True
                    else:
                        grid[first], grid[second] = a, b

    def _exchange(self, class_id: str, one: tuple[Block, Cell], other: tuple[Block, Cell]) -> None:
        """Swap two blocks' cells in the busy map (a teacher may be in both blocks)."""
        for block, cell in (one, other):
            for teacher in _teachers(block):
                del self.busy[(teacher, *cell)]
        for (block, _), (_, cell) in ((one, other), (other, one)):
            for teacher in _teachers(block):
                self.busy[(teacher, *cell)] = class_id

    def _put_best(self, class_id: str, block: Block, grid: dict[Cell, Block], cells: list[Cell]) -> bool:
        """Put the block into its best free cell, if there is one."""
        options = [c for c in cells if c not in grid and self._free(block, c)]
        if not options:
            return False
        self._add(class_id, block, min(options, key=lambda c: self._score(block, c, grid)), grid)
        return True

    def _swap_in(self, class_id: str, block: Block, grid: dict[Cell, Block], cells: list[Cell]) -> bool:
        """Take a placed block's cell and move that block to a free cell."""
        free = [c for c in cells if c not in grid]
        for taken, other in list(grid.items()):
            if not self._free(block, taken, ignore=other):
                continue
            target = next((c for c in free if self._free(other, c)), None)
            if target is not None:
                self._remove(other, taken, grid)
                self._add(class_id, other, target, grid)
                self._add(class_id, block, taken, grid)
                return True
        return False

    def _add(self, class_id: str, block: Block, cell: Cell, grid: dict[Cell, Block]) -> None:
        grid[cell] = block
        for teacher in _teachers(block):
            self.busy[(teacher, *cell)] = class_id

    def _remove(self, block: Block, cell: Cell, grid: dict[Cell, Block]) -> None:
        del grid[cell]
        for teacher in _teachers(block):
            del self.busy[(teacher, *cell)]


def _teachers(block: Block) -> list[str]:
    return [part.teacher_id for part in block]
