"""The Tetrad hub: the app factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from app.base import wal
from app.base.database_file import sqlite_file
from app.base.extensions import db, migrate
from app.base.keys import load_keys
from app.base.logmask import mask_request_logs
from app.base.permissions import private_dir, private_file
from app.base.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the hub: settings from config.yaml, database from DATABASE_URL, blueprints and commands."""
    app = Flask(__name__)
    test_config = test_config or {}
    var_dir = Path(test_config.get("VAR_DIR") or os.environ.get("TETRAD_VAR", str(ROOT / "var")))
    config_path = test_config.get("TETRAD_CONFIG") or os.environ.get("TETRAD_CONFIG", str(ROOT / "config.yaml"))
    settings = load_settings(config_path).served_at(test_config.get("HUB_URL") or os.environ.get("TETRAD_HUB_URL"))
    keys = test_config.get("SECRET_KEYS") or load_keys(var_dir)
    app.config.update(
        VAR_DIR=var_dir,
        SECRET_KEY=keys[0],
        SECRET_KEY_FALLBACKS=keys[1:],
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'tetrad.db'}",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        MAX_CONTENT_LENGTH=settings.sync["max_body_bytes"] + 1,  # one over: see api.read_body
        JSON_AS_ASCII=False,
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A batch waiting on a lock gives up after a few seconds and answers 503, like SQLite's busy timeout.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] = {"options": "-c lock_timeout=5000"}
    app.config.update(test_config)
    app.extensions["tetrad.settings"] = settings
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        private_dir(var_dir)
        database = sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
        if database is not None:
            private_dir(database.parent)
            private_file(database)  # created 600 before SQLite creates it 644
    if settings.proxy_count:
        # Behind nginx: the client's address and scheme from exactly `server.proxy_count` proxies, no more.
        count = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    mask_request_logs(app.logger)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)

    from app import cli, family, invitation, notify, staff
    from app.syncing import api, openapi

    api.init_app(app)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(family.bp)
    app.register_blueprint(invitation.bp)
    notify.init_app(app)
    staff.init_app(app)
    app.add_url_rule("/healthz", "healthz", lambda: {"ok": True})
    cli.init_app(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: enforce foreign keys, write-ahead log, wait briefly for locks instead of failing.

    synchronous = FULL: a commit returns only after the write-ahead log is synced to disk, so a batch the hub
    has answered survives a power cut (the classroom machine deletes acknowledged ops). NORMAL would sync the
    log only at checkpoints: after a power cut the last commits could be lost while their answers were sent.
    cache_size: 16 MiB of pages per connection (SQLite's default is 2 MiB), so a batch's index pages (op log,
    journal tables) stay in memory between batches instead of being read again.
    wal_autocheckpoint: a safety net; the sync API checkpoints after each answer (app/base/wal.py).
    """
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.execute("PRAGMA cache_size = -16384")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {wal.AUTOCHECKPOINT_PAGES}")
        cursor.close()
