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
    if make_url(url).get_backend_name() == "postgresql" and not (
        shutil.which("pg_dump") and shutil.which("pg_restore")
    ):
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
    with pytest.raises(BackupError, match=r"missing.data"):
        restore(db_url, tmp_path / "missing.data")


# --- issue #13, point 8 -------------------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_a_corrupted_sqlite_backup_is_refused_and_nothing_changes(migrated_engine, db_url, tmp_path):
    import sqlite3

    _add_body(migrated_engine, "204820", "小谷村")
    saved = backup(db_url, tmp_path / "backup.data")
    with sqlite3.connect(saved) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'body'").fetchone()[0]
    data = bytearray(saved.read_bytes())
    data[(root - 1) * page_size + 8 : (root - 1) * page_size + 200] = b"\xff" * 192  # the body table's page, damaged
    saved.write_bytes(bytes(data))
    _add_body(migrated_engine, "202011", "長野市")
    migrated_engine.dispose()

    with pytest.raises(BackupError, match=r"壊れています|壊れているか"):
        restore(db_url, saved)

    assert _names(migrated_engine) == ["小谷村", "長野市"]


def test_a_restore_ends_every_session_including_those_ended_after_the_backup(migrated_engine, db_url, tmp_path):
    from planner.db.models import User
    from planner.services.users import create_user, end_sessions

    _needs_tools(db_url)
    with Session(migrated_engine) as session:
        user = create_user(session, "restore-check", "password-123", "admin")
        session.commit()
        user_id, at_backup = user.id, user.session_generation
    saved = backup(db_url, tmp_path / "backup.data")
    with Session(migrated_engine) as session:  # after the backup: logged out twice (cookies at_backup, +1 ended)
        user = session.get(User, user_id)
        end_sessions(user)
        end_sessions(user)
        session.commit()
    migrated_engine.dispose()

    restore(db_url, saved)

    with Session(migrated_engine) as session:
        assert session.get(User, user_id).session_generation > at_backup + 2  # no cookie ever issued matches


def test_backup_files_are_readable_by_their_owner_only(migrated_engine, db_url, tmp_path):
    import os

    _needs_tools(db_url)
    old = os.umask(0o022)
    try:
        saved = backup(db_url, tmp_path / "backup.data")
    finally:
        os.umask(old)
    assert saved.stat().st_mode & 0o777 == 0o600
