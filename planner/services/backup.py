"""Backups of the whole database: SQLite through its online backup API, PostgreSQL through pg_dump/pg_restore.

A restore replaces everything; it first checks that the file is a backup of this application (it has the
Alembic version table), so a wrong file is refused before anything is touched.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


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
        with sqlite3.connect(source) as src, sqlite3.connect(partial) as dst:
            src.backup(dst)  # SQLite's online backup: a consistent snapshot even with writers
        partial.replace(target)
        return target
    if backend == "postgresql":
        args, env = _pg_args(url)
        run = subprocess.run([_require("pg_dump"), "-Fc", "--no-owner", "-f", str(target), *args], env=env,
                             capture_output=True, text=True)
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
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return
    if backend == "postgresql":
        args, env = _pg_args(url)
        listing = subprocess.run([_require("pg_restore"), "--list", str(source)], capture_output=True, text=True)
        if listing.returncode != 0 or "alembic_version" not in listing.stdout:
            raise BackupError(f"{source} はこのアプリケーションの pg_dump バックアップではありません")
        run = subprocess.run([_require("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
                              *args, str(source)], env=env, capture_output=True, text=True)
        if run.returncode != 0:
            raise BackupError(f"pg_restore が失敗しました: {run.stderr.strip()}")
        return
    raise BackupError(f"未対応のデータベースです: {backend}")


def _check_sqlite_backup(path: Path) -> None:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{path} は SQLite のデータベースではありません ({e})") from e
    if "alembic_version" not in tables:
        raise BackupError(f"{path} はこのアプリケーションのバックアップではありません (alembic_version がありません)")
