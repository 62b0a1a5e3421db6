"""Start-up as staff meet it: a wrong config.yaml stops every command with one line; keys stay private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from app.base.keys import load_keys, rotate_keys

ROOT = Path(__file__).resolve().parent.parent


def test_a_wrong_config_stops_the_hub_with_one_line_naming_key_and_line(tmp_path):
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "config.yaml"
    bad.write_text(text.replace("  timezone: Europe/Moscow", "  timezone: Europe/Moscow\n  colour: red"),
                   encoding="utf-8")
    line = next(n for n, row in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if "colour" in row)
    env = {**os.environ, "TETRAD_CONFIG": str(bad), "TETRAD_VAR": str(tmp_path / "var")}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "urls"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"config: неизвестный ключ school.colour (строка {line}): "
                                     "здесь бывают name, timezone")


def test_generated_signing_keys_are_readable_by_the_owner_only_and_rotate(tmp_path, monkeypatch):
    monkeypatch.delenv("TETRAD_SECRET_KEYS", raising=False)
    first = load_keys(tmp_path)
    path = tmp_path / "secret_keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keys(tmp_path) == first  # made once, then reused
    rotated = rotate_keys(tmp_path)
    assert rotated[1:] == first and rotated[0] != first[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keys_from_the_environment_win_over_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TETRAD_SECRET_KEYS", "new-key, old-key")
    assert load_keys(tmp_path) == ["new-key", "old-key"]
    assert not (tmp_path / "secret_keys.json").exists()
