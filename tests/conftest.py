"""Fixtures: a real hub on a real database (SQLite or PostgreSQL), migrated once per run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.base.extensions import db
from app.base.models import Base
from sync import clock
from tests.databases import database_url, engine_name
from tests.school import SUITE_NOW

ROOT = Path(__file__).resolve().parent.parent
TEST_KEYS = ["test-key-current", "test-key-previous"]


def pytest_configure(config: pytest.Config) -> None:
    """Every test, and every hub or client process a test starts, reads the school's clock set to SUITE_NOW."""
    clock.set_now(SUITE_NOW)


@pytest.fixture
def set_clock() -> Iterator[object]:
    """`set_clock(moment)` moves the school's clock for one test; the suite's clock is back afterwards."""
    yield clock.set_now
    clock.set_now(SUITE_NOW)


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per test run, with the migrations applied."""
    with database_url(tmp_path_factory.mktemp("db")) as url:
        os.environ["DATABASE_URL"] = url
        app = create_app({"SECRET_KEYS": TEST_KEYS, "VAR_DIR": tmp_path_factory.mktemp("var")})
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield url
        os.environ.pop("DATABASE_URL", None)


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if engine_name() == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    else:
        for name in tables:
            db.session.execute(text(f'DELETE FROM "{name}"'))
    db.session.commit()


@pytest.fixture
def make_app(db_url: str, tmp_path: Path) -> Iterator[object]:
    """Build a hub on the test database; `make_app(TETRAD_CONFIG=...)` overrides settings."""
    built: list[Flask] = []

    def factory(**overrides: object) -> Flask:
        config = {"TESTING": True, "SECRET_KEYS": TEST_KEYS, "VAR_DIR": tmp_path / "var"}
        config.update(overrides)
        app = create_app(config)
        built.append(app)
        return app

    yield factory
    for app in built:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    """A hub with an empty database (every table emptied before the test)."""
    app = make_app()
    with app.app_context():
        _empty_all_tables()
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    """A test client of the hub."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A runner for the hub's CLI commands."""
    return app.test_cli_runner()
