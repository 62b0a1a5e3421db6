"""Hybrid logical clock: `"<unix ms, 13 digits>-<counter, 4 digits>"`, ordered as plain strings.

A clock moves forward from local time and from every HLC it sees, so that a write made after seeing
another always sorts after it, even when the machine's wall clock is wrong.

    >>> clock = Clock(now_ms=lambda: 1763734992123)
    >>> clock.tick()
    '1763734992123-0000'
    >>> clock.tick()
    '1763734992123-0001'
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sync import clock

PATTERN = re.compile(r"[0-9]{13}-[0-9]{4}")  # ASCII digits only; matched whole
ZERO = "0000000000000-0000"
MAX_COUNTER = 9999


def is_valid(value: object) -> bool:
    """Whether `value` is a well-formed HLC string."""
    return isinstance(value, str) and PATTERN.fullmatch(value) is not None


def make(ms: int, counter: int = 0) -> str:
    """Format an HLC from milliseconds and a counter."""
    return f"{ms:013d}-{counter:04d}"


def parse(value: str) -> tuple[int, int]:
    """Milliseconds and counter of an HLC string."""
    ms, counter = value.split("-")
    return int(ms), int(counter)


def wall_ms() -> int:
    """The school's clock (`sync.clock`) in unix milliseconds."""
    return clock.wall_ms()


def clamp(value: str, now_ms: int, max_skew_ms: int) -> str:
    """`value`, or the latest HLC allowed when it stands too far ahead of `now_ms`."""
    ceiling = make(now_ms + max_skew_ms, MAX_COUNTER)
    return value if value <= ceiling else make(now_ms + max_skew_ms, 0)


def after(candidate: str, floor: str) -> str:
    """`candidate`, or the next HLC after `floor` when `candidate` does not stand after it."""
    if candidate > floor:
        return candidate
    ms, counter = parse(floor)
    return make(ms, counter + 1) if counter < MAX_COUNTER else make(ms + 1, 0)


class Clock:
    """A hybrid logical clock for one replica."""

    def __init__(self, last: str = ZERO, now_ms: Callable[[], int] = wall_ms) -> None:
        self.last = last
        self._now_ms = now_ms

    def tick(self) -> str:
        """A new HLC for a local event, later than every HLC this clock has issued or seen."""
        ms, counter = parse(self.last)
        now = self._now_ms()
        if now > ms:
            ms, counter = now, 0
        elif counter < MAX_COUNTER:
            counter += 1
        else:
            ms, counter = ms + 1, 0
        self.last = make(ms, counter)
        return self.last

    def observe(self, seen: str) -> None:
        """Move forward past an HLC received from elsewhere (an answer's hub_time, a pulled write)."""
        if is_valid(seen) and seen > self.last:
            self.last = seen
