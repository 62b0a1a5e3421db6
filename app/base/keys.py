"""Signing keys: from TETRAD_SECRET_KEYS, or generated once into var/ with owner-only permissions.

The session and token keys are secrets shared by nobody; the Ed25519 key (`load_signing_key`) signs backups
and the year's archive, and its public half is printed for the archive's paper file.

The first key signs; the others still verify, so a key can be rotated without logging everyone out
or invalidating every device token at once.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.base.permissions import private_dir


def load_keys(var_dir: Path) -> list[str]:
    """The signing keys, newest first."""
    from_env = os.environ.get("TETRAD_SECRET_KEYS", "").strip()
    if from_env:
        return [k.strip() for k in from_env.split(",") if k.strip()]
    path = var_dir / "secret_keys.json"
    if not path.exists():
        private_dir(var_dir)
        # O_EXCL: two processes starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read(path)
        with os.fdopen(fd, "w") as handle:
            json.dump([secrets.token_urlsafe(48)], handle)
    return _read(path)


def rotate_keys(var_dir: Path, keep: int = 2) -> list[str]:
    """Put a new key first, keeping `keep` older ones for verification."""
    path = var_dir / "secret_keys.json"
    keys = [secrets.token_urlsafe(48)] + _read(path)[:keep]
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keys, handle)
    os.replace(tmp, path)
    return keys


def _read(path: Path) -> list[str]:
    keys = json.loads(path.read_text())
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        raise RuntimeError(f"{path} must hold a non-empty list of keys")
    return keys


SIGNING_KEY = "signing_key.pem"


def load_signing_key(var_dir: Path) -> Ed25519PrivateKey:
    """The hub's Ed25519 key that signs backups and the year's archive: generated once into var/, owner-only."""
    path = var_dir / SIGNING_KEY
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        # O_EXCL: two commands starting at once must not write two different keys.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise RuntimeError(f"{path} must hold an Ed25519 private key")
    return key
