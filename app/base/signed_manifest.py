"""A folder's signed manifest: the size and SHA-256 of every file, signed with the hub's Ed25519 key.

Used by backups and by the year's archive. This module needs only the standard library and
`cryptography`, so that a copy of this one file checks an archive years later on any machine, without
the hub:

    python3 signed_manifest.py /media/usb/archive-2026-2027 tetrad-public-key.pem

Layout of a signed folder:
    manifest.json   {"format": "tetrad-manifest", "version": 1, "kind": …, "key": fingerprint,
                     "files": [{"path", "size", "sha256"}, …], …}  (UTF-8, sorted keys)
    manifest.sig    the Ed25519 signature of manifest.json's exact bytes, base64, one line
and the files it lists (paths relative to the folder, `/`-separated).

`problems()` answers in Russian, one sentence per thing wrong; an empty list means the folder is whole.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import sys
from pathlib import Path, PurePosixPath
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FORMAT = "tetrad-manifest"


def fingerprint(key: Ed25519PublicKey) -> str:
    """A short, printable name of a public key: the first 16 bytes of the SHA-256 of its raw form, in hex pairs."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()[:32]
    return ":".join(digest[i:i + 4] for i in range(0, 32, 4))


def public_pem(key: Ed25519PublicKey) -> str:
    """The public key as PEM text, for the archive's paper file and for `verify`."""
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public(pem: bytes) -> Ed25519PublicKey:
    """A public key from PEM text; ValueError (in Russian) when it is not an Ed25519 public key."""
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        raise ValueError("файл открытого ключа не читается (ожидался PEM-файл «PUBLIC KEY»).") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("открытый ключ не Ed25519.")
    return key


def sha256_of(path: Path) -> str:
    """The file's SHA-256 as hex, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sign(folder: Path, paths: list[str], key: Ed25519PrivateKey, **fields: Any) -> dict[str, Any]:
    """Write manifest.json (every listed file's size and SHA-256, plus `fields`) and manifest.sig; return it."""
    files = []
    for rel in sorted(paths):
        path = folder / rel
        files.append({"path": rel, "size": path.stat().st_size, "sha256": sha256_of(path)})
    manifest = {"format": FORMAT, "version": 1, "key": fingerprint(key.public_key()), **fields, "files": files}
    data = (json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()
    _write_private(folder / MANIFEST, data)
    _write_private(folder / SIGNATURE, base64.b64encode(key.sign(data)) + b"\n")
    return manifest


def read(folder: Path) -> dict[str, Any]:
    """The manifest as written (unchecked); ValueError (in Russian) when there is none or it is not JSON."""
    try:
        value = json.loads((folder / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise ValueError(f"в папке {folder} нет файла {MANIFEST}: это не подписанная копия Tetrad.") from None
    except ValueError:
        raise ValueError(f"файл {MANIFEST} повреждён: это не JSON.") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise ValueError(f"файл {MANIFEST} не является описью Tetrad.")
    return value


def problems(folder: Path, keys: list[Ed25519PublicKey]) -> list[str]:
    """Everything wrong with a signed folder, in Russian: the signature first, then each file."""
    if not folder.is_dir():
        return [f"папка {folder} не найдена."]
    try:
        manifest = read(folder)
    except ValueError as exc:
        return [str(exc)]
    found = _signature_problem(folder, keys, manifest)
    found += _file_problems(folder, manifest)
    return found


def _signature_problem(folder: Path, keys: list[Ed25519PublicKey], manifest: dict[str, Any]) -> list[str]:
    try:
        signature = base64.b64decode((folder / SIGNATURE).read_bytes().strip(), validate=True)
    except FileNotFoundError:
        return [f"нет файла подписи {SIGNATURE}: подлинность описи не подтвердить."]
    except (binascii.Error, ValueError):
        return [f"файл подписи {SIGNATURE} повреждён."]
    data = (folder / MANIFEST).read_bytes()
    for key in keys:
        try:
            key.verify(signature, data)
            return []
        except InvalidSignature:
            continue
    signed_by = manifest.get("key")
    if signed_by and signed_by not in {fingerprint(k) for k in keys}:
        return [f"подпись сделана другим ключом ({signed_by}), а не ключом {', '.join(fingerprint(k) for k in keys)}: "
                "копия не с этого сервера или подменена."]
    return ["подпись описи неверна: опись изменена после подписи (или подпись подменена)."]


def _file_problems(folder: Path, manifest: dict[str, Any]) -> list[str]:
    found: list[str] = []
    files = manifest.get("files")
    if not isinstance(files, list):
        return [f"в описи {MANIFEST} нет списка файлов."]
    listed = set()
    for entry in files:
        rel = str(entry.get("path", "")) if isinstance(entry, dict) else ""
        parts = PurePosixPath(rel).parts
        if not rel or rel.startswith("/") or ".." in parts:
            found.append(f"в описи недопустимое имя файла {rel!r}.")
            continue
        listed.add(rel)
        path = folder.joinpath(*parts)
        if not path.is_file():
            found.append(f"нет файла {rel}, указанного в описи.")
        elif path.stat().st_size != entry.get("size"):
            found.append(f"файл {rel}: размер {path.stat().st_size} байт, а в описи {entry.get('size')}: "
                         "файл изменён или скопирован не полностью.")
        elif sha256_of(path) != entry.get("sha256"):
            found.append(f"файл {rel}: контрольная сумма SHA-256 не совпадает с описью: файл изменён или повреждён.")
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in listed and rel not in (MANIFEST, SIGNATURE):
            found.append(f"файл {rel} не указан в описи: его добавили позже.")
    return found


def _write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, through a temporary name."""
    tmp = path.with_name(path.name + ".partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    """`python3 signed_manifest.py FOLDER PUBLIC_KEY.pem`: exit 0 when the folder is whole and signed by that key."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("Использование: python3 signed_manifest.py ПАПКА ОТКРЫТЫЙ_КЛЮЧ.pem", file=sys.stderr)
        return 2
    try:
        key = load_public(Path(args[1]).read_bytes())
    except (OSError, ValueError) as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 2
    found = problems(Path(args[0]), [key])
    for line in found:
        print(f"Ошибка: {line}")
    if not found:
        print(f"Подпись верна (ключ {fingerprint(key)}), все файлы совпадают с описью.")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
