"""The classroom journal: a small server-rendered app over the sync client's SQLite file.

    app = create_app("C:/tetrad/client.db")      # or `tetrad-classroom --db FILE`
    app.run(port=5001)

Teachers sign in with a PIN, record lessons offline (every save is ops in the client's outbox, checked by
the same rules the hub runs), and sync with a button, a schedule, or USB files. It imports `sync` only.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, g

from sync.client import SyncClient

IDLE_MINUTES = 10


def create_app(db_path: str | os.PathLike[str], test_config: dict[str, Any] | None = None) -> Flask:
    """The classroom app for one client file."""
    app = Flask(__name__)
    app.config.update(
        CLASSROOM_DB=str(Path(db_path)),
        CLASSROOM_IDLE_MINUTES=IDLE_MINUTES,
        CLASSROOM_TRANSPORT=None,  # tests pass an in-process transport; None means HTTP
        CLASSROOM_LOCK_TRIES=5,
        CLASSROOM_LOCK_SECONDS=60,
        CLASSROOM_SYNC_WAIT=3.0,  # seconds «Синхронизировать» waits for the result before showing progress
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        TEMPLATES_AUTO_RELOAD=False,
    )
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret(app.config["CLASSROOM_DB"])

    from classroom import auth, i18n, journal, lessons, syncing, views

    i18n.init_app(app)
    auth.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(lessons.bp)
    app.register_blueprint(journal.bp)
    app.register_blueprint(syncing.bp)
    app.teardown_appcontext(close_client)
    app.jinja_env.globals.update(views.template_globals())
    return app


def _secret(db_path: str) -> str:
    """The session key, made once per client file and kept in it, so sign-ins survive a restart."""
    client = SyncClient(db_path)
    try:
        from classroom.school import prepare

        prepare(client)
        with client.store.transaction():
            key = client.store.get("classroom_secret")
            if not key:
                key = secrets.token_hex(32)
                client.store.put("classroom_secret", key)
        return str(key)
    finally:
        client.close()


def get_client() -> SyncClient:
    """This request's sync client (one SQLite connection per request)."""
    if "client" not in g:
        from flask import current_app

        transport = current_app.config["CLASSROOM_TRANSPORT"]
        g.client = SyncClient(current_app.config["CLASSROOM_DB"], transport=transport)
    client: SyncClient = g.client
    return client


def close_client(_exc: BaseException | None) -> None:
    """Close the request's client file."""
    client = g.pop("client", None)
    if client is not None:
        client.close()
