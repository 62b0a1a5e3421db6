"""Derived record ids: two machines that create "the same" lesson offline create the same id.

    >>> lesson_id("c-7b", None, "2026-11-16", 3)
    '...'
"""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("6f1c4a52-5d0e-4c8e-9a51-7b2f0d3e9c11")


def derived(name: str) -> str:
    """uuid5 of the protocol namespace and a key name, as a string."""
    return str(uuid.uuid5(NAMESPACE, name))


def lesson_id(class_id: str, group_id: str | None, date: str, slot: int) -> str:
    """Id of the lesson of a class (or group) on a date (YYYY-MM-DD) in a slot."""
    return derived(f"lesson:{class_id}:{group_id or ''}:{date}:{int(slot)}")


def attendance_id(lesson: str, student: str) -> str:
    """Id of a student's attendance row in a lesson."""
    return derived(f"attendance:{lesson}:{student}")


def period_grade_id(student: str, subject: str, period: str) -> str:
    """Id of a student's period mark in a subject."""
    return derived(f"period_grade:{student}:{subject}:{period}")
