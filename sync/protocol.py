"""The wire contract of sync protocol v1 as data: entities, their fields, statuses and reason codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

VERSION: Final = 1

FINAL_STATUSES: Final = frozenset({"applied", "duplicate", "superseded", "conflict", "held", "rejected"})
ATTENDANCE_STATUSES: Final = ("present", "absent_excused", "absent_unexcused", "ill", "late")
REMARK_KINDS: Final = ("remark", "recommendation", "praise")
PERIOD_GRADE_STATUSES: Final = ("graded", "deferred", "not_assessed")


@dataclass(frozen=True)
class Field:
    """One field of a journal entity: its type, whether a creating upsert must carry it, and choices."""

    kind: str  # str, text, date, int, bool, ref:<entity>, enum, mark, work_type
    required: bool = True
    nullable: bool = False
    choices: tuple[str, ...] = ()
    key: bool = False  # part of the derived id: fixed once the record exists


JOURNAL: Final[dict[str, dict[str, Field]]] = {
    "lesson": {
        "date": Field("date", key=True),
        "slot": Field("int", key=True),
        "class": Field("ref:class", key=True),
        "group": Field("ref:group", required=False, nullable=True, key=True),
        "subject": Field("ref:subject"),
        "teacher": Field("ref:teacher"),
        "substitute": Field("bool"),
        "topic": Field("text"),
        "homework": Field("text", required=False),
        "homework_due": Field("date", required=False, nullable=True),
        "cancelled": Field("bool"),
    },
    "attendance": {
        "lesson": Field("ref:lesson", key=True),
        "student": Field("ref:student", key=True),
        "status": Field("enum", choices=ATTENDANCE_STATUSES),
    },
    "mark": {
        "lesson": Field("ref:lesson"),
        "student": Field("ref:student"),
        "value": Field("mark"),
        "work_type": Field("work_type"),
        "comment": Field("text", required=False),
    },
    "remark": {
        "student": Field("ref:student"),
        "date": Field("date"),
        "kind": Field("enum", choices=REMARK_KINDS),
        "subject": Field("ref:subject", required=False, nullable=True),
        "text": Field("text"),
    },
    "period_grade": {
        "student": Field("ref:student", key=True),
        "subject": Field("ref:subject", key=True),
        "period": Field("ref:period", key=True),
        "value": Field("mark", nullable=True),
        "status": Field("enum", choices=PERIOD_GRADE_STATUSES),
    },
    "test_plan": {
        "class": Field("ref:class"),
        "group": Field("ref:group", required=False, nullable=True),
        "subject": Field("ref:subject"),
        "date": Field("date"),
        "work_type": Field("work_type"),
        "title": Field("text"),
    },
}


def stored_values(entity: str, values: dict[str, Any]) -> dict[str, Any]:
    """A journal record's values as the hub stores and sends them: every field, unset text "", unset flags False."""
    out: dict[str, Any] = {"deleted": bool(values.get("deleted", False))}
    for name, spec in JOURNAL[entity].items():
        value = values.get(name)
        if value is None and spec.kind == "text":
            value = ""
        elif value is None and spec.kind == "bool":
            value = False
        out[name] = value
    return out

REFERENCE: Final = (
    "school", "period", "holiday", "class", "group", "student", "teacher", "subject", "assignment", "timetable",
    "timetable_change",
)

# Reason codes of a rejected or held op, with the message staff read.
CODES: Final[dict[str, str]] = {
    "bad_op": "Операция повреждена: не хватает обязательных полей или они неверного типа.",
    "bad_seq": "Неверный порядковый номер операции (seq).",
    "bad_hlc": "Неверная отметка времени операции (hlc).",
    "bad_entity": "Неизвестный вид записи.",
    "bad_action": "Неизвестное действие: допустимы upsert и delete.",
    "read_only": "Справочные данные меняются только на сервере школы.",
    "bad_id": "Идентификатор записи не совпадает с её ключом.",
    "bad_field": "Неизвестное поле записи.",
    "bad_value": "Недопустимое значение поля.",
    "missing_field": "Не хватает обязательного поля для новой записи.",
    "unknown_record": "Запись для удаления не найдена.",
    "unknown_student": "Ученик не найден.",
    "unknown_lesson": "Урок не найден.",
    "unknown_class": "Класс не найден.",
    "unknown_group": "Группа не найдена или не относится к классу.",
    "unknown_subject": "Предмет не найден.",
    "unknown_teacher": "Учитель не найден.",
    "unknown_author": "Автор записи не найден среди учителей.",
    "unknown_period": "Учебный период не найден.",
    "student_not_in_class": "Ученик не учится в этом классе в день урока.",
    "not_your_class": "Учитель не ведёт этот предмет в этом классе.",
    "not_your_device": "Это устройство не записывает уроки этого учителя.",
    "unplanned_substitution": "Замена не запланирована заместителем директора: запись ждёт его утверждения.",
    "grade_has_no_marks": "В этом классе отметки не ставятся.",
    "out_of_year": "Дата вне учебного года.",
    "year_closed": "Учебный год закрыт: его журнал в архиве, запись не изменена.",
    "future_date": "Дата урока ещё не наступила.",
    "lesson_in_future": "Посещаемость и отметки ставятся не раньше дня урока.",
    "seq_reused": "Этот порядковый номер уже занят другой операцией устройства.",
    "op_id_taken": "Идентификатор операции уже использован другим устройством.",
    "late_correction": "Исправление после установленного срока: ждёт утверждения заместителя директора.",
    "declined": "Исправление отклонено заместителем директора.",
}

# Whole-batch errors: HTTP status and the message staff read.
BATCH_ERRORS: Final[dict[str, tuple[int, str]]] = {
    "malformed": (400, "Пакет не читается: ожидался JSON-объект пакета синхронизации."),
    "bad_encoding": (400, "Пакет не читается: неверное сжатие или кодировка."),
    "bad_protocol": (400, "Неподдерживаемая версия протокола синхронизации."),
    "bad_op_id": (400, "В пакете есть операция без пригодного идентификатора."),
    "wrong_device": (400, "Пакет подписан другим устройством."),
    "unauthorized": (401, "Нет или неверный ключ устройства."),
    "device_revoked": (403, "Устройство отключено администратором."),
    "too_large": (413, "Пакет слишком большой."),
    "busy": (503, "Сервер занят, повторите позже."),
    "internal": (500, "Внутренняя ошибка сервера: пакет не применён, повторите позже."),
    "not_found": (404, "Нет такого адреса в протоколе синхронизации."),
    "method_not_allowed": (405, "Этот адрес не принимает такой запрос."),
}
