"""Rarer garbage collections while a large piece of work builds many objects.

A sync batch makes hundreds of thousands of dicts, lists and records that all die with it; a site build (page
contexts for hundreds of families) and a PDF layout (WeasyPrint's boxes) make millions that live as long as the
work does. At the default thresholds the collector runs a young collection every 700 allocations and walks the
survivors again and again in full ones (about 14 % of a sync batch's CPU, 12 % of a site rebuild's). Inside
`fewer_collections` a young collection runs every `young` allocations instead (cycles are still collected), full
ones rarely; threads inside at once share one setting, restored when the last of them leaves.
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
