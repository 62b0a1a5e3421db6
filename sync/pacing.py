"""Exchanges sized to the link: how many ops a batch and how many records a pull page may carry.

A classroom machine's link may be a school's fibre or a GPRS modem that carries 6 KB/s and drops every
connection every half minute. An exchange that cannot finish between two cuts is sent again and again, so
the client sizes each one from what the link has carried lately.

ALGORITHM (one `Pace` per kind of exchange: "push" counts ops, "pull" counts records):
1. Every exchange is measured: bytes up and down (the bodies) and seconds from send to answer. The link's
   throughput is a moving average of (bytes up + bytes down) / seconds over successful exchanges that carried
   at least half their size (a near-empty one is all round trips); the bytes a unit costs (an op with its
   result, a pulled record) likewise. Connection set-up and round trips are in the
   seconds, so the estimate is conservative for small exchanges and exact at the size it settles on.
2. The size that fits is `target * throughput / bytes per unit`. The target is a sixth of the time the link
   stays up (a moving average of the time from one cut or timeout to the next while the client was
   exchanging), so about one exchange in six meets a cut; at least 2 s, at most `target_seconds` (6 s by
   default, also while no cut has been seen).
3. After a success the size grows slowly (by a quarter, at least one) up to what fits; after a failure (a
   cut, a timeout, a damaged answer, a busy hub) it halves at once. Always between 1 and the hub's limit.
4. The learned sizes, throughput and costs are kept in the client's store (`meta.link`), so the next run
   starts where the last ended, and `link_report()` can show them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

TARGET_SECONDS = 6.0
FIRST_BATCH = 50
FIRST_PAGE = 100
SMOOTHING = 0.3  # weight of the newest measurement in the moving averages
UPTIME_SHARE = 6  # an exchange takes at most this fraction of the time between cuts
MIN_TARGET = 2.0


@dataclass
class Pace:
    """The learned size of one kind of exchange and what a unit of it costs on the wire."""

    size: int
    unit_bytes: float | None = None  # bytes (up + down) per op or per record, measured

    def fit(self, throughput: float | None, target_seconds: float, limit: int) -> int:
        """The size an exchange should have now: what fits the target time, never over the limit."""
        size = self.size
        if throughput and self.unit_bytes:
            size = min(size, max(1, int(target_seconds * throughput / self.unit_bytes)))
        return max(1, min(size, limit))


@dataclass
class Link:
    """What the client has learned of its link, as kept in the store between runs."""

    push: Pace = field(default_factory=lambda: Pace(FIRST_BATCH))
    pull: Pace = field(default_factory=lambda: Pace(FIRST_PAGE))
    throughput: float | None = None  # bytes per second, both directions together
    uptime: float | None = None  # seconds the link stays up between cuts, when cuts were seen
    seconds: float | None = None  # the last successful exchange's duration
    exchanges: int = 0
    failures: int = 0  # in a row
    bytes_up: int = 0  # since the store was made, for `status` and the bench
    bytes_down: int = 0

    @classmethod
    def load(cls, data: Any, first_batch: int = FIRST_BATCH, first_page: int = FIRST_PAGE) -> Link:
        """The stored state, or a fresh one (small first exchanges) when there is none or it is unreadable."""
        fresh = cls(Pace(first_batch), Pace(first_page))
        if not isinstance(data, dict):
            return fresh
        try:
            return cls(
                push=Pace(max(1, int(data["push"]["size"])), _positive(data["push"].get("unit_bytes"))),
                pull=Pace(max(1, int(data["pull"]["size"])), _positive(data["pull"].get("unit_bytes"))),
                throughput=_positive(data.get("throughput")), uptime=_positive(data.get("uptime")),
                seconds=_positive(data.get("seconds")),
                exchanges=int(data.get("exchanges", 0)), failures=int(data.get("failures", 0)),
                bytes_up=int(data.get("bytes_up", 0)), bytes_down=int(data.get("bytes_down", 0)),
            )
        except (KeyError, TypeError, ValueError):
            return fresh

    def to_json(self) -> dict[str, Any]:
        """The form kept in the store."""
        return asdict(self)

    def report(self) -> dict[str, Any]:
        """What is learned of the link: batch_ops / page_records, the sizes the next exchanges start from;
        bytes_per_second, the measured throughput (both directions together; None before the first exchange)."""
        return {
            "batch_ops": self.push.size,
            "page_records": self.pull.size,
            "bytes_per_second": round(self.throughput) if self.throughput else None,
            "seconds_per_exchange": round(self.seconds, 2) if self.seconds else None,
            "seconds_between_cuts": round(self.uptime, 1) if self.uptime else None,
            "failures_in_a_row": self.failures,
        }

    def succeeded(self, pace: Pace, units: int, sent: int, received: int, seconds: float, limit: int,
                  target_seconds: float) -> None:
        """Learn from an exchange that carried `units` ops or records; grow that kind's size a little."""
        self.exchanges += 1
        self.failures = 0
        self.bytes_up += sent
        self.bytes_down += received
        seconds = max(seconds, 1e-3)
        self.seconds = seconds
        if units * 2 < pace.size and self.throughput is not None:
            return  # a small exchange (the outbox's tail, an empty page) says little of the link
        self.throughput = _average(self.throughput, (sent + received) / seconds)
        if units:
            pace.unit_bytes = _average(pace.unit_bytes, (sent + received) / units)
        if units >= pace.size:  # only a full exchange says the size is not too small
            pace.size = max(pace.size + 1, int(pace.size * 1.25))
        pace.size = pace.fit(self.throughput, target_seconds, limit)

    def target(self, target_seconds: float) -> float:
        """Seconds an exchange should take at most: a sixth of the link's uptime, within 2 s and `target_seconds`.

        Not under 2 s: a connection's set-up and round trips take about a second on a bad link, and an exchange
        that is mostly round trips carries little.
        """
        if self.uptime is None:
            return target_seconds
        return max(MIN_TARGET, min(target_seconds, self.uptime / UPTIME_SHARE))

    def cut_after(self, seconds: float, lower_bound: bool = False) -> None:
        """The link was cut `seconds` after the previous cut, or (`lower_bound`) after the run began."""
        if lower_bound and self.uptime is not None and seconds <= self.uptime:
            return  # the link may have been up long before the run: this says nothing new
        self.uptime = _average(self.uptime, max(seconds, 1.0))

    def failed(self, pace: Pace, sent: int = 0) -> None:
        """An exchange was cut, timed out, came back damaged or found the hub busy: halve its size."""
        self.exchanges += 1
        self.failures += 1
        self.bytes_up += sent
        pace.size = max(1, pace.size // 2)

    def timeout(self, target_seconds: float) -> float:
        """The socket timeout for the next exchange: a few times the target, between 15 and 60 seconds."""
        return max(15.0, min(60.0, 3 * target_seconds))


def _average(old: float | None, new: float) -> float:
    return new if old is None else old + SMOOTHING * (new - old)


def _positive(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value > 0 else None
