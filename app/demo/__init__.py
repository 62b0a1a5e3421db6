"""The demo school: a realistic Russian school built deterministically from a seed.

`build_school` plans the reference data (classes, students, families, teachers, timetable) as unsaved
models, `write_school` stores them, and `journal.demo_devices` produces the protocol ops that classroom
machines would have sent for the current period so far. Every id is derived from the seed, so two
builds with the same seed are identical.
"""

from __future__ import annotations

import uuid

DEFAULT_SEED = 2026
NAMESPACE = uuid.UUID("b3a5e0c2-1f7d-4e0a-9d3c-5a8e2f61c7d4")


def demo_id(seed: int, *parts: object) -> str:
    """A record id derived from the seed and a key, the same on every build."""
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in (seed, *parts))))
