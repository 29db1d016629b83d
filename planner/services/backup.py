"""Backups of the whole database: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore.

A restore replaces everything; it first checks that the file is a backup of this application (it has the
Alembic version table) and, for SQLite, that it passes SQLite's integrity check, so a wrong or damaged file is
refused before anything is touched. After a restore every account's session generation is raised above anything
issued before (the restored values are older), so no session cookie survives a restore: sessions that ended after
the backup are not revived. Backup files are readable by their owner only (0600): they hold password hashes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from planner.db.session import make_engine


class BackupError(RuntimeError):
    pass


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("メモリ上の SQLite データベースはバックアップできません")
    return Path(database)


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["-h", u.host or "127.0.0.1", "-p", str(u.port or 5432), "-d", u.database or ""]
    if u.username:
        args += ["-U", u.username]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return args, env


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(f"{tool} が見つかりません (PostgreSQL のクライアント postgresql-client を入れてください)")
    return path


def backup(url: str, target: Path) -> Path:
    """Write a consistent copy of the database at ``url`` to ``target`` while the application keeps running."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"データベース {source} がありません")
        partial = target.with_suffix(target.suffix + ".partial")
        _create_private(partial)
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)  # SQLite's online backup: a consistent snapshot even with writers
        partial.replace(target)
        return target
    if backend == "postgresql":
        args, env = _pg_args(url)
        _create_private(target)
        run = subprocess.run(
            [_require("pg_dump"), "-Fc", "--no-owner", "-f", str(target), *args],
            env=env,
            capture_output=True,
            text=True,
        )
        target.chmod(0o600)
        if run.returncode != 0:
            raise BackupError(f"pg_dump が失敗しました: {run.stderr.strip()}")
        return target
    raise BackupError(f"未対応のデータベースです: {backend}")


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the backup in ``source``."""
    source = Path(source)
    if not source.exists():
        raise BackupError(f"バックアップファイル {source} がありません")
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        _check_sqlite_backup(source)
        target = _sqlite_path(url)
        live = _session_generations(url)
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
        _end_all_sessions(url, live)
        return
    if backend == "postgresql":
        args, env = _pg_args(url)
        listing = subprocess.run([_require("pg_restore"), "--list", str(source)], capture_output=True, text=True)
        if listing.returncode != 0 or "alembic_version" not in listing.stdout:
            raise BackupError(f"{source} はこのアプリケーションの pg_dump バックアップではありません")
        live = _session_generations(url)
        run = subprocess.run(
            [
                _require("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *args,
                str(source),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise BackupError(f"pg_restore が失敗しました: {run.stderr.strip()}")
        _end_all_sessions(url, live)
        return
    raise BackupError(f"未対応のデータベースです: {backend}")


def _create_private(path: Path) -> None:
    """An empty file only its owner can read, for the backup to be written into (it holds password hashes)."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600))
    path.chmod(0o600)  # whatever the umask


def _session_generations(url: str) -> dict[int, int]:
    """Every account's current session generation in the database about to be replaced ({} if unreadable)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, session_generation FROM app_user"))
            return {int(r[0]): int(r[1] or 0) for r in rows}  # by index: a text query's columns are untyped
    except SQLAlchemyError:
        return {}
    finally:
        engine.dispose()


def _end_all_sessions(url: str, live: dict[int, int]) -> None:
    """Raise every restored account's generation above both its restored value and the value it had just before
    the restore: every cookie ever issued (before or after the backup was taken) is then refused."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT id, session_generation FROM app_user"))
            restored = {int(r[0]): int(r[1] or 0) for r in rows}
            for user_id, generation in restored.items():
                conn.execute(
                    text("UPDATE app_user SET session_generation = :g WHERE id = :id"),
                    {"g": max(generation, live.get(user_id, 0)) + 1, "id": user_id},
                )
    except SQLAlchemyError as e:
        raise BackupError(
            f"復元しましたが、ログイン中のセッションを終了できませんでした（{e}）。"
            "全利用者のパスワードを再設定してください"
        ) from e
    finally:
        engine.dispose()


def _check_sqlite_backup(path: Path) -> None:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "alembic_version" not in tables:
                raise BackupError(
                    f"{path} はこのアプリケーションのバックアップではありません (alembic_version がありません)"
                )
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as e:
        raise BackupError(
            f"{path} は壊れているか、SQLite のデータベースではありません ({e})。復元しませんでした"
        ) from e
    if problems != ["ok"]:
        raise BackupError(
            f"{path} は壊れています（SQLite の整合性検査: {'; '.join(problems[:3])}）。復元しませんでした"
        )
