"""Owner-only files and folders for what holds personal data: the SQLite database, backups, the site folder.

The keys file is already written with mode 600 (app/base/keys.py). Here: a folder the hub creates is 700 and a
file 600; one that already exists loses its "other" bits (rwx for everyone else) and keeps its group's, so a
school that gave a group access on purpose keeps it, but nothing stays world-readable. A shared folder is never
changed: one with the sticky bit (/tmp, /var/tmp) or one that another user owns (a database put in /tmp must not
take /tmp away from everyone else).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) owner-only, or take the world's access away from an existing one."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode passes through the umask; say it exactly
    elif not _shared(path):
        _drop_other(path)
    return path


def _shared(folder: Path) -> bool:
    info = folder.stat()
    owner = getattr(os, "getuid", lambda: info.st_uid)()  # Windows has no owners to compare
    return bool(info.st_mode & stat.S_ISVTX) or info.st_uid != owner


def private_file(path: Path) -> Path:
    """Create an empty `path` with mode 600 when missing (SQLite then keeps that mode and gives it to its -wal
    and -shm files), or take the world's access away from an existing one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _drop_other(path)
    else:
        os.close(fd)
    return path


def _drop_other(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o007:
        try:
            os.chmod(path, mode & ~0o007)
        except PermissionError:  # not ours: say nothing here, the deployment guide tells how to set it
            pass
