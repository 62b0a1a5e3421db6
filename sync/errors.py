"""Exceptions of the sync engine.

    SyncError
    ├── BatchRejected      the hub refused a whole batch (4xx/503 with a code); nothing was applied
    │   └── Busy           the hub was busy (503, Retry-After); try again later with a smaller batch
    ├── BadAnswer          the answer was not a well-formed sync answer (captive portal, proxy, cut body)
    └── TransportError     the request could not be sent or the answer not received
"""

from __future__ import annotations

from sync.protocol import BATCH_ERRORS, CODES


class SyncError(Exception):
    """Root of every sync failure."""


class BatchRejected(SyncError):
    """A whole batch refused with a code, an HTTP status and a message in the staff's language."""

    def __init__(self, code: str, message: str | None = None, status: int | None = None) -> None:
        default_status, default_message = BATCH_ERRORS.get(code, (400, code))
        self.code = code
        self.status = status or default_status
        self.message = message or default_message
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, dict[str, str]]:
        """The JSON error body of the protocol."""
        return {"error": {"code": self.code, "message": self.message}}


class Busy(BatchRejected):
    """The hub is busy; `retry_after` seconds is its hint."""

    def __init__(self, retry_after: float = 5.0, message: str | None = None) -> None:
        super().__init__("busy", message, 503)
        self.retry_after = retry_after


class BadAnswer(SyncError):
    """An answer that is not a sync answer for the batch sent."""


class TransportError(SyncError):
    """The network failed: nothing is known about whether the hub applied the batch."""


class RecordRefused(SyncError):
    """A change the school's rules do not allow; nothing was written to the outbox."""

    def __init__(self, code: str, field_name: str | None = None) -> None:
        self.code = code
        self.field = field_name
        message = CODES.get(code, code)
        self.message = f"{message} (поле {field_name})" if field_name else message
        super().__init__(f"{code}: {self.message}")


class NotConnected(SyncError):
    """The machine has not been connected to a hub yet (`tetrad-sync init`)."""

    def __init__(self) -> None:
        super().__init__("Компьютер не подключён к серверу школы: выполните "
                         "«tetrad-sync init --hub АДРЕС --token КЛЮЧ».")
