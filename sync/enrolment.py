"""The one enrolment rule: a student belongs to a class from `enrolled_on` up to, not including, `left_on`.

The sync rules (can a mark be given in this lesson?), the pull (is the student active?), the staff pages, the
paper and the enrolment history all ask it, on the hub and on classroom machines alike.

    >>> import datetime as dt
    >>> enrolled(dt.date(2026, 9, 1), dt.date(2026, 11, 10), dt.date(2026, 11, 10))
    False
"""

from __future__ import annotations

import datetime as dt


def enrolled(enrolled_on: dt.date, left_on: dt.date | None, first: dt.date, last: dt.date | None = None) -> bool:
    """Whether the student was enrolled on some day from `first` to `last` (both included; one day by default)."""
    return enrolled_on <= (last or first) and (left_on is None or left_on > first)
