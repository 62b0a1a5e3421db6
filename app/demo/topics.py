"""What teachers write in the journal in the second quarter: lesson topics, homework and remarks."""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path

TopicRanges = tuple[tuple[tuple[int, int], tuple[str, ...]], ...]


@functools.cache
def _topic_table() -> dict[str, TopicRanges]:
    """Subject → ((first grade, last grade), topics in teaching order) for the second quarter (topics.json)."""
    data = json.loads((Path(__file__).parent / "topics.json").read_text(encoding="utf-8"))
    return {subject: tuple(((r["grades"][0], r["grades"][1]), tuple(r["topics"])) for r in ranges)
            for subject, ranges in data.items()}


def topics(subject: str, grade: int) -> tuple[str, ...]:
    """The second quarter's topics of a subject in a grade, in teaching order."""
    for (first, last), items in _topic_table().get(subject, ()):
        if first <= grade <= last:
            return items
    return ("Повторение изученного",)


def sequence(rng: random.Random, subject: str, grade: int, count: int) -> list[tuple[str, str]]:
    """Topics of `count` lessons in a row, each with the topic it works on: one or two lessons a topic."""
    result: list[tuple[str, str]] = []
    practice = (
        "Решение задач"
        if subject in ("Математика", "Алгебра", "Геометрия", "Физика", "Химия")
        else "Закрепление"
    )
    items = topics(subject, grade)
    for topic in items:
        result.append((topic, topic))
        if rng.random() < 0.35:
            result.append((f"{practice} по теме «{topic}»", topic))
    while len(result) < count:
        result.append(("Повторение и обобщение изученного", items[-1]))
    return result[:count]


def homework(rng: random.Random, subject: str, grade: int) -> str:
    """A homework line as a teacher writes it, or "" where none is given."""
    page, n = rng.randint(12, 140), rng.randint(40, 420)
    if grade == 1 or subject in ("Физическая культура", "Музыка") or rng.random() < 0.08:
        return ""
    if subject in ("Изобразительное искусство", "Труд (технология)"):
        return rng.choice(("", "", "Принести материалы для практической работы", "Закончить работу"))
    if grade <= 4:
        if subject == "Литературное чтение":
            return rng.choice(
                (
                    f"Читать с. {page}–{page + 3}, ответить на вопросы",
                    f"Выучить стихотворение наизусть, с. {page}",
                    f"Пересказ текста на с. {page}",
                )
            )
        return rng.choice(
            (
                f"С. {page}, упр. {n % 200}",
                f"С. {page}, № {n % 12 + 1}, {n % 12 + 3}",
                f"Рабочая тетрадь с. {page % 64 + 1}",
            )
        )
    if subject == "Русский язык":
        return rng.choice((f"Упр. {n}", f"П. {page % 60 + 1}, упр. {n}", f"Выучить правило, упр. {n}"))
    if subject == "Литература":
        return rng.choice(
            (
                f"Прочитать с. {page}–{page + 20}",
                "Выучить наизусть отрывок",
                f"Ответить на вопросы на с. {page}",
                "Письменный ответ на вопрос (5–7 предложений)",
            )
        )
    if subject in ("Математика", "Алгебра", "Геометрия", "Вероятность и статистика"):
        return rng.choice(
            (f"№ {n}, {n + 2}, {n + 5}", f"П. {page % 40 + 1}, № {n}, {n + 1}", f"№ {n} (а, б), {n + 3}")
        )
    if subject == "Английский язык":
        return rng.choice(
            (
                f"Ex. {n % 12 + 1}, p. {page % 90 + 1}; выучить слова",
                f"Workbook p. {page % 60 + 1}, ex. {n % 8 + 1}",
                f"Учебник с. {page % 90 + 1}, упр. {n % 10 + 1} (письменно)",
            )
        )
    if subject in ("Физика", "Химия"):
        return rng.choice((f"§ {page % 50 + 1}, упр. {n % 30 + 1}", f"§ {page % 50 + 1}, задачи 1–3"))
    return rng.choice(
        (
            f"§ {page % 40 + 1}, вопросы на с. {page}",
            f"§ {page % 40 + 1}, пересказ",
            f"§ {page % 40 + 1}, заполнить таблицу",
        )
    )


# Remark texts: kind → (masculine, feminine) variants.
REMARKS: dict[str, tuple[tuple[str, str], ...]] = {
    "remark": (
        ("Не выполнил домашнее задание", "Не выполнила домашнее задание"),
        (
            "Разговаривал на уроке, отвлекал одноклассников",
            "Разговаривала на уроке, отвлекала одноклассников",
        ),
        ("Забыл учебник и тетрадь", "Забыла учебник и тетрадь"),
        ("Пользовался телефоном на уроке", "Пользовалась телефоном на уроке"),
        ("Пришёл на урок без спортивной формы", "Пришла на урок без спортивной формы"),
    ),
    "recommendation": (
        ("Рекомендую повторить пройденную тему и выполнить работу над ошибками",) * 2,
        ("Обратить внимание на аккуратность записей в тетради",) * 2,
        ("Больше читать вслух дома, по 15 минут в день",) * 2,
        ("Рекомендую посещать консультации по четвергам",) * 2,
    ),
    "praise": (
        ("Активно работал на уроке, молодец!", "Активно работала на уроке, молодец!"),
        ("Занял призовое место в школьной олимпиаде", "Заняла призовое место в школьной олимпиаде"),
        ("Отлично подготовил сообщение к уроку", "Отлично подготовила сообщение к уроку"),
        (
            "Помог одноклассникам разобраться с новой темой",
            "Помогла одноклассникам разобраться с новой темой",
        ),
    ),
}


def remark(rng: random.Random, kind: str, female: bool) -> str:
    """A remark of this kind agreeing with the student's gender."""
    return rng.choice(REMARKS[kind])[female]
