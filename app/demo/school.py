"""The demo school's reference data, planned as unsaved models from a seed and then written in one go."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from app.base.extensions import db
from app.base.models import (
    Assignment,
    Base,
    Consent,
    Family,
    Group,
    Guardian,
    SchoolClass,
    Student,
    Subject,
    Teacher,
    TimetableEntry,
)
from app.base.settings import Settings
from app.demo import curriculum, demo_id
from app.demo.families import build_people
from app.demo.staff import appoint_homerooms, distribute, hire
from app.demo.timetable import Block, Part, Scheduler, day_lengths

LETTERS = ("А", "Б")
PRIMARY_DAYS = 5
# Subjects kept away from the first and the last lessons of the day when possible.
DIFFICULT = ("Русский язык", "Математика", "Алгебра", "Геометрия", "Физика", "Химия", "Английский язык")


@dataclass
class DemoSchool:
    """The planned reference data; `specialty` says what kind of teacher each teacher is."""

    seed: int
    subjects: list[Subject] = field(default_factory=list)
    teachers: list[Teacher] = field(default_factory=list)
    classes: list[SchoolClass] = field(default_factory=list)
    students: list[Student] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    timetable: list[TimetableEntry] = field(default_factory=list)
    guardians: list[Guardian] = field(default_factory=list)
    families: list[Family] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    specialty: dict[str, str] = field(default_factory=dict)

    def stages(self) -> list[tuple[str, list[Base]]]:
        """The records in the order the foreign keys need, each stage with its Russian label.

        A flush orders rows by relationships only, not by bare foreign keys, hence one flush a stage.
        """
        return [
            ("предметы и учителя", [*self.subjects, *self.teachers]),
            ("классы", list(self.classes)),
            ("ученики", list(self.students)),
            ("группы", list(self.groups)),
            ("нагрузка и расписание", [*self.assignments, *self.timetable]),
            ("родители", list(self.guardians)),
            ("семьи и согласия", [*self.families, *self.consents]),
        ]

    def records(self) -> Iterator[Base]:
        """Every planned record."""
        for _label, records in self.stages():
            yield from records


def build_school(settings: Settings, seed: int, year_id: str) -> DemoSchool:
    """Plan the whole school for this seed: the same seed always gives the same records and ids."""
    rng = random.Random(seed)
    school = DemoSchool(seed=seed)
    school.subjects = [
        Subject(id=demo_id(seed, "subject", name), name=name, short=short)
        for name, short in curriculum.SUBJECTS.items()
    ]
    school.classes = [
        SchoolClass(
            id=demo_id(seed, "class", f"{grade}{letter}"), year_id=year_id, grade=grade, letter=letter
        )
        for grade in range(1, 12)
        for letter in LETTERS
    ]
    primary = sum(1 for c in school.classes if c.grade in curriculum.PRIMARY_GRADES)
    school.teachers, school.specialty = hire(rng, seed, primary)
    load = distribute(school.classes, school.teachers, school.specialty)
    appoint_homerooms(rng, school.classes, load)
    people = build_people(rng, seed, school.classes)
    school.students, school.guardians = people.students, people.guardians
    school.families, school.consents = people.families, people.consents
    _split_groups(school)
    _assign(school, load.teachers)
    _schedule(school, settings, rng)
    return school


def _subject_ids(school: DemoSchool) -> dict[str, str]:
    return {s.name: s.id for s in school.subjects}


def _split_groups(school: DemoSchool) -> None:
    """Two English groups per class from grade 2, split down the class list."""
    english = _subject_ids(school)[curriculum.ENGLISH]
    for cls in school.classes:
        if not curriculum.is_split(curriculum.ENGLISH, cls.grade):
            continue
        pupils = sorted(
            (s for s in school.students if s.class_id == cls.id),
            key=lambda s: (s.last_name, s.first_name, s.middle_name),
        )
        half = (len(pupils) + 1) // 2
        for number, members in ((1, pupils[:half]), (2, pupils[half:])):
            school.groups.append(
                Group(
                    id=group_id(school.seed, cls, number),
                    class_id=cls.id,
                    subject_id=english,
                    name=f"{curriculum.ENGLISH}, {number} группа",
                    students=list(members),
                )
            )


def group_id(seed: int, cls: SchoolClass, number: int) -> str:
    """Id of a split class's group number 1 or 2."""
    return demo_id(seed, "group", cls.name, number)


def _assign(school: DemoSchool, teachers: dict[tuple[str, str], tuple[str, ...]]) -> None:
    """Teaching load rows: one per teacher, class (or group) and subject."""
    subject_ids = _subject_ids(school)
    for cls in school.classes:
        for subject, hours in curriculum.HOURS[cls.grade].items():
            for number, teacher in enumerate(teachers[(cls.id, subject)], start=1):
                group = (
                    group_id(school.seed, cls, number) if curriculum.is_split(subject, cls.grade) else None
                )
                school.assignments.append(
                    Assignment(
                        id=demo_id(school.seed, "assignment", cls.name, subject, number),
                        teacher_id=teacher,
                        class_id=cls.id,
                        group_id=group,
                        subject_id=subject_ids[subject],
                        hours_per_week=hours,
                    )
                )


def _schedule(school: DemoSchool, settings: Settings, rng: random.Random) -> None:
    """The weekly timetable from the assignments, valid from the first day of the year."""
    subject_ids = _subject_ids(school)
    scheduler = Scheduler(rng, difficult=frozenset(subject_ids[s] for s in DIFFICULT))
    parts: dict[tuple[str, str], list[Part]] = {}
    hours: dict[tuple[str, str], int] = {}
    for a in school.assignments:
        key = (a.class_id, a.subject_id)
        parts.setdefault(key, []).append(Part(a.group_id, a.subject_id, a.teacher_id))
        hours[key] = int(a.hours_per_week)
    grids = {}
    order = sorted(school.classes, key=lambda c: (-sum(curriculum.HOURS[c.grade].values()), rng.random()))
    for cls in order:
        class_blocks: list[Block] = [
            tuple(p) for key, p in parts.items() if key[0] == cls.id for _ in range(hours[key])
        ]
        days = PRIMARY_DAYS if cls.grade in curriculum.PRIMARY_GRADES else settings.school_days
        lengths = day_lengths(len(class_blocks), days, len(settings.bells))
        grids[cls.id] = scheduler.place(cls.id, class_blocks, lengths)
    for cls in school.classes:
        for (weekday, slot), block in grids[cls.id].items():
            for part in block:
                school.timetable.append(
                    TimetableEntry(
                        id=demo_id(school.seed, "timetable", cls.name, weekday, slot, part.group_id or ""),
                        weekday=weekday,
                        slot=slot,
                        class_id=cls.id,
                        group_id=part.group_id,
                        subject_id=part.subject_id,
                        teacher_id=part.teacher_id,
                        valid_from=settings.year_start,
                        valid_to=None,
                    )
                )


def school_has_data() -> bool:
    """Whether the database already holds a school's people or lessons plan."""
    return any(
        db.session.scalar(select(model.id).limit(1)) is not None
        for model in (Student, Teacher, SchoolClass, Subject)
    )


def write_school(school: DemoSchool, progress: Callable[[str, int], None] = lambda _label, _n: None) -> None:
    """Add the planned records to the session stage by stage (the caller commits)."""
    for label, records in school.stages():
        db.session.add_all(records)
        db.session.flush()
        progress(label, len(records))
