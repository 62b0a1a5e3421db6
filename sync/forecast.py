"""The weighted average of a subject's marks and the forecast of the period mark (000 §4, 001 §2.7).

RULE (configured in config.yaml `marks`):
1. Only numeric marks (5 4 3 2 1) count; зачёт/незачёт do not. Each mark weighs its work type's `weight`
   (a контрольная counts twice an устный ответ); an unknown work type weighs 1.
2. The average is rounded to two places, as it is shown (4,25), and the forecast is read from the rounded
   value, so a family never sees "4,60" beside a forecast of 4: ≥ forecast_thresholds["5"] → 5,
   ≥ ["4"] → 4, ≥ ["3"] → 3, else 2.
3. With fewer numeric marks than a fair period mark needs (min_marks_one_hour for a subject taught one hour
   a week or less, min_marks_more_hours otherwise; 002 instr. §3.3) the forecast is "недостаточно отметок".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

NOT_ENOUGH = "недостаточно отметок"


def numeric(value: str) -> int | None:
    """The number of a numeric mark, or None for зачёт, незачёт and the like."""
    return int(value) if value.isdigit() else None


def weighted_average(marks: Iterable[tuple[str, str]], weights: Mapping[str, float]) -> float | None:
    """The weighted average of (value, work type) pairs, rounded to 2 places; None without numeric marks."""
    total = weight_sum = 0.0
    for value, work_type in marks:
        number = numeric(value)
        if number is None:
            continue
        weight = weights.get(work_type, 1.0)
        total += number * weight
        weight_sum += weight
    return round(total / weight_sum + 1e-9, 2) if weight_sum else None


def marks_needed(hours_per_week: float, one_hour: int, more_hours: int) -> int:
    """How many marks a fair period mark needs for a subject with these hours a week."""
    return one_hour if hours_per_week <= 1 else more_hours


@dataclass(frozen=True)
class Forecast:
    """A subject's average and the forecast read from it."""

    average: float | None
    count: int
    needed: int
    mark: str  # "5", "4", "3", "2" or NOT_ENOUGH


def forecast(marks: list[tuple[str, str]], weights: Mapping[str, float], thresholds: Mapping[str, float],
             needed: int) -> Forecast:
    """The forecast of the period mark from the period's marks so far."""
    average = weighted_average(marks, weights)
    count = sum(1 for value, _ in marks if numeric(value) is not None)
    if average is None or count < needed:
        return Forecast(average, count, needed, NOT_ENOUGH)
    for mark in ("5", "4", "3"):
        if average >= thresholds[mark]:
            return Forecast(average, count, needed, mark)
    return Forecast(average, count, needed, "2")
