"""Rarer garbage collections while a build or a layout makes many objects that live as long as it does.

A site build (page contexts for hundreds of families) and a PDF layout (WeasyPrint's boxes) allocate millions
of small objects that stay alive until the end: Python's default collector thresholds (700 allocations between
young collections) would walk all of them again and again in full collections. Inside `few_collections` the
young generation is collected every THRESHOLD allocations instead, and full collections come rarer still;
threads inside the block at once share one setting, restored when the last of them leaves.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

THRESHOLD = 100_000  # allocations between young collections inside the block (Python's default: 700)

_lock = threading.Lock()
_depth = [0]  # blocks running now
_saved: list[tuple[int, int, int]] = []  # the thresholds to restore when the last one ends


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Rarer garbage collections inside the block; young cycles are still collected."""
    with _lock:
        if _depth[0] == 0:
            saved = gc.get_threshold()
            _saved[:] = [saved]
            gc.set_threshold(max(saved[0], THRESHOLD), saved[1], max(saved[2], 100))
        _depth[0] += 1
    try:
        yield
    finally:
        with _lock:
            _depth[0] -= 1
            if _depth[0] == 0:
                gc.set_threshold(*_saved[0])
