"""Rarer garbage collections while a large batch of work builds many short-lived objects.

A sync batch makes hundreds of thousands of dicts, lists and records that all die with it; at the default
thresholds the collector runs a young collection every 700 of them and full ones as the heap grows, about 14 %
of a batch's CPU (measured on the sync bench). Inside `fewer_collections` a young collection runs every `young`
allocations instead (cycles are still collected), full ones rarely; the thresholds are restored when the last
thread inside leaves.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = [0]
_saved: list[tuple[int, int, int]] = []


@contextlib.contextmanager
def fewer_collections(young: int = 100_000) -> Iterator[None]:
    """Raise the collector's thresholds inside the block (threads inside at once share one setting)."""
    with _lock:
        if _depth[0] == 0:
            saved = gc.get_threshold()
            _saved[:] = [saved]
            gc.set_threshold(max(saved[0], young), saved[1], max(saved[2], 100))
        _depth[0] += 1
    try:
        yield
    finally:
        with _lock:
            _depth[0] -= 1
            if _depth[0] == 0:
                gc.set_threshold(*_saved[0])
