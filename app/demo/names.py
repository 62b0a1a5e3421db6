"""Russian names with correct gender agreement: Иванов Пётр Сергеевич, Иванова Мария Петровна."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Surnames in their masculine form; feminine and plural forms follow the ending.
SURNAMES = tuple(
    """
    Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков
    Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин
    Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов
    Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов Ковалёв
    Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов
    Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов
    Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов
    Ефимов Щербаков Назаров Калинин Исаев Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин
    Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников Трофимов
    Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов
    Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов
    Анисимов Ерёмин Тихомиров Галкин Лукьянов Игнатьев Сафонов Рябов Кононов Зуев Субботин Шилов
    Островский Ковальский Высоцкий Заречный Полевой Луговской Толстой Боровской Ткаченко Шевченко
    Бондаренко Кравченко Коваленко Черных Седых Белых
    """.split()
)

BOYS = tuple(
    """
    Артём Максим Александр Михаил Иван Даниил Дмитрий Кирилл Андрей Егор Никита Илья Алексей Матвей
    Тимофей Роман Владимир Ярослав Фёдор Георгий Константин Лев Марк Степан Сергей Николай Павел
    Денис Глеб Владислав Арсений Богдан Семён Захар Евгений Тимур Савелий Платон Мирон Григорий
    """.split()
)
GIRLS = tuple(
    """
    Анастасия Мария Анна Виктория Екатерина Софья Дарья Полина Алиса Ксения Елизавета Варвара
    Александра Вероника Арина Василиса Милана Ульяна Алёна Кристина Валерия Юлия Ева Маргарита
    Таисия Злата Диана Яна Ангелина Есения Кира Вера Надежда Любовь Олеся Татьяна Ольга Мирослава
    Серафима
    """.split()
)
MEN = tuple(
    """
    Александр Сергей Андрей Алексей Дмитрий Евгений Михаил Игорь Владимир Николай Роман Павел Денис
    Максим Олег Виктор Константин Юрий Антон Вадим Илья Артём Иван Кирилл Василий Владислав Вячеслав
    Руслан Станислав Пётр Григорий Степан Никита Егор Тимур
    """.split()
)
WOMEN = tuple(
    """
    Елена Ольга Наталья Татьяна Ирина Светлана Юлия Анна Екатерина Марина Мария Оксана Надежда
    Галина Людмила Евгения Анастасия Ксения Виктория Алёна Валентина Лариса Вера Дарья Кристина Яна
    Любовь Нина Инна
    """.split()
)
# Fathers of parents and teachers: the names their patronymics come from.
ELDERS = tuple(
    """
    Владимир Николай Александр Виктор Сергей Михаил Иван Анатолий Валерий Геннадий Юрий Василий Пётр
    Борис Григорий Леонид Алексей Евгений Фёдор Аркадий Вячеслав Игорь Дмитрий Павел Андрей Олег
    Степан Георгий Илья
    """.split()
)

_PATRONYMIC_EXCEPTIONS = {
    "Илья": ("Ильич", "Ильинична"),
    "Никита": ("Никитич", "Никитична"),
    "Лев": ("Львович", "Львовна"),
    "Пётр": ("Петрович", "Петровна"),
    "Павел": ("Павлович", "Павловна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Георгий": ("Георгиевич", "Георгиевна"),
    "Савелий": ("Савельевич", "Савельевна"),
    "Артём": ("Артёмович", "Артёмовна"),
    "Семён": ("Семёнович", "Семёновна"),
    "Фёдор": ("Фёдорович", "Фёдоровна"),
}


def patronymic(father: str, female: bool) -> str:
    """Отчество from the father's first name: Сергей → Сергеевич / Сергеевна."""
    if father in _PATRONYMIC_EXCEPTIONS:
        return _PATRONYMIC_EXCEPTIONS[father][female]
    if father.endswith("ий"):
        stem = father[:-2] + "ьев"
    elif father.endswith("ь"):
        stem = father[:-1] + "ев"
    elif father.endswith(("ей", "ай")):
        stem = father[:-1] + "ев"
    else:
        stem = father + "ов"
    return stem + ("на" if female else "ич")


def surname(masculine: str, female: bool) -> str:
    """The surname agreeing with the person's gender: Иванов → Иванова, Островский → Островская."""
    if not female:
        return masculine
    if masculine.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return masculine + "а"
    if masculine.endswith(("ский", "цкий", "ный")):
        return masculine[:-2] + "ая"
    if masculine.endswith(("ской", "ой")):
        return masculine[:-2] + "ая"
    return masculine  # Ткаченко, Черных: the same for everyone


def family_name(masculine: str) -> str:
    """How a school names the family: «Семья Ивановых», «Семья Ткаченко»."""
    if masculine.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return f"Семья {masculine}ых"
    if masculine.endswith(("ский", "цкий", "ской")):
        return f"Семья {masculine[:-2]}их"
    if masculine.endswith(("ный", "ой")):
        return f"Семья {masculine[:-2]}ых"
    return f"Семья {masculine}"


_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
        ],
        strict=True,
    )
)


def latin(text: str) -> str:
    """A Russian word in Latin letters, for e-mail addresses."""
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())


@dataclass(frozen=True)
class Name:
    """A person's full name, surname first when printed."""

    last: str
    first: str
    middle: str
    female: bool

    @property
    def full(self) -> str:
        """Surname first: Иванова Мария Петровна."""
        return f"{self.last} {self.first} {self.middle}"


def adult(rng: random.Random, family: str, female: bool, first: str | None = None) -> Name:
    """A grown-up of this family (masculine surname), with a patronymic from the elder generation."""
    first = first or rng.choice(WOMEN if female else MEN)
    return Name(surname(family, female), first, patronymic(rng.choice(ELDERS), female), female)


def child(rng: random.Random, family: str, father: str, female: bool, avoid: tuple[str, ...] = ()) -> Name:
    """A child of this family whose father is called `father`."""
    pool = [n for n in (GIRLS if female else BOYS) if n not in avoid]
    return Name(surname(family, female), rng.choice(pool), patronymic(father, female), female)
