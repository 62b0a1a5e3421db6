"""Teachers with their табельный номер, their teaching load per class, and the homeroom teachers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from app.base.models import SchoolClass, Teacher
from app.demo import curriculum, demo_id, names

# Share of men among a specialty's teachers: most Russian teachers are women.
_MEN_SHARE = {"pe": 0.6, "safety": 0.9, "technology": 0.5, "physics": 0.4, "informatics": 0.5, "history": 0.3}


@dataclass
class Load:
    """Who teaches what: (class id, subject name) → the teachers, one per group when the class is split."""

    specialty: dict[str, str] = field(default_factory=dict)  # teacher id → specialty key
    teachers: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    hours: dict[str, int] = field(default_factory=dict)  # teacher id → weekly hours


def hire(rng: random.Random, seed: int, primary_classes: int) -> tuple[list[Teacher], dict[str, str]]:
    """The staff: one primary teacher per primary class and the specialists of STAFF."""
    wanted = [("primary", 0.02)] * primary_classes + [
        (key, _MEN_SHARE.get(key, 0.12))
        for key, (_subjects, count) in curriculum.STAFF.items()
        for _ in range(count)
    ]
    teachers: list[Teacher] = []
    specialty: dict[str, str] = {}
    taken: set[str] = set()
    number = rng.randint(15, 40)
    for key, men in wanted:
        while True:
            person = names.adult(rng, rng.choice(names.SURNAMES), female=rng.random() >= men)
            if person.full not in taken:
                break
        taken.add(person.full)
        number += rng.randint(1, 9)
        code = f"{number:06d}"
        teacher = Teacher(
            id=demo_id(seed, "teacher", code),
            code=code,
            last_name=person.last,
            first_name=person.first,
            middle_name=person.middle,
            active=True,
        )
        teachers.append(teacher)
        specialty[teacher.id] = key
    return teachers, specialty


def distribute(classes: list[SchoolClass], teachers: list[Teacher], specialty: dict[str, str]) -> Load:
    """Give every class's subjects to teachers, the largest pieces first to the least loaded teacher."""
    load = Load(specialty=dict(specialty), hours={t.id: 0 for t in teachers})
    primary = [t.id for t in teachers if specialty[t.id] == "primary"]
    pieces: list[tuple[int, int, str, str, list[str]]] = []  # hours, order, class id, specialty, subjects
    for order, cls in enumerate(classes):
        bundles: dict[str, list[str]] = {}
        for subject in curriculum.HOURS[cls.grade]:
            bundles.setdefault(curriculum.specialty(subject, cls.grade), []).append(subject)
        for key, subjects in bundles.items():
            hours = sum(curriculum.HOURS[cls.grade][s] for s in subjects)
            pieces.append((hours, order, cls.id, key, subjects))
    class_index = {c.id: i for i, c in enumerate(c for c in classes if c.grade in curriculum.PRIMARY_GRADES)}
    for hours, _order, class_id, key, subjects in sorted(pieces, key=lambda p: (-p[0], p[1], p[3])):
        if key == "primary":
            chosen: tuple[str, ...] = (primary[class_index[class_id]],)
        else:
            chosen = _least_loaded(
                load, key, split=any(curriculum.is_split(s, _grade(classes, class_id)) for s in subjects)
            )
        for teacher in chosen:
            load.hours[teacher] += hours
        for subject in subjects:
            split = curriculum.is_split(subject, _grade(classes, class_id))
            load.teachers[(class_id, subject)] = chosen if split else chosen[:1]
    return load


def _grade(classes: list[SchoolClass], class_id: str) -> int:
    return next(c.grade for c in classes if c.id == class_id)


def _least_loaded(load: Load, key: str, split: bool) -> tuple[str, ...]:
    """The least loaded teacher of a specialty, or pair of teachers for a split class."""
    pool = [t for t, k in load.specialty.items() if k == key]
    if not split:
        return (min(pool, key=lambda t: (load.hours[t], pool.index(t))),)
    pairs = [tuple(pool[i : i + 2]) for i in range(0, len(pool) - 1, 2)]
    return min(pairs, key=lambda p: (sum(load.hours[t] for t in p), pairs.index(p)))


def appoint_homerooms(rng: random.Random, classes: list[SchoolClass], load: Load) -> None:
    """A homeroom teacher per class: the primary teacher, or one of the class's busiest teachers."""
    used: set[str] = set()
    for cls in classes:
        hours: dict[str, int] = {}
        for (class_id, subject), teachers in load.teachers.items():
            if class_id == cls.id:
                for teacher in teachers:
                    hours[teacher] = hours.get(teacher, 0) + curriculum.HOURS[cls.grade][subject]
        ranked = sorted((t for t in hours if t not in used), key=lambda t: (-hours[t], t))
        if cls.grade in curriculum.PRIMARY_GRADES:
            chosen = ranked[0]
        else:
            chosen = rng.choice(ranked[:3])
        cls.homeroom_teacher_id = chosen
        used.add(chosen)
