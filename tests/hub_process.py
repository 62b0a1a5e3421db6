"""The hub as a real server process (gunicorn) on a free loopback port, for tests over real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HubProcess:
    """Start, stop and kill a gunicorn-served hub on the given database; `development`: served by `flask run`
    (werkzeug's development server, as a developer may start it) instead."""

    def __init__(self, database_url: str, var_dir: Path, keys: list[str], workers: int = 1,
                 extra_args: tuple[str, ...] = (), development: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": database_url, "TETRAD_VAR": str(var_dir),
                    "TETRAD_SECRET_KEYS": ",".join(keys)}
        self.workers = workers
        self.extra_args = extra_args
        self.development = development
        self.process: subprocess.Popen[bytes] | None = None
        self.log = var_dir / f"hub-{self.port}.log"

    def start(self, timeout: float = 20.0) -> HubProcess:
        """Start the server and wait until /healthz answers."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                   "--timeout", "60", *self.extra_args, "wsgi:application"]
        if self.development:
            command = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=log,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"hub exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("hub did not start in time")

    def kill(self) -> None:
        """SIGKILL the whole server (master and workers): no clean-up, no graceful shutdown."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server gracefully."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def peak_rss_kb(self) -> int:
        """Peak resident memory of the server's processes (VmHWM), in KiB."""
        assert self.process is not None
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        peak = 0
        for pid in pids:
            status = Path(f"/proc/{pid}/status")
            if status.exists():
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak = max(peak, int(line.split()[1]))
        return peak
