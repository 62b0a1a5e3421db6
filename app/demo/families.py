"""Students and their families: siblings across classes, one or two guardians, divorced parents, consent.

Households are drawn until every class has its planned size. A household has one to three children in
different grades (now and then twins in one class), and is written as one family, or as two families
when the parents are divorced, so that the child belongs to both. Consent varies by family: most have
given it for the link, some only on paper, some not yet, and some families have it from both guardians.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from app.base.models import Consent, Family, Guardian, SchoolClass, Student
from app.demo import demo_id, names

YEAR_START = dt.date(2026, 9, 1)
# (share of households, kind): who takes care of the children.
_HOUSEHOLDS = ((72, "parents"), (18, "mother"), (4, "father"), (2, "guardian"), (4, "divorced"))
# (share of families, consent kind).
_CONSENT = ((66, "link"), (12, "link_both"), (10, "paper"), (9, "none"), (3, "both"))
_MAIL = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru")


@dataclass
class People:
    """Everything this module makes, in the order it is written."""

    students: list[Student] = field(default_factory=list)
    guardians: list[Guardian] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)


def _pick(rng: random.Random, weighted: tuple[tuple[int, str], ...]) -> str:
    """A kind drawn by its share."""
    return rng.choices([k for _, k in weighted], weights=[w for w, _ in weighted])[0]


class Builder:
    """Draws households into classes until the planned class sizes are reached."""

    def __init__(self, rng: random.Random, seed: int, classes: list[SchoolClass]) -> None:
        self.rng, self.seed = rng, seed
        self.classes = classes
        self.seats = {c.id: rng.randint(22, 28) for c in classes}
        self.people = People()
        self.phones: set[str] = set()
        self.file_numbers: dict[int, int] = {}

    def build(self) -> People:
        """Fill every class, then vary enrolment dates."""
        while any(self.seats.values()):
            self._household()
        self._vary_enrolment()
        return self.people

    def _household(self) -> None:
        """One household: its children in classes, its guardians, its family or families."""
        rng = self.rng
        grades = sorted({c.grade for c in self.classes if self.seats[c.id]})
        count = min(len(grades), rng.choices((1, 2, 3), weights=(66, 27, 7))[0])
        family = rng.choice(names.SURNAMES)
        father = rng.choice(names.MEN)
        children: list[Student] = []
        for grade in sorted(rng.sample(grades, count)):
            cls = self._class_in(grade)
            children.append(self._student(cls, family, father, children))
            if count == 1 and self.seats[cls.id] and rng.random() < 0.02:
                self.seats[cls.id] -= 1
                twin = self._student(cls, family, father, children)
                twin.birth_date = children[0].birth_date
                children.append(twin)
        kind = _pick(rng, _HOUSEHOLDS)
        dad = names.adult(rng, family, female=False, first=father)
        mum_family = family if rng.random() < 0.9 else rng.choice(names.SURNAMES)
        mum = names.adult(rng, mum_family, female=True)
        if kind == "divorced":
            mum_family = rng.choice(names.SURNAMES) if rng.random() < 0.6 else mum_family
            mum = names.adult(rng, mum_family, female=True)
            self._family(f"{names.family_name(family)} (отец)", [(dad, "отец")], children)
            self._family(f"{names.family_name(mum_family)} (мать)", [(mum, "мать")], children)
            return
        guardians = {
            "parents": [(mum, "мать"), (dad, "отец")],
            "mother": [(mum, "мать")],
            "father": [(dad, "отец")],
            "guardian": [(names.adult(rng, family, female=True), "опекун")],
        }[kind]
        self._family(names.family_name(family), guardians, children)

    def _class_in(self, grade: int) -> SchoolClass:
        """A class of this grade with seats left, the emptier one more likely."""
        options = [c for c in self.classes if c.grade == grade and self.seats[c.id]]
        cls = self.rng.choices(options, weights=[self.seats[c.id] for c in options])[0]
        self.seats[cls.id] -= 1
        return cls

    def _student(self, cls: SchoolClass, family: str, father: str, siblings: list[Student]) -> Student:
        """A child of the household in this class, born in the year that fits the grade."""
        rng = self.rng
        name = names.child(
            rng, family, father, female=rng.random() < 0.5, avoid=tuple(s.first_name for s in siblings)
        )
        year = YEAR_START.year - 6 - cls.grade
        born = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
        if rng.random() < 0.04:  # started school late or repeated a year
            born = dt.date(year - 1, 9, 1) + dt.timedelta(days=rng.randrange(120))
        admitted = YEAR_START.year - cls.grade + 1
        self.file_numbers[admitted] = self.file_numbers.get(admitted, 0) + 1
        file_no = f"{admitted}-{self.file_numbers[admitted]:03d}"
        student = Student(
            id=demo_id(self.seed, "student", file_no),
            file_no=file_no,
            last_name=name.last,
            first_name=name.first,
            middle_name=name.middle,
            birth_date=born,
            class_id=cls.id,
            enrolled_on=YEAR_START,
            left_on=None,
        )
        self.people.students.append(student)
        return student

    def _family(self, title: str, guardians: list[tuple[names.Name, str]], children: list[Student]) -> None:
        """A family with its guardians, children and consent."""
        rng = self.rng
        number = len(self.people.families) + 1
        family = Family(id=demo_id(self.seed, "family", number), name=title, channel="link")
        for person, relation in guardians:
            guardian = Guardian(
                id=demo_id(self.seed, "guardian", number, relation),
                last_name=person.last,
                first_name=person.first,
                middle_name=person.middle,
                phone=self._phone(),
                email=self._email(person) if rng.random() < 0.35 else "",
                relation=relation,
            )
            self.people.guardians.append(guardian)
            family.guardians.append(guardian)
        family.students.extend(children)
        self.people.families.append(family)
        kind = _pick(rng, _CONSENT)
        if kind == "link_both" and len(family.guardians) < 2:
            kind = "link"
        family.channel = {"paper": "paper", "both": "both"}.get(kind, "link")
        if kind == "none":
            return
        signers = family.guardians if kind == "link_both" else family.guardians[:1]
        for guardian in signers:
            on = dt.date(2026, 8, 24) + dt.timedelta(days=rng.randrange(20))
            self.people.consents.append(
                Consent(
                    id=demo_id(self.seed, "consent", guardian.id),
                    guardian_id=guardian.id,
                    state="given",
                    on=on,
                    basis=f"Заявление от {on:%d.%m.%Y}",
                    channel="paper" if kind == "paper" else "link",
                )
            )

    def _phone(self) -> str:
        """A unique Russian mobile number: +7 9xx xxx-xx-xx."""
        while True:
            digits = f"9{self.rng.randint(0, 99):02d}{self.rng.randint(0, 9999999):07d}"
            phone = f"+7 {digits[:3]} {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def _email(self, person: names.Name) -> str:
        """An e-mail address made of the person's name."""
        return (
            f"{names.latin(person.first)}.{names.latin(person.last)}{self.rng.randint(1, 99)}@"
            f"{self.rng.choice(_MAIL)}"
        )

    def _vary_enrolment(self) -> None:
        """A few students joined during the year and one or two left; consent follows the enrolment."""
        rng = self.rng
        students = self.people.students
        joined = rng.sample(students, 5)
        dates = [
            dt.date(2026, 9, 14),
            dt.date(2026, 10, 5),
            dt.date(2026, 10, 19),
            dt.date(2026, 11, 9),
            dt.date(2026, 11, 16),
        ]
        for student, day in zip(joined, dates, strict=True):
            student.enrolled_on = day
        late = {s.id: s.enrolled_on for s in joined}
        consents = {c.guardian_id: c for c in self.people.consents}
        for family in self.people.families:
            day = min(late.get(s.id, YEAR_START) for s in family.students)
            for consent in (consents[g.id] for g in family.guardians if g.id in consents):
                if day > YEAR_START:
                    consent.on = day
                    consent.basis = f"Заявление от {day:%d.%m.%Y}"
        stayed = [s for s in students if s.id not in late]
        for student, day in zip(
            rng.sample(stayed, 2), (dt.date(2026, 10, 16), dt.date(2026, 11, 13)), strict=True
        ):
            student.left_on = day


def build_people(rng: random.Random, seed: int, classes: list[SchoolClass]) -> People:
    """The students, guardians, families and consents of the demo school."""
    return Builder(rng, seed, classes).build()
