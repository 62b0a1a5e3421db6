"""Which file is the SQLite database: one answer for the app factory, the ingest's turn file, backup and restore."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app import create_app
from app.base.database_file import sqlite_file
from app.syncing.write_turn import turn_file, write_turn
from tests.conftest import TEST_KEYS


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///var/tetrad.db", "var/tetrad.db"),
    ("sqlite:////srv/tetrad/tetrad.db", "/srv/tetrad/tetrad.db"),
    ("sqlite:///file:/srv/tetrad/tetrad.db?mode=rwc&uri=true", "/srv/tetrad/tetrad.db"),
    ("sqlite:///file:var/tetrad.db?uri=true", "var/tetrad.db"),
    ("sqlite:///file::memory:?cache=shared&uri=true", None),
    ("sqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
    ("sqlite:///:memory:", None),
    ("sqlite://", None),
    ("postgresql+psycopg://tetrad@localhost/tetrad", None),
])
def test_a_database_url_names_its_sqlite_file_or_none(url, path):
    assert sqlite_file(url) == (Path(path) if path else None)


def test_a_database_given_in_sqlites_uri_form_is_made_owner_only_and_takes_its_turns_beside_itself(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a wrong reading of the URL would make its files here, under "file:…"
    database = tmp_path / "school" / "hub.db"
    app = create_app({"TESTING": True, "SECRET_KEYS": TEST_KEYS, "VAR_DIR": tmp_path / "var",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///file:{database}?mode=rwc&uri=true"})
    assert stat.S_IMODE(database.stat().st_mode) == 0o600  # made before SQLite creates it
    with app.app_context(), write_turn():
        turn = turn_file(database)
        assert turn.exists() and stat.S_IMODE(turn.stat().st_mode) == 0o600
    assert not [name for name in os.listdir(tmp_path) if name.startswith("file:")]
