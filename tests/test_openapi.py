"""The served OpenAPI description matches the code: every code and status, every field, and real answers."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask

from app.base import school_calendar, settings
from app.base.calendar import current_year
from app.base.extensions import db
from app.base.models import Group, Student, TimetableEntry
from app.base.models.sync import STATUSES
from app.base.timetable_changes import plan
from app.syncing import openapi
from app.syncing.pull import REFERENCE as PULLED_REFERENCE
from sync.protocol import BATCH_ERRORS, CODES, FINAL_STATUSES, JOURNAL, REFERENCE
from tests.school import LESSON_DAY, Machine, attendance_key, build_tiny_school, lesson_fields, ms_at, period_grade_key

# ---------------------------------------------------------------- a checker for the JSON Schema subset the file uses

ANNOTATIONS = {"description", "title", "examples", "format", "default", "deprecated"}
TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class Checker:
    """Validates instances against the document's schemas (the keywords below, nothing else)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, ref: str) -> dict[str, Any]:
        """The schema a local `$ref` points to."""
        assert ref.startswith("#/"), ref
        node: Any = self.doc
        for part in ref[2:].split("/"):
            node = node[part]
        return dict(node)

    def errors(self, value: Any, schema: dict[str, Any], at: str = "$") -> list[str]:
        """Every way `value` breaks `schema`."""
        found: list[str] = []
        for key, rule in schema.items():
            if key in ANNOTATIONS or key.startswith("x-") or key in ("then", "else"):
                continue
            check = getattr(self, "_" + key.replace("$", "dollar_"), None)
            if check is None:
                raise AssertionError(f"the checker does not know the keyword {key!r} (at {at})")
            found += check(value, rule, schema, at)
        return found

    def valid(self, value: Any, schema: dict[str, Any]) -> bool:
        """Whether `value` satisfies `schema`."""
        return not self.errors(value, schema)

    def _dollar_ref(self, value: Any, rule: str, _s: dict[str, Any], at: str) -> list[str]:
        return self.errors(value, self.resolve(rule), at)

    def _type(self, value: Any, rule: str | list[str], _s: dict[str, Any], at: str) -> list[str]:
        names = [rule] if isinstance(rule, str) else rule
        return [] if any(TYPES[n](value) for n in names) else [f"{at}: {value!r} is not {rule}"]

    def _enum(self, value: Any, rule: list[Any], _s: dict[str, Any], at: str) -> list[str]:
        return [] if any(value == v and type(value) is type(v) for v in rule) else [f"{at}: {value!r} not in {rule}"]

    def _const(self, value: Any, rule: Any, _s: dict[str, Any], at: str) -> list[str]:
        return [] if value == rule and type(value) is type(rule) else [f"{at}: {value!r} is not {rule!r}"]

    def _required(self, value: Any, rule: list[str], _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: missing {k!r}" for k in rule if isinstance(value, dict) and k not in value]

    def _dependentRequired(self, value: Any, rule: dict[str, list[str]], _s: dict[str, Any], at: str) -> list[str]:
        if not isinstance(value, dict):
            return []
        return [f"{at}: {k!r} needs {n!r}" for k, needs in rule.items() if k in value for n in needs if n not in value]

    def _properties(self, value: Any, rule: dict[str, Any], _s: dict[str, Any], at: str) -> list[str]:
        if not isinstance(value, dict):
            return []
        return [e for k, sub in rule.items() if k in value for e in self.errors(value[k], sub, f"{at}.{k}")]

    def _additionalProperties(self, value: Any, rule: Any, schema: dict[str, Any], at: str) -> list[str]:
        if not isinstance(value, dict):
            return []
        extra = [k for k in value if k not in schema.get("properties", {})]
        if rule is False:
            return [f"{at}: unexpected {k!r}" for k in extra]
        return [e for k in extra for e in self.errors(value[k], rule, f"{at}.{k}")]

    def _items(self, value: Any, rule: dict[str, Any], schema: dict[str, Any], at: str) -> list[str]:
        if not isinstance(value, list):
            return []
        skip = len(schema.get("prefixItems", []))
        return [e for i, item in enumerate(value[skip:], skip) for e in self.errors(item, rule, f"{at}[{i}]")]

    def _prefixItems(self, value: Any, rule: list[dict[str, Any]], _s: dict[str, Any], at: str) -> list[str]:
        if not isinstance(value, list):
            return []
        return [e for i, (item, sub) in enumerate(zip(value, rule, strict=False))
                for e in self.errors(item, sub, f"{at}[{i}]")]

    def _minItems(self, value: Any, rule: int, _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: fewer than {rule} items"] if isinstance(value, list) and len(value) < rule else []

    def _maxItems(self, value: Any, rule: int, _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: more than {rule} items"] if isinstance(value, list) and len(value) > rule else []

    def _pattern(self, value: Any, rule: str, _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: {value!r} does not match {rule}"] if isinstance(value, str) and not re.search(rule, value) \
            else []

    def _minLength(self, value: Any, rule: int, _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: shorter than {rule}"] if isinstance(value, str) and len(value) < rule else []

    def _maxLength(self, value: Any, rule: int, _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: longer than {rule}"] if isinstance(value, str) and len(value) > rule else []

    def _minimum(self, value: Any, rule: float, _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: {value} < {rule}"] if TYPES["number"](value) and value < rule else []

    def _maximum(self, value: Any, rule: float, _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: {value} > {rule}"] if TYPES["number"](value) and value > rule else []

    def _exclusiveMinimum(self, value: Any, rule: float, _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: {value} <= {rule}"] if TYPES["number"](value) and value <= rule else []

    def _allOf(self, value: Any, rule: list[dict[str, Any]], _s: dict[str, Any], at: str) -> list[str]:
        return [e for sub in rule for e in self.errors(value, sub, at)]

    def _anyOf(self, value: Any, rule: list[dict[str, Any]], _s: dict[str, Any], at: str) -> list[str]:
        return [] if any(self.valid(value, sub) for sub in rule) else [f"{at}: matches none of anyOf"]

    def _oneOf(self, value: Any, rule: list[dict[str, Any]], _s: dict[str, Any], at: str) -> list[str]:
        matching = [sub for sub in rule if self.valid(value, sub)]
        if len(matching) == 1:
            return []
        if not matching:  # say why it failed the closest branch
            return [f"{at}: matches none of oneOf"] + min((self.errors(value, sub, at) for sub in rule), key=len)
        return [f"{at}: matches {len(matching)} branches of oneOf"]

    def _not(self, value: Any, rule: dict[str, Any], _s: dict[str, Any], at: str) -> list[str]:
        return [f"{at}: must not match {rule}"] if self.valid(value, rule) else []

    def _if(self, value: Any, rule: dict[str, Any], schema: dict[str, Any], at: str) -> list[str]:
        branch = schema.get("then") if self.valid(value, rule) else schema.get("else")
        return self.errors(value, branch, at) if branch is not None else []


def every_schema(node: Any) -> list[dict[str, Any]]:
    """Every schema object under `node` (to check that the checker knows each keyword used)."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for key, value in node.items():
            if key in ("properties", "dependentRequired"):
                for sub in value.values():
                    found += every_schema(sub) if key == "properties" else []
            elif key in ("items", "additionalProperties", "not", "if", "then", "else") and isinstance(value, dict):
                found += every_schema(value)
            elif key in ("allOf", "anyOf", "oneOf", "prefixItems"):
                for sub in value:
                    found += every_schema(sub)
    return found


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def served(app: Flask) -> Any:
    """A test client of a hub that serves the OpenAPI document."""
    if "openapi" not in app.blueprints:
        app.register_blueprint(openapi.bp)  # until the factory registers it
    return app.test_client()


@pytest.fixture
def doc(served: Any) -> dict[str, Any]:
    """The document as the hub serves it."""
    response = served.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


@pytest.fixture
def checker(doc: dict[str, Any]) -> Checker:
    """A checker bound to the served document."""
    return Checker(doc)


def schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """A component schema by name."""
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


def must_validate(checker: Checker, value: Any, name: str) -> None:
    """Assert that `value` satisfies the component schema `name`."""
    problems = checker.errors(value, {"$ref": f"#/components/schemas/{name}"})
    assert not problems, problems[:10]


# ---------------------------------------------------------------- the document


def test_the_served_document_is_openapi_3_1_and_names_both_paths(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1")
    assert "post" in doc["paths"]["/api/v1/sync"] and "get" in doc["paths"]["/api/v1/status"]
    token = doc["components"]["securitySchemes"]["deviceToken"]
    assert (token["type"], token["scheme"]) == ("http", "bearer") and doc["security"] == [{"deviceToken": []}]
    described = set(doc["paths"]["/api/v1/sync"]["post"]["responses"])
    assert described == {"200", "400", "401", "403", "404", "405", "413", "500", "503"}
    assert "Retry-After" in doc["components"]["responses"]["Busy"]["headers"]


def test_every_reason_code_and_status_of_the_protocol_module_is_described(doc: dict[str, Any]) -> None:
    assert set(schema(doc, "RejectionCode")["enum"]) == set(CODES)
    assert set(schema(doc, "BatchErrorCode")["enum"]) == set(BATCH_ERRORS)
    described = schema(doc, "BatchErrorCode")["description"]
    for code, (status, _message) in BATCH_ERRORS.items():
        assert f"`{code}` {status}" in described
        assert str(status) in doc["paths"]["/api/v1/sync"]["post"]["responses"]
    assert set(schema(doc, "ResultStatus")["enum"]) == set(FINAL_STATUSES) | {"queued"}
    assert set(schema(doc, "OutcomeStatus")["enum"]) == set(STATUSES)


def test_every_journal_field_and_pulled_entity_is_described(doc: dict[str, Any]) -> None:
    names = {"lesson": "Lesson", "attendance": "Attendance", "mark": "Mark", "remark": "Remark",
             "period_grade": "PeriodGrade", "test_plan": "TestPlan"}
    assert set(names) == set(JOURNAL)
    assert set(schema(doc, "JournalChange")["properties"]["entity"]["enum"]) == set(JOURNAL)
    for entity, spec in JOURNAL.items():
        fields = schema(doc, f"{names[entity]}Fields")
        assert set(fields["properties"]) == set(spec), entity
        assert set(fields["x-required-on-create"]) == {n for n, f in spec.items() if f.required}, entity
        assert set(schema(doc, f"Pulled{names[entity]}")["required"]) == set(spec), entity
    assert set(schema(doc, "ReferenceChange")["properties"]["entity"]["enum"]) == set(REFERENCE) == set(
        PULLED_REFERENCE)


def test_the_checker_knows_every_keyword_the_document_uses(doc: dict[str, Any]) -> None:
    checker = Checker(doc)
    for name, node in doc["components"]["schemas"].items():
        for sub in every_schema(node):
            unknown = {k for k in sub if k not in ANNOTATIONS and not k.startswith("x-") and k not in ("then", "else")
                       and not hasattr(checker, "_" + k.replace("$", "dollar_"))}
            assert not unknown, (name, unknown)


def test_the_checker_refuses_answers_that_break_the_schema(checker: Checker) -> None:
    good = {"protocol": 1, "epoch": "5f0c1e9a-0000-4000-8000-000000000001", "hub_time": "1763734992123-0000",
            "acked_seq": 2,
            "results": [{"op": "a", "status": "rejected", "code": "bad_value", "message": "Недопустимое значение."},
                        {"op": "b", "status": "duplicate", "first": {"status": "applied"}}]}
    assert checker.valid(good, schema(checker.doc, "Answer"))
    broken = [
        {**good, "acked_seq": -1},
        {**good, "hub_time": "1763734992123"},
        {**good, "extra": 1},
        {**good, "changes": []},  # without cursor and more
        {**good, "results": [{"op": "a", "status": "rejected"}]},  # no code
        {**good, "results": [{"op": "a", "status": "gone"}]},
        {**good, "results": [{"op": "a", "status": "applied", "first": {"status": "applied"}}]},
        {**good, "results": [{"op": "a", "status": "rejected", "code": "nope", "message": "x"}]},
        {k: v for k, v in good.items() if k != "results"},
        {k: v for k, v in good.items() if k != "epoch"},
    ]
    for answer in broken:
        assert not checker.valid(answer, schema(checker.doc, "Answer")), answer


# ---------------------------------------------------------------- real answers of the hub


def test_real_answers_of_the_hub_validate_against_the_schemas(served: Any, checker: Checker) -> None:
    school = build_tiny_school()
    _more_reference_data(school)
    one, two = Machine(served, "Кабинет 12"), Machine(served, "Учительская")
    petrova, sidorov, outsider = school["t_petrova"], school["t_sidorov"], school["t_outsider"]
    lesson, fields = lesson_fields(school)
    russian, russian_fields = lesson_fields(school, slot=3, subject="s_russian", teacher="t_sidorov")
    covering, covering_fields = lesson_fields(school, slot=4, teacher="t_outsider", substitute=True)
    early_day = LESSON_DAY - dt.timedelta(days=11)
    early, early_fields = lesson_fields(school, day=early_day, slot=5)
    student = school["st_ivanova"]
    row = attendance_key(russian, student)
    first = one.op("lesson", lesson, fields, author=petrova)
    ops = [
        first,
        one.op("lesson", russian, russian_fields, author=sidorov),
        one.op("lesson", covering, covering_fields, author=outsider),
        one.op("lesson", early, early_fields, author=petrova, at=ms_at(early_day, 9)),
        one.op("mark", "m-1", {"lesson": lesson, "student": student, "value": "5", "work_type": "test"},
               author=petrova),
        one.op("mark", "m-late", {"lesson": early, "student": student, "value": "4", "work_type": "oral"},
               author=petrova, at=ms_at(LESSON_DAY)),
        one.op("mark", "m-ahead", {"lesson": lesson, "student": student, "value": "4", "work_type": "oral"},
               author=petrova, at=ms_at(LESSON_DAY + dt.timedelta(days=400))),
        one.op("mark", "m-bad", {"lesson": lesson, "student": student, "value": "6", "work_type": "test"},
               author=petrova),
        one.op("attendance", row, {"lesson": russian, "student": student, "status": "absent_unexcused"},
               author=petrova, at=ms_at(LESSON_DAY, 10)),
        one.op("remark", "r-1", {"student": student, "date": LESSON_DAY.isoformat(), "kind": "praise",
                                 "subject": None, "text": "Помогла однокласснику"}, author=petrova),
        one.op("period_grade", period_grade_key(student, school["s_math"], school["q2"]),
               {"student": student, "subject": school["s_math"], "period": school["q2"], "value": "5",
                "status": "graded"}, author=petrova),
        one.op("test_plan", "tp-1", {"class": school["c7"], "group": None, "subject": school["s_math"],
                                     "date": "2026-12-10", "work_type": "test", "title": "Контрольная № 3"},
               author=petrova),
        first,
    ]
    queued = one.op("remark", "r-2", {"student": student, "date": LESSON_DAY.isoformat(), "kind": "remark",
                                      "subject": None, "text": "Забыл тетрадь"}, author=petrova)
    queued["seq"] += 5
    answer = one.post(ops + [queued], pull={"cursor": None, "limit": 4})
    assert answer.status_code == 200
    body = answer.get_json()
    must_validate(checker, body, "Answer")
    statuses = {r["status"] for r in body["results"]}
    assert statuses == {"applied", "held", "rejected", "duplicate", "queued"}, body["results"]
    assert any(r.get("substitute") for r in body["results"]) and any("clamped_hlc" in r for r in body["results"])

    again = one.post([first]).get_json()  # a duplicate across batches
    must_validate(checker, again, "Answer")
    short = one.post([first], results="short").get_json()  # the negotiated short results
    must_validate(checker, short, "Answer")
    assert "ops_digest" in short and "op" not in short["results"][0]
    assert checker.errors({**short, "ops_digest": None}, {"$ref": "#/components/schemas/Answer"})
    clash = two.post([two.op("attendance", row, {"lesson": russian, "student": student, "status": "absent_excused"},
                             author=sidorov, at=ms_at(LESSON_DAY, 11))]).get_json()
    must_validate(checker, clash, "Answer")
    assert clash["results"][0]["status"] == "conflict"

    seen: set[str] = set()
    cursor = None
    while True:
        page = two.post([], pull={"cursor": cursor, "limit": 7, "own": True}).get_json()
        must_validate(checker, page, "Answer")
        seen |= {change["entity"] for change in page["changes"]}
        cursor = page["cursor"]
        if not page["more"]:
            break
    assert seen == set(JOURNAL) | set(REFERENCE)
    lost = one.post([], pull={"cursor": cursor, "limit": 7}).get_json()  # its attendance lost to two's
    must_validate(checker, lost, "Answer")
    assert [(n["kind"], n["entity"], n["status"]) for n in lost["conflicts"]] == [("conflict", "attendance", "open")]

    status = served.get("/api/v1/status", headers={"Authorization": f"Bearer {one.token}"}).get_json()
    must_validate(checker, status, "Status")


def test_a_holiday_removed_on_the_hub_validates_as_a_deleted_reference_change(served: Any, checker: Checker) -> None:
    build_tiny_school()
    conf = settings()
    first, *others = conf.holidays
    school_calendar.write(current_year(conf), conf.period_kind, list(conf.periods), others)  # the first removed
    db.session.commit()
    page = Machine(served).post([], pull={"cursor": None, "limit": 1000}).get_json()
    must_validate(checker, page, "Answer")
    removed = [c for c in page["changes"] if c["entity"] == "holiday" and c["deleted"]]
    assert [(c["fields"]["name"], c["fields"]["start"]) for c in removed] == [(first.name, first.start.isoformat())]


def test_real_whole_batch_errors_validate_against_the_error_schema(served: Any, checker: Checker) -> None:
    build_tiny_school()
    machine = Machine(served)
    auth = {"Authorization": f"Bearer {machine.token}"}
    answers = [
        served.post("/api/v1/sync", data=b"{", headers=auth),
        served.post("/api/v1/sync", json={"protocol": 9, "device": machine.id, "ops": []}, headers=auth),
        served.post("/api/v1/sync", json={"protocol": 1, "device": machine.id, "ops": [{}]}, headers=auth),
        served.post("/api/v1/sync", json={"protocol": 1, "device": "dev-x", "ops": []}, headers=auth),
        served.post("/api/v1/sync", data=b"{}", headers={**auth, "Content-Encoding": "br"}),
        served.post("/api/v1/sync", json={"protocol": 1, "device": machine.id, "ops": []}),
        served.get("/api/v1/status"),
    ]
    codes = set()
    for response in answers:
        must_validate(checker, response.get_json(), "Error")
        codes.add((response.status_code, response.get_json()["error"]["code"]))
    assert codes == {(400, "malformed"), (400, "bad_protocol"), (400, "bad_op_id"), (400, "wrong_device"),
                     (400, "bad_encoding"), (401, "unauthorized")}


def _more_reference_data(school: Any) -> None:
    """A group, a timetable entry and a planned substitution, so that every reference entity is pulled."""
    group = Group(class_id=school["c7"], subject_id=school["s_math"], name="Группа 1",
                  students=[db.session.get(Student, school["st_ivanova"])])
    db.session.add(group)
    db.session.add(TimetableEntry(weekday=1, slot=2, class_id=school["c7"], group_id=None, subject_id=school["s_math"],
                                  teacher_id=school["t_petrova"], valid_from=dt.date(2026, 9, 1), valid_to=None))
    plan("substitution", LESSON_DAY, 4, school["c7"], teacher_id=school["t_outsider"], note="Курсы", by="deputy")
    db.session.commit()
