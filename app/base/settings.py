"""School settings: `config.yaml` declared as data, validated with line numbers, loaded into typed objects.

Every key is declared once in SCHEMA with its help text; docs/configuration.md must mention each one
(a test checks it). A wrong file raises ConfigError with one message naming the key and the line.

Keys added after the first release carry their default here (`Spec.default`, the one place for defaults):
an older config.yaml without them still starts, with these values; a section whose every key has a default
may be left out whole. A key the schema does not know (a typo) still stops start-up, naming it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import ipaddress
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from sync import clock


class ConfigError(Exception):
    """The configuration file is wrong; the message names the key and the line."""


NO_DEFAULT: Any = object()  # a key that must be written in config.yaml


@dataclass(frozen=True)
class Spec:
    """One setting: its kind, help text and, for lists of records, the record's own keys."""

    kind: str  # str, int, float, bool, date, time, enum, timezone, list, records, mapping
    help: str
    choices: tuple[str, ...] = ()
    item: dict[str, Spec] | None = None
    default: Any = NO_DEFAULT  # the value when the key is left out (keys added after the first release)


def _records(help_text: str, **item: Spec) -> Spec:
    return Spec("records", help_text, item=item)


SCHEMA: dict[str, Any] = {
    "school": {
        "name": Spec("str", "Full name of the school as printed on slips and journal copies."),
        "timezone": Spec("timezone", "IANA timezone deciding which day an entry belongs to."),
    },
    "academic_year": {
        "name": Spec("str", "Label of the academic year, e.g. 2026-2027."),
        "start": Spec("date", "First day of the academic year."),
        "end": Spec("date", "Last day of the academic year."),
        "period_kind": Spec("enum", "How the year is divided.", choices=("quarter", "trimester", "half")),
        "periods": _records(
            "The periods in order, without overlaps, inside the year.",
            name=Spec("str", "Period name, e.g. «1 четверть»."),
            start=Spec("date", "First day of the period."),
            end=Spec("date", "Last day of the period."),
        ),
        "holidays": _records(
            "School holidays (каникулы).",
            name=Spec("str", "Holiday name."),
            start=Spec("date", "First day off."),
            end=Spec("date", "Last day off."),
        ),
        "school_days": Spec("int", "Days a week with lessons: 5 or 6."),
    },
    "bells": _records(
        "Lesson bell times.",
        slot=Spec("int", "Lesson number in the day."),
        start=Spec("time", "Start, H:MM."),
        end=Spec("time", "End, H:MM."),
    ),
    "marks": {
        "values": Spec("list", "The only values a mark may carry."),
        "work_types": _records(
            "Work types marks are given for.",
            code=Spec("str", "Code used on the wire."),
            name=Spec("str", "Russian name."),
            short=Spec("str", "Short letter shown beside a mark, e.g. К."),
            weight=Spec("float", "Weight in the weighted average."),
        ),
        "no_marks_grades": Spec("list", "Grade levels that get no marks."),
        "forecast_thresholds": Spec("mapping", "Weighted-average thresholds for the forecast marks 5, 4, 3."),
        "min_marks_one_hour": Spec("int", "Marks needed for a period mark in a 1-hour-a-week subject."),
        "min_marks_more_hours": Spec("int", "Marks needed for a period mark with 2+ hours a week."),
    },
    "deadlines": {
        "topic_days": Spec("int", "Days after the lesson to enter the topic."),
        "absences_days": Spec("int", "Days after the lesson to enter absences."),
        "homework_hours": Spec("int", "Hours after the class's last lesson to enter homework."),
        "marks_days": Spec("int", "Days after the lesson to enter marks."),
        "written_work_days": Spec("int", "Days to mark written work."),
        "test_days": Spec("int", "Days to mark a test."),
        "period_marks_days": Spec("int", "Days after the period ends to enter period marks."),
        "plan_ahead_days": Spec("int", "Days ahead a lesson may be planned (topic, homework, cancelled).", default=14),
    },
    "corrections": {
        "approval_after_days": Spec("int", "Days after the lesson after which a mark change is held."),
    },
    "sync": {
        "max_ops_per_batch": Spec("int", "Most ops in one batch."),
        "max_body_bytes": Spec("int", "Largest request body as sent, bytes."),
        "max_inflated_bytes": Spec("int", "Largest body after gzip inflation, bytes."),
        "max_clock_skew_seconds": Spec("int", "Allowed lead of an op's HLC over the hub clock, seconds."),
        "max_pull_limit": Spec("int", "Most changes in one pull page."),
        "gap_alert_hours": Spec("int", "Hours a seq gap may stay open before the device is flagged."),
        "allow_unplanned_substitutions": Spec("bool", "Accept substitutions the deputy did not plan (else held).",
                                              default=False),
        "retain_days": Spec("int", "Days classroom machines keep acknowledged ops, to resend them after a restore.",
                            default=60),
    },
    "backup": {
        "keep_daily": Spec("int", "Backups kept in each destination: the newest of each of this many recent days.",
                           default=14),
        "keep_monthly": Spec("int", "Also kept: the newest backup of each of this many recent months.", default=12),
    },
    "server": {
        "proxy_count": Spec("int", "Reverse proxies in front of the hub whose X-Forwarded-* headers are trusted.",
                            default=0),
    },
    "site": {
        "output_dir": Spec("str", "Folder the family site is written to."),
        "base_url": Spec("str", "Public address of the family site."),
        "keep_last_year": Spec("bool", "At `year close`, keep each family's pages of the year readable (read-only) "
                               "at d/<token>/<year>/ under the same link; false: they go.", default=True),
    },
    "paper": {
        "qr_on_slips": Spec("bool", "Print a QR code of the family's link on weekly slips (families with consent)."),
    },
    "access": {
        "decision_days": Spec("int", "Working days to decide a guardian's access request (002 reg. §2.9).", default=2),
        "director": Spec("str", "The director's name, printed under refusal decisions and on the forms.", default=""),
        "student_min_age": Spec("int", "Age from which a student may get a link to their own diary.", default=14),
        "code_hours": Spec("int", "Hours an invitation code read out by phone stays valid.", default=72),
    },
    "notify": {
        "hub_url": Spec("str", "Public address of the hub, for unsubscribe links in e-mails.",
                        default="http://127.0.0.1:5000"),
        "body_days": Spec("int", "Days a sent or failed message's text is kept; the send log stays.", default=30),
        "max_attempts": Spec("int", "Tries before a message is given up as failed.", default=5),
        "retry_seconds": Spec("int", "Wait before the first retry; doubled after each further failure.", default=60),
        "lease_seconds": Spec("int", "A message claimed longer ago than this (a crashed worker) is tried again.",
                              default=300),
        "sms_stop_word": Spec("str", "The word a guardian replies by SMS to stop SMS messages.", default="СТОП"),
        "email": {
            "host": Spec("str", "SMTP server host.", default="127.0.0.1"),
            "port": Spec("int", "SMTP server port.", default=25),
            "security": Spec("enum", "Connection security.", choices=("none", "starttls", "tls"), default="none"),
            "username_env": Spec("str", "Environment variable holding the SMTP user name (unset: no login).",
                                 default="TETRAD_SMTP_USER"),
            "password_env": Spec("str", "Environment variable holding the SMTP password.",
                                 default="TETRAD_SMTP_PASSWORD"),
            "sender": Spec("str", "From address of every e-mail.", default="Tetrad <diary@localhost>"),
            "per_minute": Spec("int", "Most e-mails handed to the server per minute.", default=60),
            "timeout_seconds": Spec("int", "Seconds to wait for the SMTP server.", default=20),
        },
        "sms": {
            "url": Spec("str", "The SMS gateway's send address (JSON POST).",
                        default="http://127.0.0.1:9090/v1/messages"),
            "token_env": Spec("str", "Environment variable holding the gateway's API token.",
                              default="TETRAD_SMS_TOKEN"),
            "sender": Spec("str", "Sender name shown on the phone.", default="TETRAD"),
            "per_minute": Spec("int", "Most SMS handed to the gateway per minute.", default=30),
            "timeout_seconds": Spec("int", "Seconds to wait for the gateway's answer.", default=10),
        },
    },
}


def schema_keys(schema: dict[str, Any] | None = None, prefix: str = "") -> list[str]:
    """Every dotted key the schema declares, record fields as `list.field`."""
    keys: list[str] = []
    for name, spec in (schema or SCHEMA).items():
        path = f"{prefix}{name}"
        keys.append(path)
        if isinstance(spec, dict):
            keys += schema_keys(spec, path + ".")
        elif spec.item:
            keys += schema_keys(spec.item, path + ".")
    return keys


@dataclass(frozen=True)
class Period:
    number: int
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Holiday:
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Bell:
    slot: int
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class WorkType:
    code: str
    name: str
    short: str
    weight: float


@dataclass(frozen=True)
class Settings:
    """The school's settings as typed values; `raw` keeps the validated mapping."""

    school_name: str
    timezone: ZoneInfo
    year_name: str
    year_start: dt.date
    year_end: dt.date
    period_kind: str
    periods: tuple[Period, ...]
    holidays: tuple[Holiday, ...]
    school_days: int
    bells: tuple[Bell, ...]
    mark_values: tuple[str, ...]
    work_types: tuple[WorkType, ...]
    no_marks_grades: frozenset[int]
    forecast_thresholds: dict[str, float]
    min_marks_one_hour: int
    min_marks_more_hours: int
    deadlines: dict[str, int]
    approval_after_days: int
    sync: dict[str, int]
    backup: dict[str, int]
    site_output_dir: Path
    site_base_url: str
    paper_qr_on_slips: bool
    access_decision_days: int = 2
    director: str = ""
    student_min_age: int = 14
    code_hours: int = 72
    source: Path = field(default=Path("config.yaml"))
    notify: dict[str, Any] = field(default_factory=dict)  # read by app.notify.config
    proxy_count: int = 0
    site_keep_last_year: bool = True

    def work_type(self, code: str) -> WorkType | None:
        """The work type with this code, or None."""
        return next((w for w in self.work_types if w.code == code), None)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """Today's date in the school's timezone (not the server's)."""
        return (now or clock.now()).astimezone(self.timezone).date()

    def period_on(self, day: dt.date) -> Period | None:
        """The period containing this day, or None (holidays between periods)."""
        return next((p for p in self.periods if p.start <= day <= p.end), None)

    def holiday_on(self, day: dt.date) -> Holiday | None:
        """The holiday containing this day, or None."""
        return next((h for h in self.holidays if h.start <= day <= h.end), None)

    def served_at(self, hub_url: str | None) -> Settings:
        """These settings with links built on the hub's own address, unless the school set a public one.

        `make run` passes the address the hub was started on (TETRAD_HUB_URL). A `site.base_url` that is not a
        loopback address is the school's public URL and always wins.
        """
        if not hub_url or not is_loopback(self.site_base_url):
            return self
        return dataclasses.replace(self, site_base_url=hub_url.rstrip("/"))


def is_loopback(url: str) -> bool:
    """Whether a URL points at this machine only (127.0.0.1, ::1, localhost): useless in a letter to a family."""
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def hub_url(host: str, port: int) -> str:
    """The address a hub started on HOST:PORT is reached at; a wildcard host becomes this machine's address."""
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 - naming the wildcard, not binding to it
        host = _lan_address()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _lan_address() -> str:
    """This machine's address on its network (no packet is sent: a UDP socket only picks a route)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            return str(probe.getsockname()[0])
    except OSError:
        return socket.gethostname()


_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _fail(key: str, node: yaml.Node, message: str) -> ConfigError:
    return ConfigError(f"config: {key} (line {node.start_mark.line + 1}): {message}")


def _scalar(key: str, spec: Spec, node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise _fail(key, node, "expected a single value")
    value: Any = node.value
    try:
        value = yaml.safe_load(yaml.serialize(node))
        if spec.kind == "str":
            if not isinstance(value, str) or not value.strip():
                raise ValueError("expected non-empty text")
            return value
        if spec.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("expected a whole number ≥ 0")
            return value
        if spec.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
            return value
        if spec.kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError("expected a positive number")
            return float(value)
        if spec.kind == "date":
            if isinstance(value, dt.date):
                return value
            return dt.date.fromisoformat(str(value))
        if spec.kind == "time":
            match = _TIME.match(str(value))
            if not match:
                raise ValueError("expected a time H:MM")
            return dt.time(int(match[1]), int(match[2]))
        if spec.kind == "enum":
            if value not in spec.choices:
                raise ValueError(f"expected one of {', '.join(spec.choices)}")
            return value
        if spec.kind == "timezone":
            return ZoneInfo(str(value))
    except ZoneInfoNotFoundError:
        raise _fail(key, node, f"unknown timezone {value!r}") from None
    except ValueError as exc:
        text = str(exc) if spec.kind != "date" else "expected a date YYYY-MM-DD"
        raise _fail(key, node, text) from None
    raise AssertionError(spec.kind)


def _validate(key: str, spec: Any, node: yaml.Node) -> Any:
    if isinstance(spec, dict):
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            node = yaml.MappingNode("tag:yaml.org,2002:map", [], node.start_mark, node.end_mark)
        if not isinstance(node, yaml.MappingNode):
            raise _fail(key or "(top)", node, "expected a section of keys")
        return _mapping(key, spec, node)
    if spec.kind == "records":
        if not isinstance(node, yaml.SequenceNode):
            raise _fail(key, node, "expected a list")
        return [_validate(f"{key}[{i}]", spec.item, child) for i, child in enumerate(node.value)]
    if spec.kind == "list":
        if not isinstance(node, yaml.SequenceNode):
            raise _fail(key, node, "expected a list")
        return [yaml.safe_load(yaml.serialize(child)) for child in node.value]
    if spec.kind == "mapping":
        if not isinstance(node, yaml.MappingNode):
            raise _fail(key, node, "expected a mapping")
        return {str(k.value): float(yaml.safe_load(yaml.serialize(v))) for k, v in node.value}
    return _scalar(key, spec, node)


def _mapping(prefix: str, schema: dict[str, Any], node: yaml.MappingNode) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        name = str(key_node.value)
        key = f"{prefix}.{name}" if prefix else name
        if name not in schema:
            close = difflib.get_close_matches(name, list(schema), n=1)
            hint = f": может быть, {close[0]}?" if close else f": здесь бывают {', '.join(schema)}"
            raise ConfigError(f"config: неизвестный ключ {key} (строка {key_node.start_mark.line + 1}){hint}")
        if name in result:
            raise _fail(key, key_node, "key given twice")
        result[name] = _validate(key, schema[name], value_node)
    for name, spec in schema.items():
        if name in result:
            continue
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(spec, dict):  # a section left out: its defaults, or the first key it must have
            result[name] = _mapping(key, spec, yaml.MappingNode("tag:yaml.org,2002:map", [], node.start_mark,
                                                                 node.end_mark))
        elif spec.default is not NO_DEFAULT:
            result[name] = spec.default
        else:
            raise ConfigError(f"config: нет обязательного ключа {key} (раздел со строки {node.start_mark.line + 1}); "
                              "см. docs/configuration.md")
    return result


def _check_calendar(data: dict[str, Any], root: yaml.MappingNode) -> None:
    year = data["academic_year"]
    where = _node_at(root, "academic_year")
    if year["start"] >= year["end"]:
        raise _fail("academic_year.end", where, "the year ends before it starts")
    previous_end: dt.date | None = None
    for i, period in enumerate(year["periods"]):
        key = f"academic_year.periods[{i}]"
        if period["start"] > period["end"]:
            raise _fail(key, where, "the period ends before it starts")
        if period["start"] < year["start"] or period["end"] > year["end"]:
            raise _fail(key, where, "the period lies outside the academic year")
        if previous_end is not None and period["start"] <= previous_end:
            raise _fail(key, where, "the period overlaps the one before it")
        previous_end = period["end"]
    if not year["periods"]:
        raise _fail("academic_year.periods", where, "at least one period is needed")
    for i, holiday in enumerate(year["holidays"]):
        if holiday["start"] > holiday["end"]:
            raise _fail(f"academic_year.holidays[{i}]", where, "the holiday ends before it starts")
    if year["school_days"] not in (5, 6):
        raise _fail("academic_year.school_days", where, "expected 5 or 6")
    marks = data["marks"]
    if not marks["values"] or not all(isinstance(v, str) and v for v in marks["values"]):
        raise _fail("marks.values", _node_at(root, "marks"), "expected a list of texts")
    codes = [w["code"] for w in marks["work_types"]]
    if len(set(codes)) != len(codes):
        raise _fail("marks.work_types", _node_at(root, "marks"), "work type codes repeat")


def _node_at(root: yaml.MappingNode, name: str) -> yaml.Node:
    return next((v for k, v in root.value if k.value == name), root)


def load_settings(path: str | Path) -> Settings:
    """Read, validate and type the configuration file at `path`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror}") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"config: {path.name}{line}: not valid YAML") from None
    if root is None:
        raise ConfigError(f"config: {path.name} is empty")
    data = _validate("", SCHEMA, root)
    assert isinstance(root, yaml.MappingNode)  # _validate refuses any other top
    _check_calendar(data, root)
    return _typed(data, path)


def _typed(data: dict[str, Any], path: Path) -> Settings:
    year, marks = data["academic_year"], data["marks"]
    output = Path(data["site"]["output_dir"])
    return Settings(
        school_name=data["school"]["name"],
        timezone=data["school"]["timezone"],
        year_name=year["name"],
        year_start=year["start"],
        year_end=year["end"],
        period_kind=year["period_kind"],
        periods=tuple(Period(i + 1, p["name"], p["start"], p["end"]) for i, p in enumerate(year["periods"])),
        holidays=tuple(Holiday(h["name"], h["start"], h["end"]) for h in year["holidays"]),
        school_days=year["school_days"],
        bells=tuple(Bell(b["slot"], b["start"], b["end"]) for b in data["bells"]),
        mark_values=tuple(str(v) for v in marks["values"]),
        work_types=tuple(WorkType(**w) for w in marks["work_types"]),
        no_marks_grades=frozenset(int(g) for g in marks["no_marks_grades"]),
        forecast_thresholds=marks["forecast_thresholds"],
        min_marks_one_hour=marks["min_marks_one_hour"],
        min_marks_more_hours=marks["min_marks_more_hours"],
        deadlines=data["deadlines"],
        approval_after_days=data["corrections"]["approval_after_days"],
        sync=data["sync"],
        backup=data["backup"],
        site_output_dir=output if output.is_absolute() else (path.parent / output).resolve(),
        site_base_url=data["site"]["base_url"].rstrip("/"),
        site_keep_last_year=data["site"]["keep_last_year"],
        paper_qr_on_slips=data["paper"]["qr_on_slips"],
        access_decision_days=data["access"]["decision_days"],
        director=data["access"]["director"],
        student_min_age=data["access"]["student_min_age"],
        code_hours=data["access"]["code_hours"],
        source=path,
        notify=data["notify"],
        proxy_count=data["server"]["proxy_count"],
    )
