"""What a sync did and how it is told to a teacher, in Russian: the report, its one-line summary, plural forms."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sync.errors import BatchRejected, Busy, SyncError

OUTCOME_WORDS = {
    "applied": "принято", "duplicate": "уже было на сервере", "superseded": "перекрыто более поздними",
    "conflict": "с конфликтом", "held": "ждут утверждения", "rejected": "отклонено", "queued": "ждут очереди",
}


@dataclass
class SyncReport:
    """What one sync did."""

    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    pulled: int = 0
    backlog: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the sync finished: everything pushed and pulled to the end."""
        return self.error is None

    def summary(self) -> str:
        """One line for cron's mail or the teacher's screen, in Russian."""
        detail = ", ".join(f"{OUTCOME_WORDS.get(k, k)} {n}" for k, n in sorted(self.outcomes.items()))
        sent = f"отправлено {self.sent} {plural(self.sent, 'операция', 'операции', 'операций')}"
        sent += f" ({detail})" if detail else ""
        tail = f"{sent}, получено изменений {self.pulled}, в очереди {self.backlog}."
        if self.error:
            return f"Синхронизация не завершена: {self.error} Итого: {tail}"
        return f"Синхронизация выполнена: {tail}"


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for `n` (1 операция, 2 операции, 5 операций)."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def describe(exc: SyncError) -> str:
    """A failure as one Russian sentence for the teacher (with the hub's code when it sent one)."""
    if isinstance(exc, BatchRejected) and not isinstance(exc, Busy):
        return f"{exc.message.rstrip('.')} ({exc.code})."
    text = str(getattr(exc, "message", None) or exc)
    return text if text.endswith(".") else f"{text}."
