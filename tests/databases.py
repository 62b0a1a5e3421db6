"""Real databases for the test suite: a temporary SQLite file, or a throwaway PostgreSQL server.

`TETRAD_TEST_DB=postgresql` selects PostgreSQL: the server is created with initdb in a temporary
folder and started with pg_ctl on a free loopback port, as the `postgres` system user when the
tests run as root (initdb refuses root). `TETRAD_TEST_PG_URL` uses an existing server instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.hub_process import free_port


def engine_name() -> str:
    """The database engine this test run uses: sqlite or postgresql."""
    return os.environ.get("TETRAD_TEST_DB", "sqlite")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (Debian package postgresql)")
    return path


@contextlib.contextmanager
def postgres_server(durable: bool = False) -> Iterator[str]:
    """Start a throwaway PostgreSQL server; yield a URL of an empty database on it. Tests run it without fsync;
    `durable` (the benchmarks) keeps PostgreSQL's defaults: a commit is on disk when it returns."""
    if os.environ.get("TETRAD_TEST_PG_URL"):
        yield os.environ["TETRAD_TEST_PG_URL"]
        return
    root = Path(tempfile.mkdtemp(prefix="tetrad-pg-"))
    data, port = root / "data", free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    run = lambda *cmd: subprocess.run([*as_user, *cmd], check=True, capture_output=True)  # noqa: E731
    run(_pg_bin("initdb"), "-D", str(data), "-U", "tetrad", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root}"
    if not durable:
        options += " -c fsync=off -c full_page_writes=off"
    run(_pg_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
    try:
        run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "tetrad", "tetrad_test")
        yield f"postgresql+psycopg://tetrad@127.0.0.1:{port}/tetrad_test"
    finally:
        run(_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def database_url(tmp_dir: Path) -> Iterator[str]:
    """A URL of an empty database of the selected engine."""
    if engine_name() == "postgresql":
        with postgres_server() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_dir / 'test.db'}"
