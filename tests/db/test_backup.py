"""`planner backup` / `planner restore`: a round trip gives back exactly what was saved; a wrong file is refused."""
from __future__ import annotations

import shutil

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from planner.db.models import Body
from planner.services.backup import BackupError, backup, restore


def _add_body(engine, code: str, name: str) -> None:
    with Session(engine) as session:
        session.add(Body(code=code, name=name, prefecture_code=code[:2], kind="town", lat=36.0, lng=138.0))
        session.commit()


def _names(engine) -> list[str]:
    with Session(engine) as session:
        return sorted(b.name for b in session.exec(select(Body)))


def _needs_tools(url: str) -> None:
    if make_url(url).get_backend_name() == "postgresql" and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump / pg_restore are not installed")


def test_round_trip_restores_the_saved_state(migrated_engine, db_url, tmp_path):
    _needs_tools(db_url)
    _add_body(migrated_engine, "204820", "小谷村")
    saved = backup(db_url, tmp_path / "backup.data")
    _add_body(migrated_engine, "202011", "長野市")  # written after the backup: gone after the restore
    migrated_engine.dispose()

    restore(db_url, saved)

    assert _names(migrated_engine) == ["小谷村"]


def test_cli_round_trip(migrated_engine, db_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from planner.cli import main

    _needs_tools(db_url)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PLANNER_INSTANCE_PATH", str(tmp_path / "instance"))
    _add_body(migrated_engine, "204820", "小谷村")
    target = tmp_path / "cli-backup.data"
    runner = CliRunner()
    result = runner.invoke(main, ["backup", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and "バックアップしました" in result.output
    _add_body(migrated_engine, "202011", "長野市")
    migrated_engine.dispose()

    result = runner.invoke(main, ["restore", str(target), "--yes"])

    assert result.exit_code == 0, result.output
    assert _names(migrated_engine) == ["小谷村"]


def test_a_file_that_is_not_a_backup_is_refused_and_nothing_changes(migrated_engine, db_url, tmp_path):
    _needs_tools(db_url)
    _add_body(migrated_engine, "204820", "小谷村")
    bogus = tmp_path / "not-a-backup.data"
    bogus.write_bytes(b"this is not a database")

    with pytest.raises(BackupError) as e:
        restore(db_url, bogus)

    assert "not-a-backup.data" in str(e.value)
    assert _names(migrated_engine) == ["小谷村"]


def test_missing_backup_file_is_named(db_url, tmp_path):
    with pytest.raises(BackupError, match="missing.data"):
        restore(db_url, tmp_path / "missing.data")
