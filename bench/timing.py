"""What every benchmark shares: the fixed clock, timing (wall and CPU), medians and the printed lines.

The machine a benchmark runs on is often busy with other work, so absolute times are noisy: each figure is
measured `repeats` times (3 by default, 1 with --quick) alternating with its baseline, the median is printed
beside the baseline's median and their ratio. CPU seconds (this process and its finished children) are printed
too: on a loaded machine they move far less than wall-clock seconds, and their ratio tells whether a change
made the work itself cheaper.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from typing import Any

from sync import clock

MOSCOW = dt.timezone(dt.timedelta(hours=3))
SITE_NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=MOSCOW)  # the demo school's day (app.demo.journal.DEMO_TODAY)
SYNC_NOW = dt.datetime(2026, 12, 19, 20, 0, tzinfo=MOSCOW)  # evening before the winter term's last week


@dataclass
class Settings:
    """How a run measures: repetitions per figure and the size of the sync workload."""

    repeats: int = 3
    quick: bool = False


RUN = Settings()


def migrate() -> None:
    """Bring the benchmark's fresh database to the current schema without Alembic's line per migration (its
    logging is configured inside `upgrade`, onto the stderr of that moment); an error still comes out whole."""
    from flask_migrate import upgrade

    log = io.StringIO()
    try:
        with redirect_stderr(log):
            upgrade()
    except BaseException:
        print(log.getvalue(), file=sys.stderr)
        raise


@dataclass
class Sample:
    """One measurement: wall-clock and CPU seconds."""

    wall: float
    cpu: float


@dataclass
class Samples:
    """Repeated measurements of one figure; medians of each."""

    items: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        """Median wall-clock seconds."""
        return statistics.median(s.wall for s in self.items)

    @property
    def cpu(self) -> float:
        """Median CPU seconds."""
        return statistics.median(s.cpu for s in self.items)

    def spread(self) -> str:
        """The wall-clock range of the repetitions, for the reader to judge the noise."""
        if len(self.items) < 2:
            return ""
        walls = sorted(s.wall for s in self.items)
        return f" [{walls[0]:.2f}–{walls[-1]:.2f}]"


def _cpu() -> float:
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def measure(into: Samples) -> Iterator[None]:
    """Time the block into `into` (CPU includes forked children that finished inside it)."""
    wall, cpu = time.perf_counter(), _cpu()
    yield
    into.items.append(Sample(time.perf_counter() - wall, _cpu() - cpu))


def fix_clock(moment: dt.datetime) -> None:
    """Run the school clock from a fixed moment, here and in the processes a benchmark starts."""
    clock.set_now(moment)


def line(label: str, figure: Samples, base: Samples, target: str = "", work: float = 1.0,
         base_work: float = 1.0, unit: str = "s") -> str:
    """`label: figure [range] (cpu) | baseline … | ratio …` with the ratio of rates (work per second)."""
    rate, base_rate = work / figure.wall, base_work / base.wall
    cpu_ratio = (work / figure.cpu) / (base_work / base.cpu) if figure.cpu and base.cpu else 0.0
    text = (f"  {label}: {figure.wall:.2f} {unit}{figure.spread()} (cpu {figure.cpu:.2f})"
            f" | baseline {base.wall:.2f} {unit}{base.spread()} (cpu {base.cpu:.2f})"
            f" | ratio {rate / base_rate:.2f} (cpu {cpu_ratio:.2f})")
    return text + (f"   target {target}" if target else "")


def repeat(count: int, *steps: Callable[[int], Any]) -> None:
    """Run the steps in turn `count` times (a figure and its baseline alternate, sharing the noise)."""
    for index in range(count):
        for step in steps:
            step(index)


def load_note() -> str:
    """The machine's load average when the run starts (to tell a loaded machine's figures apart)."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return ""
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"
