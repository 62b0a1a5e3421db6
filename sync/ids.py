"""Derived record ids: two machines that create "the same" lesson offline create the same id.

    >>> lesson_id("c-7b", None, "2026-11-16", 3)
    '...'
"""

from __future__ import annotations

import hashlib
import random
import string
import uuid

NAMESPACE = uuid.UUID("6f1c4a52-5d0e-4c8e-9a51-7b2f0d3e9c11")


def derived(name: str) -> str:
    """uuid5 of the protocol namespace and a key name, as a string (RFC 4122 §4.3, what `uuid.uuid5` makes, without
    building the UUID object: the hub derives an id for thousands of ops in a batch)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_NAMESPACE_BYTES = NAMESPACE.bytes


def lesson_id(class_id: str, group_id: str | None, date: str, slot: int) -> str:
    """Id of the lesson of a class (or group) on a date (YYYY-MM-DD) in a slot."""
    return derived(f"lesson:{class_id}:{group_id or ''}:{date}:{int(slot)}")


def attendance_id(lesson: str, student: str) -> str:
    """Id of a student's attendance row in a lesson."""
    return derived(f"attendance:{lesson}:{student}")


def period_grade_id(student: str, subject: str, period: str) -> str:
    """Id of a student's period mark in a subject."""
    return derived(f"period_grade:{student}:{subject}:{period}")


PREFIX_ALPHABET = string.ascii_lowercase + string.digits


def op_prefix(rng: random.Random | None = None) -> str:
    """A machine's random op id prefix (10 letters and digits, about 52 bits), made once per outbox."""
    return "".join((rng or random.SystemRandom()).choice(PREFIX_ALPHABET) for _ in range(10))


def op_id(prefix: str, seq: int, stamp: str) -> str:
    """An op's id: `<prefix>.<seq>.<hlc>`. Unique: the prefix is the machine's, and its (seq, HLC) never repeat
    (after a restore from an old backup a seq may come again, but with a later HLC). Gzipped in a batch it costs a
    few bytes where a random UUID costs 18: the prefix repeats, the seq counts up, the HLC is the op's own."""
    return f"{prefix}.{seq}.{stamp}"
