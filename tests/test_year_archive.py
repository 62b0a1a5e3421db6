"""`year archive` and `archive verify`: the year's journal copies, summary sheets and export, signed and checkable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.base import signed_manifest
from app.base.extensions import db
from app.base.models import OpLog
from tests.live import new_client, recent_day
from tests.school import build_tiny_school, lesson_fields


@pytest.fixture
def school(app):
    """The tiny school with one lesson, a mark and an absence synced from a classroom machine."""
    ids = build_tiny_school()
    machine = new_client(app, Path(app.config["VAR_DIR"]) / "client.db")
    assert machine.sync().ok
    lesson, fields = lesson_fields(ids, day=recent_day())
    machine.record("lesson", fields, author=ids["t_petrova"])
    machine.record("mark", {"lesson": lesson, "student": ids["st_ivanova"], "value": "5", "work_type": "oral"},
                   author=ids["t_petrova"])
    machine.record("attendance", {"lesson": lesson, "student": ids["st_smirnov"], "status": "ill"},
                   author=ids["t_petrova"])
    assert machine.sync().ok
    machine.close()
    return ids


@pytest.fixture
def archive(school, runner, tmp_path):
    """The year's archive, written once for the tests below."""
    result = runner.invoke(args=["year", "archive", str(tmp_path / "archive")])
    assert result.exit_code == 0, result.output
    return tmp_path / "archive" / "archive-2026-2027"


def test_the_archive_holds_both_pdfs_per_class_and_the_whole_year_as_json(archive, school, runner):
    manifest = json.loads((archive / "manifest.json").read_text(encoding="utf-8"))
    listed = sorted(f["path"] for f in manifest["files"])
    assert listed == ["README.txt", "classes/1А/journal.pdf", "classes/1А/summary.pdf", "classes/7А/journal.pdf",
                      "classes/7А/summary.pdf", "signed_manifest.py", "year.json"]
    for name in listed:
        if name.endswith(".pdf"):
            assert (archive / name).read_bytes().startswith(b"%PDF-")
    export = json.loads((archive / "year.json").read_text(encoding="utf-8"))
    tables = export["tables"]
    assert [m["value"] for m in tables["mark"]] == ["5"]
    assert [a["status"] for a in tables["attendance"]] == ["ill"]
    assert len(tables["lesson"]) == 1
    assert {s["last_name"] for s in tables["student"]} == {"Иванова", "Смирнов", "Белова"}
    assert len(tables["op_log"]) == db.session.query(OpLog).count() == 3
    assert manifest["rows"]["op_log"] == 3
    assert manifest["year"] == "2026-2027"
    again = runner.invoke(args=["year", "archive", str(archive.parent)])
    assert again.exit_code == 1
    assert "уже есть" in again.output  # an archive is written once


def test_archive_verify_accepts_the_archive_and_names_a_changed_or_missing_file(archive, runner, tmp_path):
    result = runner.invoke(args=["archive", "verify", str(archive)])
    assert result.exit_code == 0, result.output
    assert "Подпись верна" in result.output
    printed = runner.invoke(args=["backup", "public-key"]).output
    key_file = tmp_path / "key.pem"
    key_file.write_text(printed[printed.index("-----BEGIN"):], encoding="utf-8")
    # The archive carries its own verifier; run it isolated from this repository, as on another machine.
    done = subprocess.run([sys.executable, "-I", str(archive / "signed_manifest.py"), str(archive), str(key_file)],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    other = tmp_path / "other.pem"
    other.write_text(signed_manifest.public_pem(Ed25519PrivateKey.generate().public_key()), encoding="utf-8")
    done = subprocess.run([sys.executable, "-I", str(archive / "signed_manifest.py"), str(archive), str(other)],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "подпись сделана другим ключом" in done.stdout
    (archive / "classes" / "7А" / "summary.pdf").unlink()
    data = bytearray((archive / "year.json").read_bytes())
    data[10] ^= 0x20
    (archive / "year.json").write_bytes(bytes(data))
    result = runner.invoke(args=["archive", "verify", str(archive)])
    assert result.exit_code == 1
    assert "нет файла classes/7А/summary.pdf" in result.output
    assert "файл year.json: контрольная сумма SHA-256 не совпадает" in result.output
