"""The weighted average and the forecast of the period mark: the rule lives in `sync.forecast`, the lowest layer
that needs it (the hub's pages and paper, and the classroom journal's grid, read the same code)."""

from __future__ import annotations

from sync.forecast import NOT_ENOUGH, Forecast, forecast, marks_needed, numeric, weighted_average

__all__ = ["NOT_ENOUGH", "Forecast", "forecast", "marks_needed", "numeric", "weighted_average"]
