"""config.yaml: loads into typed settings, and a wrong file stops start-up naming the key and line."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from app.base.settings import ConfigError, load_settings, schema_keys

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config.yaml"


def write_config(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the shipped config.yaml with one piece of text replaced."""
    text = CONFIG.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_of(path: Path, needle: str) -> int:
    """The 1-based line number where `needle` first appears."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_shipped_config_loads_with_quarters_and_default_marks():
    settings = load_settings(CONFIG)
    assert [p.name for p in settings.periods][0] == "1 четверть"
    assert settings.period_kind == "quarter"
    assert set(settings.mark_values) >= {"5", "4", "3", "2", "1", "зачёт", "незачёт"}
    assert settings.work_type("test").short == "К"
    assert settings.no_marks_grades == frozenset({1})
    assert settings.period_on(dt.date(2026, 11, 16)).number == 2
    assert settings.period_on(dt.date(2026, 11, 1)) is None  # autumn holidays


def test_unknown_key_is_named_with_its_line(tmp_path):
    path = write_config(tmp_path, "  timezone: Europe/Moscow", "  timezone: Europe/Moscow\n  colour: red")
    with pytest.raises(ConfigError, match=rf"неизвестный ключ school\.colour \(строка {line_of(path, 'colour')}\)"):
        load_settings(path)


def test_bad_date_is_named_with_its_line(tmp_path):
    path = write_config(tmp_path, "start: 2026-09-01\n", "start: 2026-13-01\n")
    with pytest.raises(ConfigError, match=rf"academic_year\.start \(line {line_of(path, '2026-13-01')}\)"):
        load_settings(path)


def test_overlapping_periods_stop_start_up(tmp_path):
    path = write_config(tmp_path, '"2 четверть", start: 2026-11-05', '"2 четверть", start: 2026-10-20')
    with pytest.raises(ConfigError, match=r"periods\[1\].*overlaps"):
        load_settings(path)


def test_missing_key_is_named(tmp_path):
    path = write_config(tmp_path, "  approval_after_days: 7\n", "")
    with pytest.raises(ConfigError, match=r"нет обязательного ключа corrections\.approval_after_days"):
        load_settings(path)


def test_unknown_timezone_and_period_kind_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown timezone"):
        load_settings(write_config(tmp_path, "Europe/Moscow", "Europe/Atlantis"))
    with pytest.raises(ConfigError, match="quarter, trimester, half"):
        load_settings(write_config(tmp_path, "period_kind: quarter", "period_kind: weeks"))


def test_trimesters_are_selectable(tmp_path):
    text = CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"  periods:\n(    - .*\n)+", (
        "  periods:\n"
        '    - {name: "1 триместр", start: 2026-09-01, end: 2026-11-29}\n'
        '    - {name: "2 триместр", start: 2026-12-07, end: 2027-02-28}\n'
        '    - {name: "3 триместр", start: 2027-03-08, end: 2027-05-31}\n'
    ), text)
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("period_kind: quarter", "period_kind: trimester"), encoding="utf-8")
    settings = load_settings(path)
    assert [p.name for p in settings.periods] == ["1 триместр", "2 триместр", "3 триместр"]


def test_every_key_is_documented_in_the_config_and_the_docs():
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    config = CONFIG.read_text(encoding="utf-8")
    undocumented = [k for k in schema_keys() if f"`{k}`" not in docs]
    assert undocumented == []
    for key in schema_keys():
        assert f"{key.rsplit('.', 1)[-1]}:" in config or "." in key, key


OLD_CONFIG = Path(__file__).parent / "data" / "config-2026-11-22.yaml"  # git show 6ec9500:config.yaml


def test_an_older_config_without_the_keys_added_since_starts_with_their_defaults():
    old = load_settings(OLD_CONFIG)
    shipped = load_settings(Path(__file__).parent.parent / "config.yaml")
    assert "retain_days" not in OLD_CONFIG.read_text(encoding="utf-8")
    assert old.sync["retain_days"] == shipped.sync["retain_days"] == 60
    assert old.backup == {"keep_daily": 14, "keep_monthly": 12} == shipped.backup
    assert old.deadlines["plan_ahead_days"] == 14
    assert (old.proxy_count, old.access_decision_days, old.director, old.site_keep_last_year) == (0, 2, "", True)
    assert old.notify["email"]["port"] == 25 and old.notify["sms"]["timeout_seconds"] == 10
    assert old.sync["allow_unplanned_substitutions"] is False


def test_a_mistyped_key_in_an_older_config_still_stops_start_up_naming_it(tmp_path):
    text = OLD_CONFIG.read_text(encoding="utf-8").replace("  max_pull_limit:", "  max_pul_limit:")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"неизвестный ключ sync\.max_pul_limit \(строка \d+\): может быть, "
                                          r"max_pull_limit\?"):
        load_settings(path)
